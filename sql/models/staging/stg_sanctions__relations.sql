-- grain: one row per link between two entities of one source, per staged source snapshot
with source as (
    select * from {{ ref('relations') }}
),

renamed as (
    select
        source,
        cast(snapshot_date as date) as snapshot_date,
        entity_key,
        source_record_id,
        related_entity_key,
        related_name,
        relation_type,
        raw_relation,
        raw_sha256
    from source
)

select * from renamed
