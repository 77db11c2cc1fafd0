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

-- a piece of evidence counts from its date on, so each counted key (a designation, or an edge) is in
-- force at a period's end when its earliest evidence on the side is dated before it: the counts in
-- force are running counts over the keys' first dates, read at each period's end (no join of every
-- period with every piece of evidence)
sanction_keys as (
    select
        country_a,
        country_b,
        side,
        case
            when component = 'linked_to_both' then 'linked_to_both'
            when component in ('a_under_b_programs', 'b_under_a_programs') then 'cross_program'
            when component = 'relation_edge' then 'relation_edge'
        end as counted,
        case when component = 'relation_edge' then edge_key else designation_id end as count_key,
        min(evidence_date) as first_date
    from sanction_sides
    where evidence_date is not null
    group by all
),

sanction_firsts as (
    select
        country_a,
        country_b,
        side,
        first_date,
        count(count_key) filter (where counted = 'linked_to_both') as linked_to_both,
        count(count_key) filter (where counted = 'cross_program') as cross_program,
        count(count_key) filter (where counted = 'relation_edge') as relation_edges
    from sanction_keys
    group by all
),

sanction_running as (
    select
        country_a,
        country_b,
        side,
        first_date,
        cast(sum(linked_to_both) over side_dates as bigint) as sanctions_linked_to_both,
        cast(sum(cross_program) over side_dates as bigint) as sanctions_cross_program,
        cast(sum(relation_edges) over side_dates as bigint) as sanctions_relation_edges
    from sanction_firsts
    window side_dates as (
        partition by country_a, country_b, side order by first_date
        rows between unbounded preceding and current row
    )
),

sanction_sides_first as (
    select
        country_a,
        country_b,
        side,
        min(first_date) as first_date
    from sanction_firsts
    group by all
),

-- the periods of each pair and side that end after its first piece of evidence
sanction_periods as (
    select
        coverage.period_type,
        coverage.period_start,
        coverage.period_end,
        sides.country_a,
        sides.country_b,
        sides.side
    from coverage
    inner join sanction_sides_first as sides
        on coverage.period_end > sides.first_date
),

sanctions_in_force as (
    select
        sanction_periods.period_type,
        sanction_periods.period_start,
        sanction_periods.country_a,
        sanction_periods.country_b,
        sanction_periods.side,
        sanction_running.sanctions_linked_to_both,
        sanction_running.sanctions_cross_program,
        sanction_running.sanctions_relation_edges
    from sanction_periods
    asof inner join sanction_running
        on
            sanction_periods.country_a = sanction_running.country_a
            and sanction_periods.country_b = sanction_running.country_b
            and sanction_periods.side = sanction_running.side
            and sanction_periods.period_end > sanction_running.first_date
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
