-- grain: one row per designation ever seen in any snapshot of its source, with its official
-- listing date, first and last snapshot seen, removal (first snapshot without it) and status
with history as (
    select * from {{ ref('int_designation_history') }}
),

final as (
    select
        designation_id,
        source,
        authority,
        list_code,
        source_record_id,
        entity_key,
        entity_type,
        primary_name,
        programs,
        listed_on,
        first_seen_on,
        last_seen_on,
        removed_on,
        status,
        snapshots_seen,
        snapshots_missed
    from history
)

select * from final
order by source, designation_id
