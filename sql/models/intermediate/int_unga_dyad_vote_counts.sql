-- grain: one row per period (session or year), unordered country pair (country_a < country_b) and pair of votes
-- (vote_a, vote_b in 1 yes, 2 abstain, 3 no): the number of contested roll calls on which the pair voted so;
-- this 3 x 3 table per pair and period holds everything the agreement scores need (the dyad-vote rows
-- themselves are never materialised: about 18,000 pairs per roll call)
--
-- counted with bitsets, not by joining the votes of each roll call: within a period the roll calls are numbered
-- 0, 1, 2, ...; each country's yes (abstain, no) votes of the period are bits of 64-bit words (roll call k is
-- bit k % 64 of word k // 64), and the roll calls on which country_a voted x and country_b voted y are the bits
-- set in both words: a pair costs one AND and a bit count per word and pair of votes instead of one row per roll
-- call (a country votes at most once per roll call in int_unga_votes, so a bit is a vote)
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

-- the contested roll calls (a roll call has one session and one date)
rollcalls as (
    select distinct
        rcid,
        session,
        vote_year
    from country_votes
),

-- each roll call's number within its session and within its year
rollcall_numbers as (
    select
        rcid,
        session,
        vote_year,
        row_number() over (partition by session order by rcid) - 1 as session_number,
        row_number() over (partition by vote_year order by rcid) - 1 as year_number
    from rollcalls
),

period_votes as (
    select
        'session' as period_type,
        rollcall_numbers.session as period,
        rollcall_numbers.session_number as rollcall_number,
        country_votes.country_iso2,
        country_votes.vote_code
    from country_votes
    inner join rollcall_numbers on country_votes.rcid = rollcall_numbers.rcid
    union all
    select
        'year' as period_type,
        rollcall_numbers.vote_year as period,
        rollcall_numbers.year_number as rollcall_number,
        country_votes.country_iso2,
        country_votes.vote_code
    from country_votes
    inner join rollcall_numbers on country_votes.rcid = rollcall_numbers.rcid
),

vote_words as (
    select
        period_type,
        period,
        rollcall_number // 64 as word,
        country_iso2,
        vote_code,
        bit_or(cast(1 as ubigint) << cast(rollcall_number % 64 as ubigint)) as rollcalls
    from period_votes
    group by period_type, period, rollcall_number // 64, country_iso2, vote_code
),

pairs as (
    select
        a.period_type,
        a.period,
        a.country_iso2 as country_a,
        b.country_iso2 as country_b,
        a.vote_code as vote_a,
        b.vote_code as vote_b,
        cast(bit_count(a.rollcalls & b.rollcalls) as bigint) as roll_calls
    from vote_words as a
    inner join vote_words as b
        on
            a.period_type = b.period_type
            and a.period = b.period
            and a.word = b.word
            and a.country_iso2 < b.country_iso2
),

counted as (
    select
        period_type,
        period,
        country_a,
        country_b,
        vote_a,
        vote_b,
        cast(sum(roll_calls) as bigint) as roll_calls
    from pairs
    group by period_type, period, country_a, country_b, vote_a, vote_b
    having sum(roll_calls) > 0
),

final as (
    select * from counted
)

select * from final
