-- grain: one row per month, authority (or 'all'), attribution basis and country: designations
-- in force at the month's end, from official listing dates. Designations without a listing date
-- (layouts that carry none) are left out of this series and counted in the latest ranking only.
with country_months as (
    select * from {{ ref('int_country_months') }}
),

countries as (
    select * from {{ ref('stg_ref__countries') }}
),

final as (
    select
        country_months.month,
        country_months.authority,
        country_months.basis,
        country_months.country_iso2,
        coalesce(countries.country_name, country_months.country_iso2) as country_name,
        country_months.new_designations,
        country_months.designations,
        rank() over (
            partition by country_months.month, country_months.authority, country_months.basis
            order by country_months.designations desc
        ) as rank
    from country_months
    left join countries
        on country_months.country_iso2 = countries.country_iso2
    where country_months.designations > 0
)

select * from final
order by authority, basis, month, rank, country_iso2
