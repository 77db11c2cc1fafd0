-- grain: one row per month, authority (or 'all'), attribution basis and country that has any
-- listing date in the series, from the first listing month to the latest snapshot's month, zero
-- months included: designations in force at the month's end, from official listing dates.
-- Designations without a listing date (layouts that carry none) are left out of the series.
-- 'all' leaves out the aggregators (OpenSanctions: the official lists again; macros/authorities.sql).
with links as (
    select
        *,
        {{ counts_in_all('authority') }} as counts_in_all
    from {{ ref('int_designation_countries') }}
    where listed_on is not null and basis in ('program_target', 'nationality')
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
        (counts_in_all, basis, country_iso2, date_trunc('month', listed_on))
    )
    having grouping(counts_in_all) = 1 or counts_in_all
),

series_keys as (
    select distinct
        authority,
        basis,
        country_iso2
    from listed
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

final as (
    select
        grid.month,
        grid.authority,
        grid.basis,
        grid.country_iso2,
        coalesce(listed.new_designations, 0) as new_designations,
        cast(sum(coalesce(listed.new_designations, 0)) over (
            partition by grid.authority, grid.basis, grid.country_iso2
            order by grid.month
        ) as bigint) as designations
    from grid
    left join listed
        on
            grid.authority = listed.authority
            and grid.basis = listed.basis
            and grid.country_iso2 = listed.country_iso2
            and grid.month = listed.listed_month
)

select * from final
