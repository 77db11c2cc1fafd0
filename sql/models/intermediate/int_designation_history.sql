-- grain: one row per designation (source, designation_id) ever seen in any snapshot of its source
with records as (
    select * from {{ ref('int_snapshot_designations') }}
),

snapshots as (
    select * from {{ ref('int_source_snapshots') }}
),

seen as (
    select
        source,
        designation_id,
        min(snapshot_date) as first_seen_on,
        max(snapshot_date) as last_seen_on,
        count(*) as snapshots_seen,
        -- attributes as the last snapshot that carried them gives them
        arg_max(authority, snapshot_date) as authority,
        arg_max(list_code, snapshot_date) as list_code,
        arg_max(source_record_id, snapshot_date) as source_record_id,
        arg_max(entity_key, snapshot_date) as entity_key,
        arg_max(entity_type, snapshot_date) as entity_type,
        arg_max(primary_name, snapshot_date) as primary_name,
        arg_max(programs, snapshot_date) as programs,
        arg_max(listed_on, snapshot_date) as listed_on
    from records
    group by source, designation_id
),

final as (
    select
        seen.designation_id,
        seen.source,
        seen.authority,
        seen.list_code,
        seen.source_record_id,
        seen.entity_key,
        seen.entity_type,
        seen.primary_name,
        seen.programs,
        seen.listed_on,
        seen.first_seen_on,
        seen.last_seen_on,
        last_seen.next_snapshot_date as removed_on,
        case when last_seen.is_latest then 'listed' else 'removed' end as status,
        seen.snapshots_seen,
        last_seen.snapshot_number - first_seen.snapshot_number + 1 - seen.snapshots_seen as snapshots_missed
    from seen
    inner join snapshots as first_seen
        on
            seen.source = first_seen.source
            and seen.first_seen_on = first_seen.snapshot_date
    inner join snapshots as last_seen
        on
            seen.source = last_seen.source
            and seen.last_seen_on = last_seen.snapshot_date
)

select * from final
