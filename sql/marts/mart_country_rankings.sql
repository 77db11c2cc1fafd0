-- grain: one row per as-of date, authority (or 'all'), attribution basis, entity type (or 'all')
-- and country. Unit: designations (one per authority listing). An entity tied to several
-- countries counts once for each; share = designations / designations in the slice that have
-- at least one country under that basis.
with links as (
    select * from {{ ref('int_designation_countries') }}
),

countries as (
    select * from {{ ref('stg_ref__countries') }}
),

current_snapshots as (
    select * from {{ ref('int_current_snapshots') }}
),

as_of as (
    select max(snapshot_date) as as_of_date from current_snapshots
),

counted as (
    select
        coalesce(authority, 'all') as authority,
        basis,
        coalesce(entity_type, 'all') as entity_type,
        country_iso2,
        count(distinct designation_id) as designations
    from links
    group by grouping sets (
        (authority, basis, entity_type, country_iso2),
        (authority, basis, country_iso2),
        (basis, entity_type, country_iso2),
        (basis, country_iso2)
    )
),

slice_totals as (
    select
        coalesce(authority, 'all') as authority,
        basis,
        coalesce(entity_type, 'all') as entity_type,
        count(distinct designation_id) as slice_designations
    from links
    group by grouping sets (
        (authority, basis, entity_type),
        (authority, basis),
        (basis, entity_type),
        (basis)
    )
),

final as (
    select
        as_of.as_of_date,
        counted.authority,
        counted.basis,
        counted.entity_type,
        counted.country_iso2,
        coalesce(countries.country_name, counted.country_iso2) as country_name,
        counted.designations,
        rank() over (
            partition by counted.authority, counted.basis, counted.entity_type
            order by counted.designations desc
        ) as rank,
        counted.designations / slice_totals.slice_designations as share
    from counted
    inner join slice_totals
        on
            counted.authority = slice_totals.authority
            and counted.basis = slice_totals.basis
            and counted.entity_type = slice_totals.entity_type
    left join countries
        on counted.country_iso2 = countries.country_iso2
    cross join as_of
)

select * from final
order by authority, basis, entity_type, rank, country_iso2
