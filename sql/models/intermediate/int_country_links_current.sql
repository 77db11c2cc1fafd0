-- grain: one row per entity-country tie in the latest snapshot of its source
with final as (
    {{ latest_snapshot(ref('stg_sanctions__country_links')) }}
)

select * from final
