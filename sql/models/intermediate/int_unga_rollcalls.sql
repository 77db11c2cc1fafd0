-- grain: one row per roll call over every staged snapshot (UN votes are an archive), with its vote counts
-- a newer file adds roll calls and votes and never removes those it does not contain. Attributes: for each one,
-- the value of the newest snapshot that states it (a file that does not state one, such as Voeten's raw file
-- without titles, leaves it to the others); issues: every issue any snapshot gives it; votes: those
-- int_unga_votes keeps (per country, the newest snapshot that holds its vote).
-- a roll call is contested when its voters (yes, abstain or no, any country) did not all vote alike;
-- uncontested roll calls carry no information on alignment and are left out of the agreement scores
with rollcalls as (
    select * from {{ ref('stg_unga__rollcalls') }}
),

votes as (
    select * from {{ ref('stg_unga__votes') }}
),

merged as (
    select
        rcid,
        arg_max(session, (snapshot_date, raw_file)) filter (where session is not null) as session,
        arg_max(vote_date, (snapshot_date, raw_file)) filter (where vote_date is not null) as vote_date,
        arg_max(unres, (snapshot_date, raw_file)) filter (where unres is not null) as unres,
        arg_max(short_title, (snapshot_date, raw_file)) filter (where short_title is not null) as short_title,
        arg_max(description, (snapshot_date, raw_file)) filter (where description is not null) as description,
        arg_max(importantvote, (snapshot_date, raw_file)) filter (where importantvote is not null) as importantvote,
        arg_max(amend, (snapshot_date, raw_file)) filter (where amend is not null) as amend,
        arg_max(para, (snapshot_date, raw_file)) filter (where para is not null) as para,
        list_sort(list_distinct(flatten(list(issues)))) as issues,
        arg_max(source, (snapshot_date, raw_file)) as source,
        max(snapshot_date) as snapshot_date,
        arg_max(raw_file, (snapshot_date, raw_file)) as raw_file
    from rollcalls
    group by rcid
),

-- one vote per roll call and country: the newest snapshot that holds it (the same rule as int_unga_votes)
kept_votes as (
    select *
    from votes
    qualify row_number() over (
        partition by rcid, coalesce(country_iso2, 'raw:' || country_code_raw)
        order by snapshot_date desc, raw_file desc
    ) = 1
),

tallied as (
    select
        rcid,
        count(*) filter (where vote_code = 1) as yes_votes,
        count(*) filter (where vote_code = 2) as abstain_votes,
        count(*) filter (where vote_code = 3) as no_votes,
        count(*) filter (where vote_code = 8) as absent,
        count(*) filter (where vote_code = 9) as non_members,
        count(distinct vote_code) filter (where vote_code between 1 and 3) as distinct_votes
    from kept_votes
    group by rcid
),

final as (
    select
        merged.rcid,
        merged.session,
        merged.vote_date,
        cast(year(merged.vote_date) as integer) as vote_year,
        merged.unres,
        merged.short_title,
        merged.description,
        merged.importantvote,
        merged.amend,
        merged.para,
        merged.issues,
        coalesce(tallied.yes_votes, 0) as yes_votes,
        coalesce(tallied.abstain_votes, 0) as abstain_votes,
        coalesce(tallied.no_votes, 0) as no_votes,
        coalesce(tallied.absent, 0) as absent,
        coalesce(tallied.non_members, 0) as non_members,
        coalesce(tallied.distinct_votes, 0) > 1 as is_contested,
        merged.source,
        merged.snapshot_date,
        merged.raw_file
    from merged
    left join tallied on merged.rcid = tallied.rcid
)

select * from final
