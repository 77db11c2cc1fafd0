-- grain: one row per source and snapshot: designations added, removed and changed since the
-- source's previous snapshot, changes broken down by what changed (names, programmes, countries).
-- The first snapshot of a source has no previous one: every designation in it counts as added.
-- A component either snapshot does not cover (a partial input) is not compared: not_compared names it.
with snapshots as (
    select * from {{ ref('int_source_snapshots') }}
),

snapshot_gaps as (
    select * from {{ ref('int_snapshot_gaps') }}
),

delta_records as (
    select * from {{ ref('mart_snapshot_delta_records') }}
),

counted as (
    select
        source,
        snapshot_date,
        count(*) filter (where change_type = 'added') as added,
        count(*) filter (where change_type = 'removed') as removed,
        count(*) filter (where change_type = 'changed') as changed,
        count(*) filter (where names_changed) as names_changed,
        count(*) filter (where programs_changed) as programs_changed,
        count(*) filter (where countries_changed) as countries_changed
    from delta_records
    group by source, snapshot_date
),

final as (
    select
        snapshots.source,
        snapshots.snapshot_date,
        snapshots.previous_snapshot_date,
        snapshots.previous_snapshot_date is null as is_first_snapshot,
        snapshots.designations,
        coalesce(previous_snapshots.designations, 0) as previous_designations,
        coalesce(counted.added, 0) as added,
        coalesce(counted.removed, 0) as removed,
        coalesce(counted.changed, 0) as changed,
        coalesce(counted.names_changed, 0) as names_changed,
        coalesce(counted.programs_changed, 0) as programs_changed,
        coalesce(counted.countries_changed, 0) as countries_changed,
        snapshot_gaps.not_compared
    from snapshots
    left join snapshots as previous_snapshots
        on
            snapshots.source = previous_snapshots.source
            and snapshots.previous_snapshot_date = previous_snapshots.snapshot_date
    left join counted
        on
            snapshots.source = counted.source
            and snapshots.snapshot_date = counted.snapshot_date
    left join snapshot_gaps
        on
            snapshots.source = snapshot_gaps.source
            and snapshots.snapshot_date = snapshot_gaps.snapshot_date
)

select * from final
order by source, snapshot_date
