-- grain: one row per month, unit, authority (or 'all'), list (or 'all'), attribution basis and
-- country that has any listing date in the series, from the first listing month to the latest
-- snapshot's month, zero months included: keys of the unit in force at the month's end, from
-- official listing dates (a key listed several times in a grouping counts from its first listing).
-- Designations without a listing date (layouts that carry none) are left out of the series.
-- 'all' leaves out the aggregators (OpenSanctions: the official lists again; macros/authorities.sql).
with links as (
    select
        *,
        {{ counts_in_all('authority') }} as counts_in_all
    from {{ ref('int_designation_countries') }}
    where listed_on is not null and basis in ('program_target', 'nationality')
),

units as (
    select * from {{ ref('int_designation_units') }}
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

keyed as (
    select
        units.unit,
        units.count_key,
        links.authority,
        links.list_code,
        links.counts_in_all,
        links.basis,
        links.country_iso2,
        links.listed_on
    from links
    inner join units
        on links.designation_id = units.designation_id
),

-- the month each key of a grouping was first listed in it (by list, over all lists, 'all')
first_listed as (
    select
        unit,
        coalesce(authority, 'all') as authority,
        coalesce(list_code, 'all') as list_code,
        basis,
        country_iso2,
        count_key,
        cast(min(date_trunc('month', listed_on)) as date) as listed_month
    from keyed
    group by grouping sets (
        (unit, authority, list_code, basis, country_iso2, count_key),
        (unit, authority, basis, country_iso2, count_key),
        (unit, counts_in_all, basis, country_iso2, count_key)
    )
    having grouping(counts_in_all) = 1 or counts_in_all
),

listed as (
    select
        unit,
        authority,
        list_code,
        basis,
        country_iso2,
        listed_month,
        count(*) as new_designations
    from first_listed
    group by unit, authority, list_code, basis, country_iso2, listed_month
),

series_keys as (
    select distinct
        unit,
        authority,
        list_code,
        basis,
        country_iso2
    from listed
),

grid as (
    select
        series_keys.unit,
        series_keys.authority,
        series_keys.list_code,
        series_keys.basis,
        series_keys.country_iso2,
        months.month
    from series_keys
    cross join months
),

-- the count in force after each month with new listings: a running sum over the few listing months
running as (
    select
        unit,
        authority,
        list_code,
        basis,
        country_iso2,
        listed_month,
        new_designations,
        cast(sum(new_designations) over (
            partition by unit, authority, list_code, basis, country_iso2
            order by listed_month
        ) as bigint) as designations
    from listed
),

-- every month of the grid takes the count of its series' latest listing month on or before it (an
-- as-of join: no window over the whole grid)
final as (
    select
        grid.month,
        grid.unit,
        grid.authority,
        grid.list_code,
        grid.basis,
        grid.country_iso2,
        case when running.listed_month = grid.month then running.new_designations else 0 end as new_designations,
        coalesce(running.designations, 0) as designations
    from grid
    asof left join running
        on
            grid.unit = running.unit
            and grid.authority = running.authority
            and grid.list_code = running.list_code
            and grid.basis = running.basis
            and grid.country_iso2 = running.country_iso2
            and grid.month >= running.listed_month
)

select * from final
