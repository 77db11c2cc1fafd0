-- grain: one row per as-of date (every snapshot date in the lake), unit, authority (or 'all'), list
-- (or 'all'), attribution basis, entity type (or 'all') and country, counting each source's latest
-- snapshot on or before the date: the ranking as it could be known that day. Same columns and
-- counting rules as mart_country_rankings. A unit counts its key once (int_designation_units: for
-- 'designations' one OFAC record on two OFAC lists is one in the authority's 'all' lists and in 'all').
-- 'all' authorities leaves out the aggregators (OpenSanctions: the official lists again;
-- macros/authorities.sql). us, eu, un, gb, ca, ch and "all" repeat, on every row, the country's
-- count in the same slice under each authority (every list).
with links as (
    select * from {{ ref('int_snapshot_designation_countries') }}
),

units as (
    select * from {{ ref('int_designation_units') }}
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
        units.unit,
        units.count_key,
        links.authority,
        links.list_code,
        {{ counts_in_all('links.authority') }} as counts_in_all,
        links.entity_type,
        links.basis,
        links.country_iso2
    from known_snapshots
    inner join links
        on
            known_snapshots.source = links.source
            and known_snapshots.snapshot_date = links.snapshot_date
    inner join units
        on links.designation_id = units.designation_id
),

-- every authority by list and over all its lists, and 'all' authorities, each by entity type and over
-- all types; a key counts once in a grouping however many of its designations fall in it
counted as (
    select
        as_of_date,
        unit,
        coalesce(authority, 'all') as authority,
        coalesce(list_code, 'all') as list_code,
        basis,
        coalesce(entity_type, 'all') as entity_type,
        country_iso2,
        count(distinct count_key) as designations
    from known_links
    group by grouping sets (
        (as_of_date, unit, authority, list_code, basis, entity_type, country_iso2),
        (as_of_date, unit, authority, list_code, basis, country_iso2),
        (as_of_date, unit, authority, basis, entity_type, country_iso2),
        (as_of_date, unit, authority, basis, country_iso2),
        (as_of_date, unit, counts_in_all, basis, entity_type, country_iso2),
        (as_of_date, unit, counts_in_all, basis, country_iso2)
    )
    having grouping(counts_in_all) = 1 or counts_in_all
),

-- the keys of each slice that have at least one country under the basis: the share's denominator
slice_totals as (
    select
        as_of_date,
        unit,
        coalesce(authority, 'all') as authority,
        coalesce(list_code, 'all') as list_code,
        basis,
        coalesce(entity_type, 'all') as entity_type,
        count(distinct count_key) as slice_designations
    from known_links
    group by grouping sets (
        (as_of_date, unit, authority, list_code, basis, entity_type),
        (as_of_date, unit, authority, list_code, basis),
        (as_of_date, unit, authority, basis, entity_type),
        (as_of_date, unit, authority, basis),
        (as_of_date, unit, counts_in_all, basis, entity_type),
        (as_of_date, unit, counts_in_all, basis)
    )
    having grouping(counts_in_all) = 1 or counts_in_all
),

final as (
    select
        counted.as_of_date,
        counted.unit,
        counted.authority,
        counted.list_code,
        counted.basis,
        counted.entity_type,
        counted.country_iso2,
        coalesce(countries.country_name, counted.country_iso2) as country_name,
        counted.designations,
        rank() over (
            partition by
                counted.as_of_date,
                counted.unit,
                counted.authority,
                counted.list_code,
                counted.basis,
                counted.entity_type
            order by counted.designations desc
        ) as rank,
        counted.designations / slice_totals.slice_designations as share,
        {{ per_authority_columns(
            'counted.designations',
            'partition by counted.as_of_date, counted.unit, counted.basis, counted.entity_type, counted.country_iso2',
            'counted.authority', 'counted.list_code') }}
    from counted
    inner join slice_totals
        on
            counted.as_of_date = slice_totals.as_of_date
            and counted.unit = slice_totals.unit
            and counted.authority = slice_totals.authority
            and counted.list_code = slice_totals.list_code
            and counted.basis = slice_totals.basis
            and counted.entity_type = slice_totals.entity_type
    left join countries
        on counted.country_iso2 = countries.country_iso2
)

select * from final
order by as_of_date, unit, authority, list_code, basis, entity_type, rank, country_iso2
