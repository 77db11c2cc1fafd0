-- grain: one row per unit, authority (or 'all'), list (or 'all'), basis, month and ordered pair of
-- countries in which the first country's designations in force rose above the second's (countries
-- that reached the top 10 at some point), e.g. "Russia overtakes Iran, March 2022". us, eu, un, gb,
-- ca, ch and "all" give the first country's count that month under each authority (every list).
with monthly as (
    select * from {{ ref('mart_country_rankings_monthly') }}
),

contenders as (
    select distinct
        unit,
        authority,
        list_code,
        basis,
        country_iso2,
        country_name
    from monthly
    where rank <= 10
),

country_months as (
    select * from {{ ref('int_country_months') }}
),

-- every month of the series, zero months included, for the contenders only, with the month before's
-- count: int_country_months gives every series every month from the first listing month to the
-- latest snapshot's, so the month before in a country's series is the month before in every pair's
-- (one narrow window per country series, not one per ordered pair of them)
grid as (
    select
        country_months.unit,
        country_months.authority,
        country_months.list_code,
        country_months.basis,
        country_months.month,
        contenders.country_iso2,
        contenders.country_name,
        country_months.designations,
        lag(country_months.designations) over (
            partition by
                country_months.unit,
                country_months.authority,
                country_months.list_code,
                country_months.basis,
                country_months.country_iso2
            order by country_months.month
        ) as previous_designations
    from country_months
    inner join contenders
        on
            country_months.unit = contenders.unit
            and country_months.authority = contenders.authority
            and country_months.list_code = contenders.list_code
            and country_months.basis = contenders.basis
            and country_months.country_iso2 = contenders.country_iso2
),

-- a country can only rise above another in a month its own count rose: counts in force are running
-- sums of new listings (int_country_months), so the overtaken one's never falls, and
-- a > b >= previous b >= previous a needs a > previous a
rising as (
    select * from grid
    where designations > previous_designations
),

pairs as (
    select
        a.unit,
        a.authority,
        a.list_code,
        a.basis,
        a.month,
        a.country_iso2,
        a.country_name,
        b.country_iso2 as overtaken_iso2,
        b.country_name as overtaken_name,
        a.designations,
        b.designations as overtaken_designations,
        a.previous_designations,
        b.previous_designations as previous_overtaken_designations
    from rising as a
    inner join grid as b
        on
            a.unit = b.unit
            and a.authority = b.authority
            and a.list_code = b.list_code
            and a.basis = b.basis
            and a.month = b.month
            and a.country_iso2 <> b.country_iso2
),

crossed as (
    select * from pairs
    where
        designations > overtaken_designations
        and previous_designations <= previous_overtaken_designations
        and previous_overtaken_designations > 0
),

final as (
    select
        crossed.unit,
        crossed.authority,
        crossed.list_code,
        crossed.basis,
        crossed.month,
        crossed.country_iso2,
        crossed.country_name,
        crossed.overtaken_iso2,
        crossed.overtaken_name,
        crossed.designations,
        crossed.overtaken_designations,
        {{ authority_column_names('monthly') }}
    from crossed
    inner join monthly
        on
            crossed.month = monthly.month
            and crossed.unit = monthly.unit
            and crossed.authority = monthly.authority
            and crossed.list_code = monthly.list_code
            and crossed.basis = monthly.basis
            and crossed.country_iso2 = monthly.country_iso2
)

select * from final
order by unit, authority, list_code, basis, month, country_iso2, overtaken_iso2
