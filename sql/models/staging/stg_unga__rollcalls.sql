-- grain: one row per roll call and staged unga_rollcalls snapshot (every snapshot in the lake)
with source as (
    select * from {{ ref('unga_rollcalls') }}
),

renamed as (
    select
        cast(rcid as bigint) as rcid,
        cast(session as integer) as session,
        cast(vote_date as date) as vote_date,
        cast(year(cast(vote_date as date)) as integer) as vote_year,
        unres,
        short_title,
        description,
        importantvote,
        amend,
        para,
        issues,
        source,
        cast(snapshot_date as date) as snapshot_date,
        raw_sha256,
        raw_file
    from source
)

select * from renamed
