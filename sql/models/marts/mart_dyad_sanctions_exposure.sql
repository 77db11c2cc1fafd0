-- grain: one row per authority (or 'all') and unordered country pair (country_a < country_b)
-- with any sanctions co-exposure in the current snapshots; each component counts distinct
-- designations (relation_edges counts distinct relationship edges); mart_dyad_evidence lists the
-- records behind every number, mart_dyad_ties carries the same components per year and month
-- 'all' leaves out the aggregators (OpenSanctions: the official lists again; macros/authorities.sql)
with evidence as (
    select
        *,
        {{ counts_in_all('authority') }} as counts_in_all
    from {{ ref('int_dyad_sanctions_evidence') }}
),

countries as (
    select * from {{ ref('stg_ref__countries') }}
),

counted as (
    select
        coalesce(authority, 'all') as authority,
        country_a,
        country_b,
        count(distinct designation_id) filter (
            where component = 'linked_to_both'
        ) as linked_to_both,
        count(distinct designation_id) filter (
            where component = 'a_under_b_programs'
        ) as a_under_b_programs,
        count(distinct designation_id) filter (
            where component = 'b_under_a_programs'
        ) as b_under_a_programs,
        count(distinct edge_key) filter (
            where component = 'relation_edge'
        ) as relation_edges
    from evidence
    group by grouping sets ((authority, country_a, country_b), (counts_in_all, country_a, country_b))
    having grouping(counts_in_all) = 1 or counts_in_all
),

final as (
    select
        counted.authority,
        counted.country_a,
        counted.country_b,
        coalesce(a.country_name, counted.country_a) as country_a_name,
        coalesce(b.country_name, counted.country_b) as country_b_name,
        counted.linked_to_both,
        counted.a_under_b_programs,
        counted.b_under_a_programs,
        counted.relation_edges
    from counted
    left join countries as a on counted.country_a = a.country_iso2
    left join countries as b on counted.country_b = b.country_iso2
)

select * from final
order by
    authority,
    linked_to_both + a_under_b_programs + b_under_a_programs + relation_edges desc,
    country_a,
    country_b
