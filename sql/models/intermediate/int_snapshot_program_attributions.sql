-- grain: one row per source snapshot, designation, programme tag and target of the programme (one
-- row with no target for a thematic or unknown programme): the one place of the programme-target
-- rule. A programme with one target attributes every designation to it; a programme with several
-- (regional ones such as the Western Balkans, or two-country ones such as ETHIOPIA-EO14046)
-- attributes a designation only to the targets its own links name (any link type); one whose own
-- links name none of them is counted under the programme's region when it has one (XWB), else it
-- is unattributed: never once for every country the programme lists
with designations as (
    select * from {{ ref('stg_sanctions__designations') }}
),

links as (
    select * from {{ ref('stg_sanctions__country_links') }}
),

program_targets as (
    select * from {{ ref('stg_ref__program_targets') }}
),

programs as (
    select distinct
        source,
        snapshot_date,
        designation_id,
        entity_key,
        authority,
        unnest(programs) as program
    from designations
),

own_countries as (
    select distinct
        source,
        snapshot_date,
        entity_key,
        country_iso2
    from links
    where country_iso2 is not null
),

targeted as (
    select
        programs.source,
        programs.snapshot_date,
        programs.designation_id,
        programs.authority,
        programs.program,
        program_targets.program is not null as is_known_program,
        program_targets.program_kind,
        program_targets.target_iso2,
        program_targets.region_code,
        program_targets.region_name,
        count(program_targets.target_iso2) over by_program as program_targets,
        own_countries.country_iso2 is not null as named_by_own_links,
        count(own_countries.country_iso2) over by_program as targets_named_by_own_links
    from programs
    left join program_targets
        on
            programs.authority = program_targets.authority
            and programs.program = program_targets.program
    left join own_countries
        on
            programs.source = own_countries.source
            and programs.snapshot_date = own_countries.snapshot_date
            and programs.entity_key = own_countries.entity_key
            and program_targets.target_iso2 = own_countries.country_iso2
    window by_program as (
        partition by programs.source, programs.snapshot_date, programs.designation_id, programs.program
    )
),

final as (
    select
        source,
        snapshot_date,
        designation_id,
        authority,
        program,
        is_known_program,
        program_kind,
        target_iso2,
        region_code,
        region_name,
        program_targets,
        named_by_own_links,
        case
            when not is_known_program then 'unknown_program'
            when program_targets = 0 then 'thematic'
            when program_targets = 1 then 'single_target'
            when targets_named_by_own_links > 0 then 'named_by_own_links'
            when region_code is not null then 'region'
            else 'unattributed'
        end as attribution,
        target_iso2 is not null
        and (program_targets = 1 or named_by_own_links) as counts_for_target
    from targeted
)

select * from final
