-- grain: one row per as-of date (every snapshot date in the lake) and source: the latest snapshot
-- of that source published on or before the date (a source with none by then has no row)
with snapshots as (
    select * from {{ ref('int_source_snapshots') }}
),

as_of_dates as (
    select distinct snapshot_date as as_of_date
    from snapshots
),

final as (
    select
        as_of_dates.as_of_date,
        snapshots.source,
        max(snapshots.snapshot_date) as snapshot_date
    from as_of_dates
    inner join snapshots
        on as_of_dates.as_of_date >= snapshots.snapshot_date
    group by as_of_dates.as_of_date, snapshots.source
)

select * from final
