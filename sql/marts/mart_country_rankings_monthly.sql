-- grain: one row per month, authority (or 'all'), attribution basis and country: designations
-- in force at the month's end, from official listing dates. Designations without a listing date
-- (layouts that carry none) are left out of this series and counted in the latest ranking only.
with links as (
    select * from int_designation_countries
    where listed_on is not null and basis in ('program_target', 'nationality')
),

countries as (
    select * from stg_ref__countries
),

bounds as (
    select
        min(date_trunc('month', listed_on)) as first_month,
        date_trunc('month', max(snapshot_date)) as last_month
    from links
),

months as (
    select cast(unnest(generate_series(first_month, last_month, interval 1 month)) as date) as month
    from bounds
),

listed as (
    select
        coalesce(authority, 'all') as authority,
        basis,
        country_iso2,
        cast(date_trunc('month', listed_on) as date) as listed_month,
        count(distinct designation_id) as new_designations
    from links
    group by grouping sets (
        (authority, basis, country_iso2, date_trunc('month', listed_on)),
        (basis, country_iso2, date_trunc('month', listed_on))
    )
),

series_keys as (
    select distinct authority, basis, country_iso2 from listed
),

grid as (
    select
        series_keys.authority,
        series_keys.basis,
        series_keys.country_iso2,
        months.month
    from series_keys
    cross join months
),

cumulative as (
    select
        grid.authority,
        grid.basis,
        grid.country_iso2,
        grid.month,
        coalesce(listed.new_designations, 0) as new_designations,
        sum(coalesce(listed.new_designations, 0)) over (
            partition by grid.authority, grid.basis, grid.country_iso2
            order by grid.month
        ) as designations
    from grid
    left join listed
        on
            grid.authority = listed.authority
            and grid.basis = listed.basis
            and grid.country_iso2 = listed.country_iso2
            and grid.month = listed.listed_month
),

final as (
    select
        cumulative.month,
        cumulative.authority,
        cumulative.basis,
        cumulative.country_iso2,
        coalesce(countries.country_name, cumulative.country_iso2) as country_name,
        cumulative.new_designations,
        cast(cumulative.designations as bigint) as designations,
        rank() over (
            partition by cumulative.month, cumulative.authority, cumulative.basis
            order by cumulative.designations desc
        ) as rank
    from cumulative
    left join countries
        on cumulative.country_iso2 = countries.country_iso2
    where cumulative.designations > 0
)

select * from final
order by authority, basis, month, rank, country_iso2
