-- grain: one row per roll call and voting country, from the snapshot int_unga_rollcalls took the roll call from
with votes as (
    select * from {{ ref('stg_unga__votes') }}
),

rollcalls as (
    select * from {{ ref('int_unga_rollcalls') }}
),

final as (
    select
        votes.rcid,
        rollcalls.session,
        rollcalls.vote_year,
        rollcalls.vote_date,
        rollcalls.is_contested,
        votes.country_iso2,
        votes.country_code_raw,
        votes.vote_code,
        votes.source,
        votes.snapshot_date,
        votes.raw_file
    from votes
    inner join rollcalls
        on
            votes.rcid = rollcalls.rcid
            and votes.source = rollcalls.source
            and votes.snapshot_date = rollcalls.snapshot_date
)

select * from final
