-- grain: one row per month, unit, authority (or 'all'), list (or 'all'), attribution basis and
-- country: designations in force at the month's end, from official listing dates. Designations
-- without a listing date (layouts that carry none) are left out of this series and counted in the
-- latest ranking only. us, eu, un, gb, ca, ch and "all" give, on every row, the country's count that
-- month under each authority (every list).
with country_months as (
    select * from {{ ref('int_country_months') }}
),

-- the months a country is counted in: a zero month has no row, and no authority's count in it
-- adds to the wide columns (a count missing from a slice is 0 there, as a zero count is)
counted_months as (
    select * from country_months
    where designations > 0
),

countries as (
    select * from {{ ref('stg_ref__countries') }}
),

-- the wide columns: the country's count under each authority in the same month, unit and basis
widened as (
    select
        *,
        {{ per_authority_columns(
            'designations', 'partition by month, unit, basis, country_iso2') }}
    from counted_months
),

final as (
    select
        widened.month,
        widened.unit,
        widened.authority,
        widened.list_code,
        widened.basis,
        widened.country_iso2,
        coalesce(countries.country_name, widened.country_iso2) as country_name,
        widened.new_designations,
        widened.designations,
        rank() over (
            partition by widened.month, widened.unit, widened.authority, widened.list_code, widened.basis
            order by widened.designations desc
        ) as rank,
        {{ authority_column_names('widened') }}
    from widened
    left join countries
        on widened.country_iso2 = countries.country_iso2
)

select * from final
order by unit, authority, list_code, basis, month, rank, country_iso2
