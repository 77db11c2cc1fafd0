-- grain: one row per source snapshot and designation added, removed or changed since the
-- source's previous snapshot (in the first snapshot of a source every designation is 'added');
-- a component either snapshot does not cover (a partial input: no address file, no alias file) is
-- left out of the comparison of both, never read as removed
{#- the sets a side compares: without aliases on either side only the primary name is compared,
    without addresses the address links are left out #}
{%- set compared_sets -%}
select
        * replace (
            case when list_contains(not_compared, 'aliases') then [] else names end as names,
            case
                when list_contains(not_compared, 'addresses')
                    then list_filter(country_links, lambda link: not starts_with(link, 'address:'))
                else country_links
            end as country_links
        )
{%- endset %}

with records as (
    select * from {{ ref('int_snapshot_designations') }}
),

snapshots as (
    select * from {{ ref('int_source_snapshots') }}
),

snapshot_gaps as (
    select * from {{ ref('int_snapshot_gaps') }}
),

-- each record of a snapshot with what the comparison with the previous snapshot cannot cover
current_records as (
    select
        records.*,
        snapshots.previous_snapshot_date,
        snapshot_gaps.not_compared
    from records
    inner join snapshots
        on
            records.source = snapshots.source
            and records.snapshot_date = snapshots.snapshot_date
    inner join snapshot_gaps
        on
            records.source = snapshot_gaps.source
            and records.snapshot_date = snapshot_gaps.snapshot_date
),

-- each record of a snapshot, keyed by the snapshot that follows it, with what that comparison
-- cannot cover
previous_records as (
    select
        records.*,
        snapshots.next_snapshot_date,
        snapshot_gaps.not_compared
    from records
    inner join snapshots
        on
            records.source = snapshots.source
            and records.snapshot_date = snapshots.snapshot_date
    inner join snapshot_gaps
        on
            snapshots.source = snapshot_gaps.source
            and snapshots.next_snapshot_date = snapshot_gaps.snapshot_date
    where snapshots.next_snapshot_date is not null
),

-- the sets each side compares (compared_sets: what a snapshot's gaps leave out of the comparison)
current_compared as (
    {{ compared_sets }}
    from current_records
),

previous_compared as (
    {{ compared_sets }}
    from previous_records
),

compared as (
    select
        coalesce(current_records.source, previous_records.source) as source,
        coalesce(current_records.snapshot_date, previous_records.next_snapshot_date) as snapshot_date,
        coalesce(current_records.previous_snapshot_date, previous_records.snapshot_date) as previous_snapshot_date,
        coalesce(current_records.designation_id, previous_records.designation_id) as designation_id,
        coalesce(current_records.authority, previous_records.authority) as authority,
        coalesce(current_records.list_code, previous_records.list_code) as list_code,
        coalesce(current_records.entity_key, previous_records.entity_key) as entity_key,
        coalesce(current_records.entity_type, previous_records.entity_type) as entity_type,
        current_records.primary_name,
        previous_records.primary_name as previous_primary_name,
        coalesce(current_records.names, []) as names,
        coalesce(previous_records.names, []) as previous_names,
        coalesce(current_records.program_set, []) as programs,
        coalesce(previous_records.program_set, []) as previous_programs,
        coalesce(current_records.country_links, []) as country_links,
        coalesce(previous_records.country_links, []) as previous_country_links,
        coalesce(current_records.not_compared, previous_records.not_compared) as not_compared,
        case
            when previous_records.designation_id is null then 'added'
            when current_records.designation_id is null then 'removed'
            when
                current_records.primary_name != previous_records.primary_name
                or current_records.names != previous_records.names
                or current_records.program_set != previous_records.program_set
                or current_records.country_links != previous_records.country_links
                then 'changed'
        end as change_type
    from current_compared as current_records
    full outer join previous_compared as previous_records
        on
            current_records.source = previous_records.source
            and current_records.snapshot_date = previous_records.next_snapshot_date
            and current_records.designation_id = previous_records.designation_id
),

final as (
    select
        source,
        snapshot_date,
        previous_snapshot_date,
        designation_id,
        authority,
        list_code,
        entity_key,
        entity_type,
        change_type,
        coalesce(primary_name, previous_primary_name) as primary_name,
        previous_primary_name,
        -- what changed: only for 'changed' rows (null for added and removed ones)
        case
            when change_type = 'changed' then primary_name != previous_primary_name or names != previous_names
        end as names_changed,
        case when change_type = 'changed' then programs != previous_programs end as programs_changed,
        case when change_type = 'changed' then country_links != previous_country_links end as countries_changed,
        list_filter(names, lambda x: not list_contains(previous_names, x)) as names_added,
        list_filter(previous_names, lambda x: not list_contains(names, x)) as names_removed,
        list_filter(programs, lambda x: not list_contains(previous_programs, x)) as programs_added,
        list_filter(previous_programs, lambda x: not list_contains(programs, x)) as programs_removed,
        list_filter(country_links, lambda x: not list_contains(previous_country_links, x)) as country_links_added,
        list_filter(previous_country_links, lambda x: not list_contains(country_links, x)) as country_links_removed,
        not_compared
    from compared
    where change_type is not null
)

select * from final
order by source, snapshot_date, change_type, designation_id
