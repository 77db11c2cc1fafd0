-- grain: one row per GDELT event (GLOBALEVENTID) per staged gdelt_events snapshot
with source as (
    select * from {{ ref('gdelt_events') }}
),

final as (
    select
        source,
        cast(snapshot_date as date) as snapshot_date,
        cast(global_event_id as bigint) as global_event_id,
        cast(event_date as date) as event_date,
        cast(date_added as timestamp) as date_added,
        cast(gdelt_version as integer) as gdelt_version,
        actor1_code,
        actor1_name,
        actor1_country_code,
        actor1_type1_code,
        actor1_iso3,
        actor1_iso2,
        actor1_region,
        actor2_code,
        actor2_name,
        actor2_country_code,
        actor2_type1_code,
        actor2_iso3,
        actor2_iso2,
        actor2_region,
        is_state_dyad,
        is_root_event,
        event_code,
        event_base_code,
        event_root_code,
        cast(quad_class as integer) as quad_class,
        cast(goldstein as double) as goldstein,
        num_mentions,
        num_sources,
        num_articles,
        cast(avg_tone as double) as avg_tone,
        action_geo_country_code,
        source_url,
        raw_sha256,
        raw_file
    from source
)

select * from final
