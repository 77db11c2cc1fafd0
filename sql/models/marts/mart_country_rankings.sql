-- grain: one row per unit, authority (or 'all'), list (or 'all'), attribution basis, entity type
-- (or 'all') and country, on the as-of date (the latest snapshot date). Unit: designations (one per
-- authority listing; one OFAC record on two OFAC lists counts once in OFAC's 'all' lists and in
-- 'all'). An entity tied to several countries counts once for each; share = designations /
-- designations in the slice that have at least one country under that basis. us, eu, un, gb, ca, ch
-- and "all" give, on every row, the country's count in the slice under each authority (every list).
-- The current ranking is the ranking as known on the latest snapshot date
-- (mart_country_rankings_as_known computes every as-of date, once).
with as_known as (
    select * from {{ ref('mart_country_rankings_as_known') }}
),

latest as (
    select max(as_of_date) as as_of_date from as_known
),

final as (
    select as_known.*
    from as_known
    inner join latest on as_known.as_of_date = latest.as_of_date
)

select * from final
order by unit, authority, list_code, basis, entity_type, rank, country_iso2
