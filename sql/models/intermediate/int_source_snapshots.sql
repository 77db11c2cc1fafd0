-- grain: one row per source and staged snapshot (every snapshot in the lake), with its neighbours
with designations as (
    select * from {{ ref('stg_sanctions__designations') }}
),

snapshots as (
    select
        source,
        snapshot_date,
        count(*) as designations
    from designations
    group by source, snapshot_date
),

final as (
    select
        source,
        snapshot_date,
        row_number() over by_source as snapshot_number,
        lag(snapshot_date) over by_source as previous_snapshot_date,
        lead(snapshot_date) over by_source as next_snapshot_date,
        lead(snapshot_date) over by_source is null as is_latest,
        designations
    from snapshots
    window by_source as (partition by source order by snapshot_date)
)

select * from final
