-- grain: one row per roll call, taken from the newest staged snapshot that holds it, with its vote counts
-- a roll call is contested when its voters (yes, abstain or no, any country) did not all vote alike;
-- uncontested roll calls carry no information on alignment and are left out of the agreement scores
with rollcalls as (
    select * from {{ ref('stg_unga__rollcalls') }}
),

votes as (
    select * from {{ ref('stg_unga__votes') }}
),

newest as (
    select *
    from rollcalls
    qualify row_number() over (partition by rcid order by snapshot_date desc, source desc) = 1
),

tallied as (
    select
        votes.rcid,
        count(*) filter (where votes.vote_code = 1) as yes_votes,
        count(*) filter (where votes.vote_code = 2) as abstain_votes,
        count(*) filter (where votes.vote_code = 3) as no_votes,
        count(*) filter (where votes.vote_code = 8) as absent,
        count(*) filter (where votes.vote_code = 9) as non_members,
        count(distinct votes.vote_code) filter (where votes.vote_code between 1 and 3) as distinct_votes
    from votes
    inner join newest
        on
            votes.rcid = newest.rcid
            and votes.source = newest.source
            and votes.snapshot_date = newest.snapshot_date
    group by votes.rcid
),

final as (
    select
        newest.rcid,
        newest.session,
        newest.vote_date,
        newest.vote_year,
        newest.unres,
        newest.short_title,
        newest.description,
        newest.importantvote,
        newest.amend,
        newest.para,
        newest.issues,
        coalesce(tallied.yes_votes, 0) as yes_votes,
        coalesce(tallied.abstain_votes, 0) as abstain_votes,
        coalesce(tallied.no_votes, 0) as no_votes,
        coalesce(tallied.absent, 0) as absent,
        coalesce(tallied.non_members, 0) as non_members,
        coalesce(tallied.distinct_votes, 0) > 1 as is_contested,
        newest.source,
        newest.snapshot_date,
        newest.raw_file
    from newest
    left join tallied on newest.rcid = tallied.rcid
)

select * from final
