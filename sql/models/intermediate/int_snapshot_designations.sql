-- grain: one row per designation per source snapshot (every snapshot in the lake), with the
-- sorted sets a snapshot delta compares: names, programmes and mapped country links
with designations as (
    select * from {{ ref('stg_sanctions__designations') }}
),

names as (
    select * from {{ ref('stg_sanctions__names') }}
),

links as (
    select * from {{ ref('stg_sanctions__country_links') }}
),

name_sets as (
    select
        source,
        snapshot_date,
        entity_key,
        list(distinct name order by name) as names
    from names
    group by source, snapshot_date, entity_key
),

-- a link is compared as '<link_type>:<ISO2>', so a country that moves from address to
-- nationality is a change too; unmapped values are not part of the set
country_link_sets as (
    select
        source,
        snapshot_date,
        entity_key,
        list(
            distinct link_type || ':' || country_iso2
            order by link_type || ':' || country_iso2
        ) as country_links
    from links
    where country_iso2 is not null
    group by source, snapshot_date, entity_key
),

final as (
    select
        designations.designation_id,
        designations.source,
        designations.snapshot_date,
        designations.authority,
        designations.list_code,
        designations.source_record_id,
        designations.entity_key,
        designations.entity_type,
        designations.primary_name,
        designations.programs,
        designations.listed_on,
        coalesce(name_sets.names, []) as names,
        list_sort(list_distinct(designations.programs)) as program_set,
        coalesce(country_link_sets.country_links, []) as country_links
    from designations
    left join name_sets
        on
            designations.source = name_sets.source
            and designations.snapshot_date = name_sets.snapshot_date
            and designations.entity_key = name_sets.entity_key
    left join country_link_sets
        on
            designations.source = country_link_sets.source
            and designations.snapshot_date = country_link_sets.snapshot_date
            and designations.entity_key = country_link_sets.entity_key
)

select * from final
