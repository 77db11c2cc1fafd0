-- grain: one row per entity-country tie in the latest snapshot of its source
with links as (
    select * from stg_sanctions__country_links
),

current_snapshots as (
    select * from int_current_snapshots
),

final as (
    select links.*
    from links
    inner join current_snapshots
        on
            links.source = current_snapshots.source
            and links.snapshot_date = current_snapshots.snapshot_date
)

select * from final
