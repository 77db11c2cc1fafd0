-- grain: one row per ordered country pair (from_country acted on to_country), period type
-- ('year' or 'month') and period with directed evidence: the directed side of mart_dyad_ties, where
-- direction matters (who supplies whom), from the same definition (int_dyad_tie_components, sides
-- 'a_to_b' and 'b_to_a'): realized events from the first country to the second by relation type,
-- their Goldstein-weighted cooperation and conflict, and the second country's programmes'
-- designations of entities tied to the first (in force at the period's end; null when the lists
-- do not cover the period, int_tie_coverage)
with components as (
    select * from {{ ref('int_dyad_tie_components') }}
    where side in ('a_to_b', 'b_to_a')
),

coverage as (
    select * from {{ ref('int_tie_coverage') }}
),

countries as (
    select * from {{ ref('stg_ref__countries') }}
),

oriented as (
    select
        components.*,
        case when components.side = 'a_to_b' then components.country_a else components.country_b end as from_country,
        case when components.side = 'a_to_b' then components.country_b else components.country_a end as to_country,
        coalesce(coverage.sanctions_as_of >= coverage.period_start, false) as sanctions_listed
    from components
    inner join coverage using (period_type, period_start)
),

final as (
    select
        oriented.period_type,
        oriented.period_start,
        case
            when oriented.period_type = 'year' then strftime(oriented.period_start, '%Y')
            else strftime(oriented.period_start, '%Y-%m')
        end as period,
        oriented.from_country,
        oriented.to_country,
        coalesce(from_names.country_name, oriented.from_country) as from_country_name,
        coalesce(to_names.country_name, oriented.to_country) as to_country_name,
        oriented.realized_events,
        oriented.planned_events,
        oriented.alleged_events,
        oriented.denied_events,
        oriented.arms_transfer_events,
        oriented.military_cooperation_events,
        oriented.technology_transfer_events,
        oriented.financial_integration_events,
        oriented.economic_cooperation_events,
        oriented.energy_cooperation_events,
        oriented.sanctions_events,
        oriented.threat_events,
        oriented.use_of_force_events,
        oriented.events_cooperation,
        oriented.events_conflict,
        {{ net_cooperation('oriented.events_cooperation', 'oriented.events_conflict') }} as events_net_cooperation,
        case
            when oriented.sanctions_listed then coalesce(oriented.sanctions_cross_program, 0)
        end as from_entities_under_to_programs
    from oriented
    left join countries as from_names on oriented.from_country = from_names.country_iso2
    left join countries as to_names on oriented.to_country = to_names.country_iso2
    where oriented.events is not null or (oriented.sanctions_listed and oriented.sanctions_cross_program > 0)
)

select * from final
order by period_type, period_start, from_country, to_country
