-- grain: one row per authority (or 'all'), basis, month and ordered pair of countries in which
-- the first country's designations in force rose above the second's (countries that reached the
-- top 10 at some point), e.g. "Russia overtakes Iran, March 2022"
with monthly as (
    select * from {{ ref('mart_country_rankings_monthly') }}
),

contenders as (
    select distinct
        authority,
        basis,
        country_iso2,
        country_name
    from monthly
    where rank <= 10
),

country_months as (
    select * from {{ ref('int_country_months') }}
),

-- every month of the series, zero months included, for the contenders only
grid as (
    select
        country_months.authority,
        country_months.basis,
        country_months.month,
        contenders.country_iso2,
        contenders.country_name,
        country_months.designations
    from country_months
    inner join contenders
        on
            country_months.authority = contenders.authority
            and country_months.basis = contenders.basis
            and country_months.country_iso2 = contenders.country_iso2
),

pairs as (
    select
        a.authority,
        a.basis,
        a.month,
        a.country_iso2,
        a.country_name,
        b.country_iso2 as overtaken_iso2,
        b.country_name as overtaken_name,
        a.designations,
        b.designations as overtaken_designations,
        lag(a.designations) over pair_series as previous_designations,
        lag(b.designations) over pair_series as previous_overtaken_designations
    from grid as a
    inner join grid as b
        on
            a.authority = b.authority
            and a.basis = b.basis
            and a.month = b.month
            and a.country_iso2 <> b.country_iso2
    window pair_series as (
        partition by a.authority, a.basis, a.country_iso2, b.country_iso2
        order by a.month
    )
),

final as (
    select
        authority,
        basis,
        month,
        country_iso2,
        country_name,
        overtaken_iso2,
        overtaken_name,
        designations,
        overtaken_designations
    from pairs
    where
        designations > overtaken_designations
        and previous_designations <= previous_overtaken_designations
        and previous_overtaken_designations > 0
)

select * from final
order by authority, basis, month, country_iso2, overtaken_iso2
