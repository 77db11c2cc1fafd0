-- grain: one row per unordered country pair (country_a < country_b), period type ('year' or
-- 'month') and period, with every tie component on its own (events from articles and GDELT,
-- sanctions co-exposure in force at the period's end, UN General Assembly agreement for years)
-- and the composite tie index: the weighted mean, over the components the pair has in the
-- period, of each component standardized across the pairs that have it in that period
-- (z = (x - mean) / population sd; 0 when every pair has the same value); weights and
-- transforms are data (ref.tie_index_weights, pipeline/reference/tie_index_weights.csv)
with events_monthly as (
    select * from {{ ref('mart_dyad_events_monthly') }}
    where direction = 'both'
),

sanctions as (
    select * from {{ ref('int_dyad_sanctions_evidence') }}
),

unga as (
    select * from {{ ref('mart_unga_agreement') }}
    where period_type = 'year'
),

weights as (
    select
        component,
        cast(weight as double) as weight,
        transform
    from {{ ref('tie_index_weights') }}
),

countries as (
    select * from {{ ref('stg_ref__countries') }}
),

events_by_period as (
    select
        'month' as period_type,
        month as period_start,
        *
    from events_monthly
    union all
    select
        'year' as period_type,
        cast(date_trunc('year', month) as date) as period_start,
        *
    from events_monthly
),

event_periods as (
    select
        period_type,
        period_start,
        country_a,
        country_b,
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
    from events_by_period
    group by all
),

sanction_periods as (
    select distinct
        period_types.period_type,
        case
            when period_types.period_type = 'year' then cast(date_trunc('year', sanctions.evidence_date) as date)
            else cast(date_trunc('month', sanctions.evidence_date) as date)
        end as period_start,
        sanctions.country_a,
        sanctions.country_b
    from sanctions
    cross join (values ('year'), ('month')) as period_types (period_type)
),

unga_periods as (
    select
        'year' as period_type,
        make_date(cast(period as integer), 1, 1) as period_start,
        country_a,
        country_b,
        common_votes as unga_common_votes,
        agreement as unga_agreement,
        kappa as unga_kappa,
        s_score as unga_s_score
    from unga
),

grid as (
    select
        period_type,
        period_start,
        country_a,
        country_b
    from event_periods
    union
    select
        period_type,
        period_start,
        country_a,
        country_b
    from sanction_periods
    union
    select
        period_type,
        period_start,
        country_a,
        country_b
    from unga_periods
),

-- sanctions co-exposure in force at the end of each period of the grid
sanctions_in_force as (
    select
        grid.period_type,
        grid.period_start,
        grid.country_a,
        grid.country_b,
        count(distinct sanctions.designation_id) filter (
            where sanctions.component = 'linked_to_both'
        ) as sanctions_linked_to_both,
        count(distinct sanctions.designation_id) filter (
            where sanctions.component in ('a_under_b_programs', 'b_under_a_programs')
        ) as sanctions_cross_program,
        count(distinct sanctions.edge_key) filter (
            where sanctions.component = 'relation_edge'
        ) as sanctions_relation_edges
    from grid
    inner join sanctions
        on
            grid.country_a = sanctions.country_a
            and grid.country_b = sanctions.country_b
            and sanctions.evidence_date < {{ period_end('grid.period_type', 'grid.period_start') }}
    group by all
),

components as (
    select
        grid.period_type,
        grid.period_start,
        grid.country_a,
        grid.country_b,
        event_periods.* exclude (period_type, period_start, country_a, country_b),
        case
            when event_periods.events_cooperation + event_periods.events_conflict > 0
                then
                    (event_periods.events_cooperation - event_periods.events_conflict)
                    / (event_periods.events_cooperation + event_periods.events_conflict)
        end as events_net_cooperation,
        coalesce(sanctions_in_force.sanctions_linked_to_both, 0) as sanctions_linked_to_both,
        coalesce(sanctions_in_force.sanctions_cross_program, 0) as sanctions_cross_program,
        coalesce(sanctions_in_force.sanctions_relation_edges, 0) as sanctions_relation_edges,
        sanctions_in_force.period_start is not null as has_sanctions,
        unga_periods.unga_common_votes,
        unga_periods.unga_agreement,
        unga_periods.unga_kappa,
        unga_periods.unga_s_score
    from grid
    left join event_periods using (period_type, period_start, country_a, country_b)
    left join sanctions_in_force using (period_type, period_start, country_a, country_b)
    left join unga_periods using (period_type, period_start, country_a, country_b)
),

-- one row per pair, period and component the pair has (absent components stay out)
long as (
    select
        period_type,
        period_start,
        country_a,
        country_b,
        component,
        raw_value
    from components
    unpivot include nulls (
        raw_value for component in (
            events_cooperation,
            events_net_cooperation,
            sanctions_linked_to_both,
            sanctions_cross_program,
            sanctions_relation_edges,
            unga_agreement,
            unga_kappa
        )
    )
),

present as (
    select
        long.*,
        weights.weight,
        case weights.transform
            when 'log1p' then ln(1 + long.raw_value)
            else long.raw_value
        end as value
    from long
    inner join weights on long.component = weights.component
    inner join components using (period_type, period_start, country_a, country_b)
    where
        long.raw_value is not null
        and (not long.component like 'sanctions_%' or components.has_sanctions)
        and (not long.component like 'events_%' or components.events is not null)
),

standardized as (
    select
        *,
        coalesce(
            (value - avg(value) over period_component)
            -- a spread below 1e-12 is float noise around "every pair has the same value"
            / nullif(round(stddev_pop(value) over period_component, 12), 0),
            0
        ) as z
    from present
    window period_component as (partition by period_type, period_start, component)
),

indexed as (
    select
        period_type,
        period_start,
        country_a,
        country_b,
        -- rounded: a float sum's last digits depend on the order of summation, and ranks must not
        round(sum(weight * z) / nullif(sum(weight), 0), 9) as tie_index,
        count(*) as index_components,
        string_agg(component, ',' order by component) as index_component_list
    from standardized
    where weight > 0
    group by all
),

final as (
    select
        components.period_type,
        components.period_start,
        case
            when components.period_type = 'year' then strftime(components.period_start, '%Y')
            else strftime(components.period_start, '%Y-%m')
        end as period,
        components.country_a,
        components.country_b,
        coalesce(countries_a.country_name, components.country_a) as country_a_name,
        coalesce(countries_b.country_name, components.country_b) as country_b_name,
        components.* exclude (period_type, period_start, country_a, country_b, has_sanctions),  -- noqa: RF02
        indexed.tie_index,
        coalesce(indexed.index_components, 0) as index_components,
        indexed.index_component_list,
        case when indexed.tie_index is not null then dense_rank() over (
            partition by components.period_type, components.period_start, indexed.tie_index is null
            order by indexed.tie_index desc
        ) end as tie_rank
    from components
    left join indexed using (period_type, period_start, country_a, country_b)
    left join countries as countries_a on components.country_a = countries_a.country_iso2
    left join countries as countries_b on components.country_b = countries_b.country_iso2
)

select * from final
order by period_type, period_start, tie_rank nulls last, country_a, country_b
