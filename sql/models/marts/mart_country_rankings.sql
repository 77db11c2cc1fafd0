-- grain: one row per as-of date, authority (or 'all'), attribution basis, entity type (or 'all')
-- and country. Unit: designations (one per authority listing). An entity tied to several
-- countries counts once for each; share = designations / designations in the slice that have
-- at least one country under that basis. The current ranking is the ranking as known on the
-- latest snapshot date (mart_country_rankings_as_known computes every as-of date, once)
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
order by authority, basis, entity_type, rank, country_iso2
