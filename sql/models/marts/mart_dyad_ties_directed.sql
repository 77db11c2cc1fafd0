-- grain: one row per ordered country pair (from_country acted on to_country), period type
-- ('year' or 'month') and period: the directed side of mart_dyad_ties, where direction matters
-- (who supplies whom): realized events from the first country to the second by relation type,
-- their Goldstein-weighted cooperation and conflict, and the second country's programmes'
-- designations of entities tied to the first (in force at the period's end)
with events_monthly as (
    select * from {{ ref('mart_dyad_events_monthly') }}
    where source = 'all' and direction in ('a_to_b', 'b_to_a')
),

sanctions as (
    select * from {{ ref('int_dyad_sanctions_evidence') }}
    where component in ('a_under_b_programs', 'b_under_a_programs')
),

countries as (
    select * from {{ ref('stg_ref__countries') }}
),

oriented as (
    select
        period_types.period_type,
        case
            when period_types.period_type = 'year' then cast(date_trunc('year', events_monthly.month) as date)
            else events_monthly.month
        end as period_start,
        case when events_monthly.direction = 'a_to_b' then events_monthly.country_a else events_monthly.country_b end
            as from_country,
        case when events_monthly.direction = 'a_to_b' then events_monthly.country_b else events_monthly.country_a end
            as to_country,
        events_monthly.*
    from events_monthly
    cross join (values ('year'), ('month')) as period_types (period_type)
),

event_periods as (
    select
        period_type,
        period_start,
        from_country,
        to_country,
        sum(realized_events) as realized_events,
        sum(planned_events) as planned_events,
        sum(alleged_events) as alleged_events,
        sum(denied_events) as denied_events,
        sum(arms_transfer_events) as arms_transfer_events,
        sum(military_cooperation_events) as military_cooperation_events,
        sum(technology_transfer_events) as technology_transfer_events,
        sum(financial_integration_events) as financial_integration_events,
        sum(economic_cooperation_events) as economic_cooperation_events,
        sum(energy_cooperation_events) as energy_cooperation_events,
        sum(sanctions_events) as sanctions_events,
        sum(threat_events) as threat_events,
        sum(use_of_force_events) as use_of_force_events,
        sum(cooperation) as events_cooperation,
        sum(conflict) as events_conflict
    from oriented
    group by all
),

-- entities tied to from_country by their own attributes, listed under to_country's programmes
sanction_rows as (
    select
        case when component = 'a_under_b_programs' then country_a else country_b end as from_country,
        case when component = 'a_under_b_programs' then country_b else country_a end as to_country,
        designation_id,
        evidence_date
    from sanctions
),

grid as (
    select
        period_type,
        period_start,
        from_country,
        to_country
    from event_periods
    union
    select distinct
        period_types.period_type,
        cast(date_trunc(period_types.period_type, sanction_rows.evidence_date) as date) as period_start,
        sanction_rows.from_country,
        sanction_rows.to_country
    from sanction_rows
    cross join (values ('year'), ('month')) as period_types (period_type)
),

sanctions_in_force as (
    select
        grid.period_type,
        grid.period_start,
        grid.from_country,
        grid.to_country,
        count(distinct sanction_rows.designation_id) as from_entities_under_to_programs
    from grid
    inner join sanction_rows
        on
            grid.from_country = sanction_rows.from_country
            and grid.to_country = sanction_rows.to_country
            and sanction_rows.evidence_date < {{ period_end('grid.period_type', 'grid.period_start') }}
    group by all
),

final as (
    select
        grid.period_type,
        grid.period_start,
        case
            when grid.period_type = 'year' then strftime(grid.period_start, '%Y')
            else strftime(grid.period_start, '%Y-%m')
        end as period,
        grid.from_country,
        grid.to_country,
        coalesce(from_names.country_name, grid.from_country) as from_country_name,
        coalesce(to_names.country_name, grid.to_country) as to_country_name,
        event_periods.* exclude (period_type, period_start, from_country, to_country),
        case
            when event_periods.events_cooperation + event_periods.events_conflict > 0
                then
                    (event_periods.events_cooperation - event_periods.events_conflict)
                    / (event_periods.events_cooperation + event_periods.events_conflict)
        end as events_net_cooperation,
        coalesce(sanctions_in_force.from_entities_under_to_programs, 0) as from_entities_under_to_programs
    from grid
    left join event_periods using (period_type, period_start, from_country, to_country)
    left join sanctions_in_force using (period_type, period_start, from_country, to_country)
    left join countries as from_names on grid.from_country = from_names.country_iso2
    left join countries as to_names on grid.to_country = to_names.country_iso2
)

select * from final
order by period_type, period_start, from_country, to_country
