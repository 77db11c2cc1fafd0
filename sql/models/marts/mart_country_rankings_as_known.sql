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
-- all types: the slices of the links (unit, authority, list, basis, entity type) numbered, each with the
-- slices it counts in (its own and its rollups; the 'all' authorities only for authorities that count in
-- all), so the keys are counted on narrow rows (a slice number, the country and the key)
link_slices as (
    select distinct
        unit,
        authority,
        list_code,
        counts_in_all,
        basis,
        entity_type
    from known_links
),

fine_slices as (
    select
        *,
        row_number() over (order by unit, authority, list_code, counts_in_all, basis, entity_type) as fine_id
    from link_slices
),

rollups as (
    select * from (
        values
        (true, true, true),
        (true, true, false),
        (true, false, true),
        (true, false, false),
        (false, false, true),
        (false, false, false)
    ) as rollups (by_authority, by_list, by_entity_type)
),

fine_rollups as (
    select
        fine_slices.fine_id,
        fine_slices.unit,
        rollups.by_authority,
        rollups.by_list,
        rollups.by_entity_type,
        case when rollups.by_authority then coalesce(fine_slices.authority, 'all') else 'all' end as authority,
        case when rollups.by_list then coalesce(fine_slices.list_code, 'all') else 'all' end as list_code,
        fine_slices.basis,
        case when rollups.by_entity_type then coalesce(fine_slices.entity_type, 'all') else 'all' end as entity_type
    from fine_slices
    cross join rollups
    where rollups.by_authority or fine_slices.counts_in_all
),

rollup_slices as (
    select distinct
        unit,
        by_authority,
        by_list,
        by_entity_type,
        authority,
        list_code,
        basis,
        entity_type
    from fine_rollups
),

slices as (
    select
        *,
        row_number() over (
            order by unit, by_authority, by_list, by_entity_type, authority, list_code, basis, entity_type
        ) as slice_id
    from rollup_slices
),

slice_map as (
    select
        fine_rollups.fine_id,
        slices.slice_id
    from fine_rollups
    inner join slices
        on
            fine_rollups.unit is not distinct from slices.unit
            and fine_rollups.by_authority = slices.by_authority
            and fine_rollups.by_list = slices.by_list
            and fine_rollups.by_entity_type = slices.by_entity_type
            and fine_rollups.authority = slices.authority
            and fine_rollups.list_code = slices.list_code
            and fine_rollups.basis is not distinct from slices.basis
            and fine_rollups.entity_type = slices.entity_type
),

sliced_keys as (
    select
        known_links.as_of_date,
        slice_map.slice_id,
        known_links.country_iso2,
        known_links.count_key
    from known_links
    inner join fine_slices
        on
            known_links.unit is not distinct from fine_slices.unit
            and known_links.authority is not distinct from fine_slices.authority
            and known_links.list_code is not distinct from fine_slices.list_code
            and known_links.counts_in_all is not distinct from fine_slices.counts_in_all
            and known_links.basis is not distinct from fine_slices.basis
            and known_links.entity_type is not distinct from fine_slices.entity_type
    inner join slice_map
        on fine_slices.fine_id = slice_map.fine_id
),

-- a key counts once in a slice (and country) however many of its designations fall in it
slice_country_counts as (
    select
        as_of_date,
        slice_id,
        country_iso2,
        count(distinct count_key) as designations
    from sliced_keys
    group by all
),

-- the keys of each slice that have at least one country under the basis: the share's denominator
slice_counts as (
    select
        as_of_date,
        slice_id,
        count(distinct count_key) as slice_designations
    from sliced_keys
    group by all
),

counted as (
    select
        slice_country_counts.as_of_date,
        slices.unit,
        slices.authority,
        slices.list_code,
        slices.basis,
        slices.entity_type,
        slice_country_counts.country_iso2,
        slice_country_counts.designations,
        slice_counts.slice_designations
    from slice_country_counts
    inner join slice_counts
        on
            slice_country_counts.as_of_date = slice_counts.as_of_date
            and slice_country_counts.slice_id = slice_counts.slice_id
    inner join slices
        on slice_country_counts.slice_id = slices.slice_id
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
        counted.designations / counted.slice_designations as share,
        {{ per_authority_columns(
            'counted.designations',
            'partition by counted.as_of_date, counted.unit, counted.basis, counted.entity_type, counted.country_iso2',
            'counted.authority', 'counted.list_code') }}
    from counted
    left join countries
        on counted.country_iso2 = countries.country_iso2
)

select * from final
order by as_of_date, unit, authority, list_code, basis, entity_type, rank, country_iso2
