-- grain: one row per source, link type and raw country value that the crosswalk could not map,
-- in the latest snapshot of each source (never dropped, never turned into a fake country)
with links as (
    select * from int_country_links_current
),

final as (
    select
        source,
        link_type,
        raw_value,
        count(*) as occurrences
    from links
    where country_iso2 is null
    group by source, link_type, raw_value
)

select * from final
order by occurrences desc, source, link_type, raw_value
