-- grain: one row per designation in the latest snapshot of its source
with designations as (
    select * from stg_sanctions__designations
),

current_snapshots as (
    select * from int_current_snapshots
),

final as (
    select designations.*
    from designations
    inner join current_snapshots
        on
            designations.source = current_snapshots.source
            and designations.snapshot_date = current_snapshots.snapshot_date
)

select * from final
