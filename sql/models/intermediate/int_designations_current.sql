-- grain: one row per designation in the latest snapshot of its source
with final as (
    {{ latest_snapshot(ref('stg_sanctions__designations')) }}
)

select * from final
