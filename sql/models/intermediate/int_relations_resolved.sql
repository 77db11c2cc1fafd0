-- grain: one row per relation between two entities in the latest snapshot of its source; a
-- relation the source gives by name only (OFAC CSV / classic "Linked To:" remarks) is resolved
-- to the listed entity whose primary name, else whose alias, is exactly that name (after trim
-- and upper-casing), when exactly one entity of the snapshot carries it; else it stays unresolved
with current_relations as (
    {{ latest_snapshot(ref('stg_sanctions__relations')) }}
),

names as (
    {{ latest_snapshot(ref('stg_sanctions__names')) }}
),

current_names as (
    select
        names.source,
        names.entity_key,
        upper(trim(names.name)) as name_key,
        names.name_type = 'primary' as is_primary
    from names
),

unique_names as (
    select
        source,
        name_key,
        is_primary,
        min(entity_key) as entity_key
    from current_names
    group by source, name_key, is_primary
    having count(distinct entity_key) = 1
),

resolved as (
    select
        current_relations.source,
        current_relations.snapshot_date,
        current_relations.entity_key,
        current_relations.source_record_id,
        current_relations.related_name,
        current_relations.relation_type,
        current_relations.raw_relation,
        coalesce(
            current_relations.related_entity_key,
            by_primary.entity_key,
            by_alias.entity_key
        ) as related_entity_key,
        case
            when current_relations.related_entity_key is not null then 'source'
            when by_primary.entity_key is not null then 'primary_name'
            when by_alias.entity_key is not null then 'alias'
        end as resolved_by
    from current_relations
    left join unique_names as by_primary
        on
            current_relations.related_entity_key is null
            and current_relations.source = by_primary.source
            and upper(trim(current_relations.related_name)) = by_primary.name_key
            and by_primary.is_primary
    left join unique_names as by_alias
        on
            current_relations.related_entity_key is null
            and current_relations.source = by_alias.source
            and upper(trim(current_relations.related_name)) = by_alias.name_key
            and not by_alias.is_primary
),

final as (
    select * from resolved
    -- an entity named as linked to itself is not an edge
    where related_entity_key is null or related_entity_key <> entity_key
)

select * from final
