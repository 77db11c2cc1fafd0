-- grain: one row per source, status, link type and raw country value that names no country, in
-- the latest snapshot of each source (never dropped, never turned into a fake country); status
-- non_country = the crosswalk deliberately maps it to no country, unknown = the crosswalk lacks it
with links as (
    select * from {{ ref('int_country_links_current') }}
),

final as (
    select
        source,
        country_status as status,
        link_type,
        raw_value,
        count(*) as occurrences
    from links
    where country_iso2 is null
    group by source, country_status, link_type, raw_value
)

select * from final
order by status desc, occurrences desc, source, link_type, raw_value
