-- grain: one row per period of int_tie_coverage, unordered country pair (country_a < country_b) and
-- side with evidence in it: side 'both' is the pair (every event of the pair, directed or mutual, and
-- its sanctions co-exposure), 'a_to_b' and 'b_to_a' one direction (the directed events from one
-- country to the other, and the first country's entities listed under programmes targeting the
-- second). The one definition of the tie components both tie marts read (mart_dyad_ties takes
-- 'both', mart_dyad_ties_directed the two directions): events summed over the period from
-- mart_dyad_events_monthly (all realized unless named otherwise), sanctions co-exposure in force at
-- the period's end (evidence dated before it, int_dyad_sanctions_evidence). Counts are null where
-- the pair has no evidence of that kind in the period; the marts turn that into a zero where the
-- source covers the period (int_tie_coverage).
with events_monthly as (
    select * from {{ ref('mart_dyad_events_monthly') }}
),

sanctions as (
    select * from {{ ref('int_dyad_sanctions_evidence') }}
),

coverage as (
    select * from {{ ref('int_tie_coverage') }}
),

period_types as (
    select period_type from (values ('year'), ('month')) as period_types (period_type)
),

event_rows as (
    select
        period_types.period_type,
        cast(date_trunc(period_types.period_type, events_monthly.month) as date) as period_start,
        events_monthly.*
    from events_monthly
    cross join period_types
),

event_periods as (
    select
        period_type,
        period_start,
        country_a,
        country_b,
        direction as side,
        sum(events) filter (where source = 'all') as events,
        sum(realized_events) filter (where source = 'all') as realized_events,
        sum(planned_events) filter (where source = 'all') as planned_events,
        sum(alleged_events) filter (where source = 'all') as alleged_events,
        sum(denied_events) filter (where source = 'all') as denied_events,
        sum(realized_events) filter (where source = 'article') as article_realized_events,
        sum(realized_events) filter (where source = 'gdelt') as gdelt_realized_events,
        sum(arms_transfer_events) filter (where source = 'all') as arms_transfer_events,
        sum(military_cooperation_events) filter (where source = 'all') as military_cooperation_events,
        sum(technology_transfer_events) filter (where source = 'all') as technology_transfer_events,
        sum(financial_integration_events) filter (where source = 'all') as financial_integration_events,
        sum(economic_cooperation_events) filter (where source = 'all') as economic_cooperation_events,
        sum(energy_cooperation_events) filter (where source = 'all') as energy_cooperation_events,
        sum(agreement_events) filter (where source = 'all') as agreement_events,
        sum(diplomatic_support_events) filter (where source = 'all') as diplomatic_support_events,
        sum(sanctions_events) filter (where source = 'all') as sanctions_events,
        sum(criticism_events) filter (where source = 'all') as criticism_events,
        sum(threat_events) filter (where source = 'all') as threat_events,
        sum(use_of_force_events) filter (where source = 'all') as use_of_force_events,
        sum(cooperation) filter (where source = 'all') as events_cooperation,
        sum(conflict) filter (where source = 'all') as events_conflict
    from event_rows
    group by all
),

-- every piece of sanctions evidence on the side(s) it belongs to
sanction_sides as (
    select
        'both' as side,
        *
    from sanctions
    union all
    select
        case when component = 'a_under_b_programs' then 'a_to_b' else 'b_to_a' end as side,
        *
    from sanctions
    where component in ('a_under_b_programs', 'b_under_a_programs')
),

sanctions_in_force as (
    select
        coverage.period_type,
        coverage.period_start,
        sanction_sides.country_a,
        sanction_sides.country_b,
        sanction_sides.side,
        count(distinct sanction_sides.designation_id) filter (
            where sanction_sides.component = 'linked_to_both'
        ) as sanctions_linked_to_both,
        count(distinct sanction_sides.designation_id) filter (
            where sanction_sides.component in ('a_under_b_programs', 'b_under_a_programs')
        ) as sanctions_cross_program,
        count(distinct sanction_sides.edge_key) filter (
            where sanction_sides.component = 'relation_edge'
        ) as sanctions_relation_edges
    from coverage
    inner join sanction_sides
        on coverage.period_end > sanction_sides.evidence_date
    group by all
),

final as (
    select
        period_type,
        period_start,
        country_a,
        country_b,
        side,
        event_periods.* exclude (period_type, period_start, country_a, country_b, side),
        case when side = 'both' then sanctions_in_force.sanctions_linked_to_both end as sanctions_linked_to_both,
        sanctions_in_force.sanctions_cross_program,
        case when side = 'both' then sanctions_in_force.sanctions_relation_edges end as sanctions_relation_edges
    from event_periods
    full outer join sanctions_in_force using (period_type, period_start, country_a, country_b, side)
)

select * from final
