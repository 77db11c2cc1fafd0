-- grain: one row per piece of evidence behind a number of mart_dyad_ties, for an unordered
-- country pair (country_a < country_b): a designation (sanctions co-exposure), an event (a
-- quoted article sentence or a GDELT event) or a UN General Assembly roll call with the two
-- countries' votes (roll calls only for pairs that have sanctions or event evidence, or share a
-- bloc of ref.unga_blocs, since every pair of ~190 states on thousands of roll calls would be
-- ~100 million rows); evidence_date places it in mart_dyad_ties' year and month periods
with sanctions as (
    select * from {{ ref('int_dyad_sanctions_evidence') }}
),

events as (
    select * from {{ ref('int_events_all') }}
),

unga_votes as (
    select * from {{ ref('int_unga_votes') }}
),

rollcalls as (
    select * from {{ ref('int_unga_rollcalls') }}
),

blocs as (
    select * from {{ ref('stg_unga__blocs') }}
),

sanctions_evidence as (
    select
        'sanctions' as evidence_kind,
        component,
        country_a,
        country_b,
        evidence_date,
        'both' as direction,
        'realized' as modality,
        authority as source,
        designation_id as record_id,
        entity_key,
        primary_name as name,
        detail,
        cast(null as varchar) as url,
        cast(null as varchar) as quote,
        cast(null as bigint) as rcid,
        cast(null as tinyint) as vote_a,
        cast(null as tinyint) as vote_b
    from sanctions
),

event_evidence as (
    select
        'event' as evidence_kind,
        coalesce(relation_type, 'unclassified') as component,
        least(actor1_iso2, actor2_iso2) as country_a,
        greatest(actor1_iso2, actor2_iso2) as country_b,
        event_date as evidence_date,
        case
            when not directed then 'both'
            when actor1_iso2 < actor2_iso2 then 'a_to_b'
            else 'b_to_a'
        end as direction,
        modality,
        source,
        event_id as record_id,
        cast(null as varchar) as entity_key,
        -- a directed event names who acted on whom; a mutual (undirected) one names both, in pair order
        case
            when directed then actor1_iso2 || ' -> ' || actor2_iso2
            else least(actor1_iso2, actor2_iso2) || ' and ' || greatest(actor1_iso2, actor2_iso2) || ' (mutual)'
        end as name,
        'CAMEO ' || cameo_code || ', Goldstein ' || cast(goldstein as varchar) as detail,
        url,
        case when source = 'article' then evidence end as quote,
        cast(null as bigint) as rcid,
        cast(null as tinyint) as vote_a,
        cast(null as tinyint) as vote_b
    from events
),

bloc_pairs as (
    select distinct
        a.country_iso2 as country_a,
        b.country_iso2 as country_b
    from blocs as a
    inner join blocs as b
        on a.bloc = b.bloc and a.country_iso2 < b.country_iso2
),

pairs_of_interest as (
    select
        country_a,
        country_b
    from sanctions_evidence
    union
    select
        country_a,
        country_b
    from event_evidence
    union
    select
        country_a,
        country_b
    from bloc_pairs
),

vote_evidence as (
    select
        'unga_vote' as evidence_kind,
        'unga_vote' as component,
        pairs_of_interest.country_a,
        pairs_of_interest.country_b,
        a.vote_date as evidence_date,
        'both' as direction,
        'realized' as modality,
        'unga_votes' as source,
        cast(a.rcid as varchar) as record_id,
        cast(null as varchar) as entity_key,
        coalesce(rollcalls.unres, 'roll call ' || cast(a.rcid as varchar)) as name,
        coalesce(rollcalls.short_title, rollcalls.description) as detail,
        cast(null as varchar) as url,
        cast(null as varchar) as quote,
        a.rcid,
        a.vote_code as vote_a,
        b.vote_code as vote_b
    from pairs_of_interest
    inner join unga_votes as a
        on pairs_of_interest.country_a = a.country_iso2
    inner join unga_votes as b
        on
            pairs_of_interest.country_b = b.country_iso2
            and a.rcid = b.rcid
    left join rollcalls
        on a.rcid = rollcalls.rcid
    where
        a.is_contested
        and a.vote_code between 1 and 3
        and b.vote_code between 1 and 3
),

final as (
    select * from sanctions_evidence
    union all
    select * from event_evidence
    union all
    select * from vote_evidence
)

select
    *,
    cast(year(evidence_date) as integer) as period_year,
    cast(date_trunc('month', evidence_date) as date) as period_month
from final
order by country_a, country_b, evidence_kind, component, evidence_date, source, record_id, detail
