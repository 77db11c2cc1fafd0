-- grain: one row per name of an entity (primary name and aliases), per staged source snapshot
with source as (
    select * from {{ ref('names') }}
),

renamed as (
    select
        source,
        cast(snapshot_date as date) as snapshot_date,
        entity_key,
        source_record_id,
        name,
        name_type,
        quality
    from source
)

select * from renamed
