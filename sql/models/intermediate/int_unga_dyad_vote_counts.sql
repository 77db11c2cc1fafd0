-- grain: one row per period (session or year), unordered country pair (country_a < country_b) and pair of votes
-- (vote_a, vote_b in 1 yes, 2 abstain, 3 no): the number of contested roll calls on which the pair voted so;
-- this 3 x 3 table per pair and period holds everything the agreement scores need (the dyad-vote rows
-- themselves are never materialised: about 18,000 pairs per roll call)
with votes as (
    select * from {{ ref('int_unga_votes') }}
),

country_votes as (
    select
        rcid,
        session,
        vote_year,
        country_iso2,
        vote_code
    from votes
    where
        is_contested
        and country_iso2 is not null
        and vote_code between 1 and 3
),

pairs as (
    select
        a.session,
        a.vote_year,
        a.country_iso2 as country_a,
        b.country_iso2 as country_b,
        a.vote_code as vote_a,
        b.vote_code as vote_b
    from country_votes as a
    inner join country_votes as b
        on
            a.rcid = b.rcid
            and a.country_iso2 < b.country_iso2
),

counted as (
    select
        case when grouping(session) = 0 then 'session' else 'year' end as period_type,
        case when grouping(session) = 0 then session else vote_year end as period,
        country_a,
        country_b,
        vote_a,
        vote_b,
        count(*) as roll_calls
    from pairs
    group by grouping sets (
        (session, country_a, country_b, vote_a, vote_b),
        (vote_year, country_a, country_b, vote_a, vote_b)
    )
),

final as (
    select * from counted
)

select * from final
