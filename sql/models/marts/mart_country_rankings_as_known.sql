-- grain: one row per as-of date (every snapshot date in the lake), authority (or 'all'),
-- attribution basis, entity type (or 'all') and country, counting the designations in each
-- source's latest snapshot on or before the date: the ranking as it could be known that day.
-- Same columns and counting rules as mart_country_rankings. 'all' authorities leaves out the
-- aggregators (OpenSanctions: the official lists again; macros/authorities.sql).
with links as (
    select * from {{ ref('int_snapshot_designation_countries') }}
),

known_snapshots as (
    select * from {{ ref('int_as_known_snapshots') }}
),

countries as (
    select * from {{ ref('stg_ref__countries') }}
),

known_links as (
    select
        known_snapshots.as_of_date,
        links.designation_id,
        links.authority,
        {{ counts_in_all('links.authority') }} as counts_in_all,
        links.entity_type,
        links.basis,
        links.country_iso2
    from known_snapshots
    inner join links
        on
            known_snapshots.source = links.source
            and known_snapshots.snapshot_date = links.snapshot_date
),

-- one row per as-of date, designation and basis: the designations a slice total counts
known_designations as (
    select distinct
        as_of_date,
        designation_id,
        authority,
        counts_in_all,
        entity_type,
        basis
    from known_links
),

-- a designation_id fixes its authority and entity type, and known_links holds one row per date,
-- designation, basis and country, so count(*) counts distinct designations in every grouping set
counted as (
    select
        as_of_date,
        coalesce(authority, 'all') as authority,
        basis,
        coalesce(entity_type, 'all') as entity_type,
        country_iso2,
        count(*) as designations
    from known_links
    group by grouping sets (
        (as_of_date, authority, basis, entity_type, country_iso2),
        (as_of_date, authority, basis, country_iso2),
        (as_of_date, counts_in_all, basis, entity_type, country_iso2),
        (as_of_date, counts_in_all, basis, country_iso2)
    )
    having grouping(counts_in_all) = 1 or counts_in_all
),

slice_totals as (
    select
        as_of_date,
        coalesce(authority, 'all') as authority,
        basis,
        coalesce(entity_type, 'all') as entity_type,
        count(*) as slice_designations
    from known_designations
    group by grouping sets (
        (as_of_date, authority, basis, entity_type),
        (as_of_date, authority, basis),
        (as_of_date, counts_in_all, basis, entity_type),
        (as_of_date, counts_in_all, basis)
    )
    having grouping(counts_in_all) = 1 or counts_in_all
),

final as (
    select
        counted.as_of_date,
        counted.authority,
        counted.basis,
        counted.entity_type,
        counted.country_iso2,
        coalesce(countries.country_name, counted.country_iso2) as country_name,
        counted.designations,
        rank() over (
            partition by counted.as_of_date, counted.authority, counted.basis, counted.entity_type
            order by counted.designations desc
        ) as rank,
        counted.designations / slice_totals.slice_designations as share
    from counted
    inner join slice_totals
        on
            counted.as_of_date = slice_totals.as_of_date
            and counted.authority = slice_totals.authority
            and counted.basis = slice_totals.basis
            and counted.entity_type = slice_totals.entity_type
    left join countries
        on counted.country_iso2 = countries.country_iso2
)

select * from final
order by as_of_date, authority, basis, entity_type, rank, country_iso2
