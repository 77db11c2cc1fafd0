-- grain: one row per roll call and voting country over every staged snapshot, from the newest one holding the vote
-- UN votes are an archive: a snapshot without a country's vote leaves the older one in place
with votes as (
    select * from {{ ref('stg_unga__votes') }}
),

rollcalls as (
    select * from {{ ref('int_unga_rollcalls') }}
),

kept as (
    select *
    from votes
    qualify row_number() over (
        partition by rcid, coalesce(country_iso2, 'raw:' || country_code_raw)
        order by snapshot_date desc, raw_file desc
    ) = 1
),

final as (
    select
        kept.rcid,
        rollcalls.session,
        rollcalls.vote_year,
        rollcalls.vote_date,
        rollcalls.is_contested,
        kept.country_iso2,
        kept.country_code_raw,
        kept.vote_code,
        kept.source,
        kept.snapshot_date,
        kept.raw_file
    from kept
    inner join rollcalls on kept.rcid = rollcalls.rcid
)

select * from final
