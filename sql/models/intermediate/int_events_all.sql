-- grain: one row per event between two different countries, from GDELT or from an article
-- (source, event_id); the latest staged snapshot of an event wins
with gdelt_events as (
    select * from {{ ref('stg_gdelt__events') }}
),

article_events as (
    select * from {{ ref('stg_articles__events') }}
),

countries as (
    select * from {{ ref('stg_ref__countries') }}
),

relation_types as (
    select * from {{ ref('cameo_relation_types') }}
),

gdelt_latest as (
    select *
    from gdelt_events
    where is_state_dyad
    qualify row_number() over (
        partition by global_event_id order by snapshot_date desc, date_added desc nulls last
    ) = 1
),

-- the longest matching CAMEO prefix decides (057 agreement inside 05 diplomatic support)
gdelt_relation_types as (
    select
        gdelt_latest.global_event_id,
        relation_types.relation_type
    from gdelt_latest
    inner join relation_types on starts_with(gdelt_latest.event_code, relation_types.cameo_prefix)
    qualify row_number() over (
        partition by gdelt_latest.global_event_id order by length(relation_types.cameo_prefix) desc
    ) = 1
),

gdelt_unified as (
    select
        'gdelt' as source,
        cast(gdelt_latest.global_event_id as varchar) as event_id,
        gdelt_latest.event_date,
        gdelt_latest.actor1_iso2,
        gdelt_latest.actor2_iso2,
        true as directed,
        gdelt_relation_types.relation_type,
        gdelt_latest.event_code as cameo_code,
        gdelt_latest.quad_class,
        gdelt_latest.goldstein,
        'realized' as modality,
        cast(coalesce(gdelt_latest.num_articles, 1) as double) as weight,
        gdelt_latest.source_url as evidence,
        gdelt_latest.source_url as url
    from gdelt_latest
    left join gdelt_relation_types on gdelt_latest.global_event_id = gdelt_relation_types.global_event_id
),

article_latest as (
    select *
    from article_events
    qualify row_number() over (partition by record_id order by snapshot_date desc, extractor_version desc) = 1
),

article_unified as (
    select
        'article' as source,
        article_latest.record_id as event_id,
        article_latest.event_date,
        actor1.country_iso2 as actor1_iso2,
        actor2.country_iso2 as actor2_iso2,
        article_latest.directed,
        article_latest.relation_type,
        article_latest.cameo_code,
        article_latest.quad_class,
        article_latest.goldstein,
        article_latest.modality,
        cast(1 as double) as weight,
        article_latest.evidence_text as evidence,
        article_latest.url
    from article_latest
    inner join countries as actor1 on article_latest.actor1_iso3 = actor1.country_iso3
    inner join countries as actor2 on article_latest.actor2_iso3 = actor2.country_iso3
    where actor1.country_iso2 <> actor2.country_iso2
),

final as (
    select * from gdelt_unified
    union all
    select * from article_unified
)

select * from final
