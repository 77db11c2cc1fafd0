-- grain: one row per tie between an entity and a country, per staged source snapshot
with source as (
    select * from {{ ref('country_links') }}
),

renamed as (
    select
        source,
        cast(snapshot_date as date) as snapshot_date,
        entity_key,
        source_record_id,
        link_type,
        country_iso2,
        region,
        -- partitions staged before the status column existed: derive it from the code
        coalesce(
            country_status,
            case when country_iso2 is null then 'unknown' else 'mapped' end
        ) as country_status,
        raw_value,
        raw_sha256,
        raw_file
    from source
)

select * from renamed
