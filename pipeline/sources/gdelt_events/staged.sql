-- raw_events: every loaded file's rows as text under the 61 GDELT 2.0 column names, with
-- file_idx, line_no, gdelt_version and lineage; cameo_countries: code -> iso2, iso3, region.
-- Values were checked before this runs, so the casts cannot fail. The caller drops file_idx and
-- line_no and orders by them.
with raw as (
    select * from raw_events
),

countries as (
    select * from cameo_countries
),

cleaned as (
    select
        raw.file_idx,
        raw.line_no,
        cast(raw.globaleventid as bigint) as global_event_id,
        cast(strptime(trim(raw.sqldate), '%Y%m%d') as date) as event_date,
        case length(trim(raw.dateadded))
            when 14 then strptime(trim(raw.dateadded), '%Y%m%d%H%M%S')
            when 8 then strptime(trim(raw.dateadded), '%Y%m%d')
        end as date_added,
        raw.gdelt_version,
        nullif(trim(raw.actor1code), '') as actor1_code,
        nullif(trim(raw.actor1name), '') as actor1_name,
        nullif(upper(trim(raw.actor1countrycode)), '') as actor1_country_code,
        nullif(trim(raw.actor1type1code), '') as actor1_type1_code,
        nullif(trim(raw.actor2code), '') as actor2_code,
        nullif(trim(raw.actor2name), '') as actor2_name,
        nullif(upper(trim(raw.actor2countrycode)), '') as actor2_country_code,
        nullif(trim(raw.actor2type1code), '') as actor2_type1_code,
        cast(trim(raw.isrootevent) as integer) = 1 as is_root_event,
        lpad(trim(raw.eventrootcode), 2, '0') as event_root_code,
        trim(raw.eventcode) as event_code_raw,
        trim(raw.eventbasecode) as event_base_code_raw,
        cast(trim(raw.quadclass) as tinyint) as quad_class,
        cast(trim(raw.goldsteinscale) as double) as goldstein,
        cast(trim(raw.nummentions) as integer) as num_mentions,
        cast(trim(raw.numsources) as integer) as num_sources,
        cast(trim(raw.numarticles) as integer) as num_articles,
        cast(trim(raw.avgtone) as double) as avg_tone,
        nullif(upper(trim(raw.actiongeo_countrycode)), '') as action_geo_country_code,
        nullif(trim(raw.sourceurl), '') as source_url,
        raw.raw_sha256,
        raw.raw_file
    from raw
),

-- a re-export that wrote codes as numbers lost the leading zero of roots 01-09 ('40' for '040')
padded as (
    select
        *,
        case
            when cast(event_root_code as integer) < 10 and not starts_with(event_code_raw, '0')
                then '0' || event_code_raw
            else event_code_raw
        end as event_code,
        case
            when event_base_code_raw is null then null
            when cast(event_root_code as integer) < 10 and not starts_with(event_base_code_raw, '0')
                then '0' || event_base_code_raw
            else event_base_code_raw
        end as event_base_code
    from cleaned
),

deduplicated as (
    select *
    from padded
    qualify row_number() over (partition by global_event_id order by file_idx, line_no) = 1
),

final as (
    select
        deduplicated.file_idx,
        deduplicated.line_no,
        deduplicated.global_event_id,
        deduplicated.event_date,
        deduplicated.date_added,
        deduplicated.gdelt_version,
        deduplicated.actor1_code,
        deduplicated.actor1_name,
        deduplicated.actor1_country_code,
        deduplicated.actor1_type1_code,
        actor1.iso3 as actor1_iso3,
        actor1.iso2 as actor1_iso2,
        actor1.region as actor1_region,
        deduplicated.actor2_code,
        deduplicated.actor2_name,
        deduplicated.actor2_country_code,
        deduplicated.actor2_type1_code,
        actor2.iso3 as actor2_iso3,
        actor2.iso2 as actor2_iso2,
        actor2.region as actor2_region,
        coalesce(actor1.iso2 <> actor2.iso2, false) as is_state_dyad,
        deduplicated.is_root_event,
        deduplicated.event_code,
        deduplicated.event_base_code,
        deduplicated.event_root_code,
        deduplicated.quad_class,
        deduplicated.goldstein,
        deduplicated.num_mentions,
        deduplicated.num_sources,
        deduplicated.num_articles,
        deduplicated.avg_tone,
        deduplicated.action_geo_country_code,
        deduplicated.source_url,
        deduplicated.raw_sha256,
        deduplicated.raw_file
    from deduplicated
    left join countries as actor1 on deduplicated.actor1_country_code = actor1.code
    left join countries as actor2 on deduplicated.actor2_country_code = actor2.code
)

select * from final
