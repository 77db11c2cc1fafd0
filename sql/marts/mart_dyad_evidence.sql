-- grain: one row per piece of sanctions evidence tying an unordered country pair together:
-- component 'linked_to_both' (a designation tied to both countries by any link),
-- 'a_under_b_programs' / 'b_under_a_programs' (an entity tied to one country by its own
-- attributes: nationality, citizenship, registration, flag, address or place of birth, listed
-- under a programme targeting the other),
-- 'relation_edge' (a listed relationship between entities tied to either country)
with links as (
    select * from int_designation_countries
),

own_links as (
    select * from int_designation_entity_links
),

relations as (
    select * from stg_sanctions__relations
),

current_snapshots as (
    select * from int_current_snapshots
),

any_links as (
    select * from links where basis = 'any'
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
        'tied to ' || a.country_iso2 || ' and ' || b.country_iso2 as detail
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
        || '), listed under a programme targeting ' || prog.country_iso2 as detail
    from own_links as own
    inner join links as prog
        on
            own.designation_id = prog.designation_id
            and own.country_iso2 <> prog.country_iso2
    where prog.basis = 'program_target'
),

current_relations as (
    select relations.*
    from relations
    inner join current_snapshots
        on
            relations.source = current_snapshots.source
            and relations.snapshot_date = current_snapshots.snapshot_date
    where relations.related_entity_key is not null
),

relation_edges as (
    select
        from_side.authority,
        least(from_side.country_iso2, to_side.country_iso2) as country_a,
        greatest(from_side.country_iso2, to_side.country_iso2) as country_b,
        'relation_edge' as component,
        from_side.designation_id,
        from_side.entity_key,
        from_side.primary_name,
        current_relations.relation_type || ' ' || to_side.primary_name
        || ' (' || current_relations.related_entity_key || ')' as detail
    from current_relations
    inner join any_links as from_side
        on current_relations.entity_key = from_side.entity_key
    inner join any_links as to_side
        on current_relations.related_entity_key = to_side.entity_key
    where from_side.country_iso2 <> to_side.country_iso2
),

final as (
    select * from both_countries
    union
    select * from nationals_under_programs
    union
    select * from relation_edges
)

select * from final
order by country_a, country_b, component, designation_id, detail
