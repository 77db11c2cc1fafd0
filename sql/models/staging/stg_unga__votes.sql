-- grain: one row per roll call, voting country and staged unga_votes snapshot (every snapshot in the lake)
with source as (
    select * from {{ ref('unga_votes') }}
),

renamed as (
    select
        cast(rcid as bigint) as rcid,
        country_iso2,
        country_code_raw,
        cast(vote_code as integer) as vote_code,
        source,
        cast(snapshot_date as date) as snapshot_date,
        raw_sha256,
        raw_file
    from source
)

select * from renamed
