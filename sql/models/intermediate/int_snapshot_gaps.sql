-- grain: one row per source and staged snapshot (every snapshot in the lake): the components it
-- does not cover (a partial input), and those a comparison with its previous snapshot cannot make
-- because either of the two lacks them
with snapshots as (
    select * from {{ ref('int_source_snapshots') }}
),

partial_inputs as (
    select * from {{ ref('stg_sanctions__partial_inputs') }}
),

gaps as (
    select
        source,
        snapshot_date,
        list(distinct component order by component) as gaps
    from partial_inputs
    group by source, snapshot_date
),

final as (
    select
        snapshots.source,
        snapshots.snapshot_date,
        snapshots.previous_snapshot_date,
        coalesce(own.gaps, []) as gaps,
        coalesce(previous.gaps, []) as previous_gaps,
        list_sort(list_distinct(list_concat(coalesce(own.gaps, []), coalesce(previous.gaps, [])))) as not_compared
    from snapshots
    left join gaps as own
        on
            snapshots.source = own.source
            and snapshots.snapshot_date = own.snapshot_date
    left join gaps as previous
        on
            snapshots.source = previous.source
            and snapshots.previous_snapshot_date = previous.snapshot_date
)

select * from final
