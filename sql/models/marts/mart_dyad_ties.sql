-- grain: one row per unordered country pair (country_a < country_b), period type ('year' or
-- 'month') and period, with every tie component on its own and the tie index (docs/tie_index.md).
-- A period has an index when an event source or the UN votes cover it (int_tie_coverage); then its
-- rows are every pair of states (pipeline/reference/countries.csv, kind 'state') and every other
-- pair with evidence in it, and a covered source covers every pair: no event or no designation is
-- a zero, a component whose source does not cover the period is null and out of the index for
-- every pair alike. Other periods keep the pairs with evidence, without an index. The index
-- (macros/tie_index.sql): per component the mid-rank percentile of the pair's value in the period
-- (robust to heavy tails, monotone), averaged with the weights of
-- pipeline/reference/tie_index_weights.csv; tie_rank is a competition rank among index_pairs
{%- set event_columns = [
    'events', 'realized_events', 'planned_events', 'alleged_events', 'denied_events', 'article_realized_events',
    'gdelt_realized_events', 'arms_transfer_events', 'military_cooperation_events', 'technology_transfer_events',
    'financial_integration_events', 'economic_cooperation_events', 'energy_cooperation_events', 'agreement_events',
    'diplomatic_support_events', 'sanctions_events', 'criticism_events', 'threat_events', 'use_of_force_events',
    'events_cooperation', 'events_conflict',
] %}
{%- set sanctions_columns = ['sanctions_linked_to_both', 'sanctions_cross_program', 'sanctions_relation_edges'] %}

with components as (
    select * from {{ ref('int_dyad_tie_components') }}
    where side = 'both'
),

coverage as (
    select * from {{ ref('int_tie_coverage') }}
),

unga as (
    select * from {{ ref('mart_unga_agreement') }}
    where period_type = 'year'
),

weights as (
    select * from {{ ref('tie_index_weights') }}
),

countries as (
    select * from {{ ref('stg_ref__countries') }}
),

states as (
    select country_iso2 from countries
    where kind = 'state'
),

unga_years as (
    select
        make_date(cast(period as integer), 1, 1) as period_start,
        count(agreement) as scored_pairs
    from unga
    group by all
),

periods as (
    select
        coverage.*,
        coverage.events_sources is not null as events_covered,
        coalesce(unga_years.scored_pairs, 0) > 0 as unga_covered,
        coalesce(coverage.sanctions_as_of >= coverage.period_start, false) as sanctions_listed
    from coverage
    left join unga_years
        on coverage.period_type = 'year' and coverage.period_start = unga_years.period_start
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

-- the pairs of a period: with an index, every pair of states and every pair with evidence
universe as (
    select
        periods.period_type,
        periods.period_start,
        a.country_iso2 as country_a,
        b.country_iso2 as country_b
    from periods
    cross join states as a
    inner join states as b on a.country_iso2 < b.country_iso2
    where periods.events_covered or periods.unga_covered
    union
    select
        period_type,
        period_start,
        country_a,
        country_b
    from components
    union
    select
        unga_periods.period_type,
        unga_periods.period_start,
        unga_periods.country_a,
        unga_periods.country_b
    from unga_periods
    inner join periods using (period_type, period_start)
),

assembled as (
    select
        universe.period_type,
        universe.period_start,
        universe.country_a,
        universe.country_b,
        {% for column in event_columns %}
            case
                when periods.events_covered then coalesce(components.{{ column }}, 0) else components.{{ column }}
            end as {{ column }},
        {% endfor %}
        {% for column in sanctions_columns %}
            case when periods.sanctions_listed then coalesce(components.{{ column }}, 0) end as {{ column }},
        {% endfor %}
        unga_periods.unga_common_votes,
        unga_periods.unga_agreement,
        unga_periods.unga_kappa,
        unga_periods.unga_s_score,
        periods.events_sources,
        periods.gdelt_days,
        periods.articles_read,
        case when periods.sanctions_listed then periods.sanctions_as_of end as sanctions_as_of,
        periods.unga_rollcalls,
        periods.events_covered,
        periods.sanctions_listed and (periods.events_covered or periods.unga_covered) as sanctions_covered,
        periods.unga_covered
    from universe
    inner join periods using (period_type, period_start)
    left join components using (period_type, period_start, country_a, country_b)
    left join unga_periods using (period_type, period_start, country_a, country_b)
),

with_net as (
    select
        *,
        {{ net_cooperation('events_cooperation', 'events_conflict') }} as events_net_cooperation
    from assembled
),

indexed as (
    {{ tie_index('with_net', 'weights') }}
),

final as (
    select
        indexed.period_type,
        indexed.period_start,
        case
            when indexed.period_type = 'year' then strftime(indexed.period_start, '%Y')
            else strftime(indexed.period_start, '%Y-%m')
        end as period,
        indexed.country_a,
        indexed.country_b,
        coalesce(countries_a.country_name, indexed.country_a) as country_a_name,
        coalesce(countries_b.country_name, indexed.country_b) as country_b_name,
        indexed.events,
        indexed.realized_events,
        indexed.planned_events,
        indexed.alleged_events,
        indexed.denied_events,
        indexed.article_realized_events,
        indexed.gdelt_realized_events,
        indexed.arms_transfer_events,
        indexed.military_cooperation_events,
        indexed.technology_transfer_events,
        indexed.financial_integration_events,
        indexed.economic_cooperation_events,
        indexed.energy_cooperation_events,
        indexed.agreement_events,
        indexed.diplomatic_support_events,
        indexed.sanctions_events,
        indexed.criticism_events,
        indexed.threat_events,
        indexed.use_of_force_events,
        indexed.events_cooperation,
        indexed.events_conflict,
        indexed.events_net_cooperation,
        indexed.sanctions_linked_to_both,
        indexed.sanctions_cross_program,
        indexed.sanctions_relation_edges,
        indexed.unga_common_votes,
        indexed.unga_agreement,
        indexed.unga_kappa,
        indexed.unga_s_score,
        indexed.events_sources,
        indexed.gdelt_days,
        indexed.articles_read,
        indexed.sanctions_as_of,
        indexed.unga_rollcalls,
        indexed.events_cooperation_score,
        indexed.events_net_cooperation_score,
        indexed.sanctions_linked_to_both_score,
        indexed.sanctions_cross_program_score,
        indexed.sanctions_relation_edges_score,
        indexed.unga_agreement_score,
        indexed.unga_kappa_score,
        indexed.tie_index,
        indexed.index_components,
        indexed.index_component_list,
        indexed.index_neutral_list,
        indexed.index_pairs,
        indexed.tie_rank
    from indexed
    left join countries as countries_a on indexed.country_a = countries_a.country_iso2
    left join countries as countries_b on indexed.country_b = countries_b.country_iso2
)

select * from final
order by period_type, period_start, tie_rank nulls last, country_a, country_b
