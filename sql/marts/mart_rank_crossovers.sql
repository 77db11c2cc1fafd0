-- grain: one row per authority (or 'all'), basis, month and ordered pair of countries in which
-- the first country's designations in force rose above the second's (countries that reached the
-- top 10 at some point), e.g. "Russia overtakes Iran, March 2022"
with monthly as (
    select * from mart_country_rankings_monthly
),

contenders as (
    select distinct authority, basis, country_iso2, country_name
    from monthly
    where rank <= 10
),

months as (
    select distinct authority, basis, month from monthly
),

grid as (
    select
        months.authority,
        months.basis,
        months.month,
        contenders.country_iso2,
        contenders.country_name,
        coalesce(monthly.designations, 0) as designations
    from months
    inner join contenders
        on
            months.authority = contenders.authority
            and months.basis = contenders.basis
    left join monthly
        on
            months.authority = monthly.authority
            and months.basis = monthly.basis
            and months.month = monthly.month
            and contenders.country_iso2 = monthly.country_iso2
),

pairs as (
    select
        a.authority,
        a.basis,
        a.month,
        a.country_iso2 as country_iso2,
        a.country_name as country_name,
        b.country_iso2 as overtaken_iso2,
        b.country_name as overtaken_name,
        a.designations as designations,
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
