-- grain: one row per piece of sanctions evidence tying an unordered country pair together, with
-- the date it counts from (evidence_date: the official listing date, else the first snapshot
-- that carried the designation):
-- component 'linked_to_both' (a designation tied to both countries by any link),
-- 'a_under_b_programs' / 'b_under_a_programs' (an entity tied to one country by its own
-- attributes: nationality, citizenship, registration, flag, address or place of birth, listed
-- under a programme targeting the other),
-- 'relation_edge' (a listed relationship between an entity tied to one country and an entity
-- tied to the other, both by their own attributes; one row per edge)
with links as (
    select * from {{ ref('int_designation_countries') }}
),

own_links as (
    select * from {{ ref('int_designation_entity_links') }}
),

designations as (
    select * from {{ ref('int_designations_current') }}
),

any_links as (
    select * from links
    where basis = 'any'
),

both_countries as (
    select
        a.authority,
        a.country_iso2 as country_a,
        b.country_iso2 as country_b,
        'linked_to_both' as component,
        a.designation_id,
        a.entity_key,
        a.primary_name,
        'tied to ' || a.country_iso2 || ' and ' || b.country_iso2 as detail,
        cast(null as varchar) as edge_key
    from any_links as a
    inner join any_links as b
        on
            a.designation_id = b.designation_id
            and a.country_iso2 < b.country_iso2
),

nationals_under_programs as (
    select
        own.authority,
        least(own.country_iso2, prog.country_iso2) as country_a,
        greatest(own.country_iso2, prog.country_iso2) as country_b,
        case
            when own.country_iso2 < prog.country_iso2 then 'a_under_b_programs'
            else 'b_under_a_programs'
        end as component,
        own.designation_id,
        own.entity_key,
        own.primary_name,
        own.country_iso2 || '-linked (' || own.link_type
        || '), listed under a programme targeting ' || prog.country_iso2 as detail,
        cast(null as varchar) as edge_key
    from own_links as own
    inner join links as prog
        on
            own.designation_id = prog.designation_id
            and own.country_iso2 <> prog.country_iso2
    where prog.basis = 'program_target'
),

relations_resolved as (
    select * from {{ ref('int_relations_resolved') }}
    where related_entity_key is not null
),

-- a relationship edge ties two countries when one end is tied to one country and the other end
-- to the other by their OWN attributes (not by the programme they are listed under), so an
-- edge between two Iranian entities is never an Iran-Russia edge; each edge (unordered entity
-- pair) is one piece of evidence however many lists either end is on
edge_ends as (
    select
        from_side.authority,
        least(from_side.country_iso2, to_side.country_iso2) as country_a,
        greatest(from_side.country_iso2, to_side.country_iso2) as country_b,
        from_side.designation_id,
        relations_resolved.entity_key,
        from_side.primary_name,
        relations_resolved.relation_type || ' ' || to_side.primary_name
        || ' (' || relations_resolved.related_entity_key || ')' as detail,
        least(relations_resolved.entity_key, relations_resolved.related_entity_key)
        || '~' || greatest(relations_resolved.entity_key, relations_resolved.related_entity_key)
            as edge_key
    from relations_resolved
    inner join own_links as from_side
        on relations_resolved.entity_key = from_side.entity_key
    inner join own_links as to_side
        on
            relations_resolved.related_entity_key = to_side.entity_key
            and from_side.authority = to_side.authority
    where from_side.country_iso2 <> to_side.country_iso2
),

relation_edges as (
    select
        authority,
        country_a,
        country_b,
        'relation_edge' as component,
        designation_id,
        entity_key,
        primary_name,
        detail,
        edge_key
    from edge_ends
    qualify row_number() over (
        partition by authority, country_a, country_b, edge_key
        order by entity_key, designation_id, detail
    ) = 1
),

combined as (
    select * from both_countries
    union
    select * from nationals_under_programs
    union
    select * from relation_edges
),

final as (
    select
        combined.*,
        coalesce(designations.listed_on, designations.snapshot_date) as evidence_date
    from combined
    inner join designations
        on combined.designation_id = designations.designation_id
)

select * from final
