-- grain: one row per current designation, country and link type from the entity's own
-- attributes (nationality, citizenship, registration, flag, address, birth); mapped countries only
with designations as (
    select * from {{ ref('int_designations_current') }}
),

links as (
    select * from {{ ref('int_country_links_current') }}
),

final as (
    select distinct
        designations.designation_id,
        designations.authority,
        designations.entity_key,
        designations.primary_name,
        links.country_iso2,
        links.link_type
    from designations
    inner join links
        on
            designations.source = links.source
            and designations.entity_key = links.entity_key
    where links.country_iso2 is not null
)

select * from final
