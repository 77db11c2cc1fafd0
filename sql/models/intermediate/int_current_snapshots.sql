-- grain: one row per source: its latest staged snapshot, the one the marts describe
with designations as (
    select * from {{ ref('stg_sanctions__designations') }}
),

final as (
    select
        source,
        max(snapshot_date) as snapshot_date
    from designations
    group by source
)

select * from final
