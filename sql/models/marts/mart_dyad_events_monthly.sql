-- grain: one row per source ('gdelt', 'article' or 'all'), month, unordered country pair
-- (country_a < country_b) and direction ('a_to_b', 'b_to_a', or 'both' = every event of the pair)
with events as (
    select * from {{ ref('int_events_all') }}
),

countries as (
    select * from {{ ref('stg_ref__countries') }}
),

oriented as (
    select
        source,
        cast(date_trunc('month', event_date) as date) as month,
        least(actor1_iso2, actor2_iso2) as country_a,
        greatest(actor1_iso2, actor2_iso2) as country_b,
        case
            when not directed then null
            when actor1_iso2 < actor2_iso2 then 'a_to_b'
            else 'b_to_a'
        end as orientation,
        relation_type,
        quad_class,
        goldstein,
        modality,
        weight
    from events
    where event_date is not null
),

-- undirected events count only in the pair's 'both' rows
by_direction as (
    select
        *,
        orientation as direction
    from oriented
    where orientation is not null
    union all
    select
        *,
        'both' as direction
    from oriented
),

by_source as (
    select * from by_direction
    union all
    select * replace ('all' as source) from by_direction
),

counted as (
    select
        source,
        month,
        country_a,
        country_b,
        direction,
        count(*) as events,
        count(*) filter (where modality = 'realized') as realized_events,
        count(*) filter (where modality = 'planned') as planned_events,
        count(*) filter (where modality = 'alleged') as alleged_events,
        count(*) filter (where modality = 'denied') as denied_events,
        count(*) filter (where modality = 'realized' and relation_type = 'arms_transfer') as arms_transfer_events,
        count(*) filter (where modality = 'realized' and relation_type = 'military_cooperation')
            as military_cooperation_events,
        count(*) filter (where modality = 'realized' and relation_type = 'technology_transfer')
            as technology_transfer_events,
        count(*) filter (where modality = 'realized' and relation_type = 'financial_integration')
            as financial_integration_events,
        count(*) filter (where modality = 'realized' and relation_type = 'economic_cooperation')
            as economic_cooperation_events,
        count(*) filter (where modality = 'realized' and relation_type = 'energy_cooperation')
            as energy_cooperation_events,
        count(*) filter (where modality = 'realized' and relation_type = 'agreement') as agreement_events,
        count(*) filter (where modality = 'realized' and relation_type = 'diplomatic_support')
            as diplomatic_support_events,
        count(*) filter (where modality = 'realized' and relation_type = 'sanctions') as sanctions_events,
        count(*) filter (where modality = 'realized' and relation_type = 'criticism') as criticism_events,
        count(*) filter (where modality = 'realized' and relation_type = 'threat') as threat_events,
        count(*) filter (where modality = 'realized' and relation_type = 'use_of_force') as use_of_force_events,
        count(*) filter (where modality = 'realized' and relation_type = 'bloc_alignment') as bloc_alignment_events,
        count(*) filter (where modality = 'realized' and relation_type is null) as unclassified_events,
        count(*) filter (where modality = 'realized' and quad_class = 1) as verbal_cooperation_events,
        count(*) filter (where modality = 'realized' and quad_class = 2) as material_cooperation_events,
        count(*) filter (where modality = 'realized' and quad_class = 3) as verbal_conflict_events,
        count(*) filter (where modality = 'realized' and quad_class = 4) as material_conflict_events,
        coalesce(sum(weight) filter (where modality = 'realized'), 0) as realized_weight,
        coalesce(sum(weight * goldstein) filter (where modality = 'realized' and goldstein > 0), 0) as cooperation,
        coalesce(sum(weight * abs(goldstein)) filter (where modality = 'realized' and goldstein < 0), 0) as conflict
    from by_source
    group by source, month, country_a, country_b, direction
),

final as (
    select
        counted.source,
        counted.month,
        counted.country_a,
        counted.country_b,
        coalesce(countries_a.country_name, counted.country_a) as country_a_name,
        coalesce(countries_b.country_name, counted.country_b) as country_b_name,
        counted.direction,
        counted.events,
        counted.realized_events,
        counted.planned_events,
        counted.alleged_events,
        counted.denied_events,
        counted.arms_transfer_events,
        counted.military_cooperation_events,
        counted.technology_transfer_events,
        counted.financial_integration_events,
        counted.economic_cooperation_events,
        counted.energy_cooperation_events,
        counted.agreement_events,
        counted.diplomatic_support_events,
        counted.sanctions_events,
        counted.criticism_events,
        counted.threat_events,
        counted.use_of_force_events,
        counted.bloc_alignment_events,
        counted.unclassified_events,
        counted.verbal_cooperation_events,
        counted.material_cooperation_events,
        counted.verbal_conflict_events,
        counted.material_conflict_events,
        counted.realized_weight,
        counted.cooperation,
        counted.conflict,
        case
            when counted.cooperation + counted.conflict > 0
                then (counted.cooperation - counted.conflict) / (counted.cooperation + counted.conflict)
        end as net_cooperation
    from counted
    left join countries as countries_a on counted.country_a = countries_a.country_iso2
    left join countries as countries_b on counted.country_b = countries_b.country_iso2
)

select * from final
order by source, country_a, country_b, month, direction
