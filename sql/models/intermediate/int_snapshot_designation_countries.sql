-- grain: one row per source snapshot, designation, attribution basis and country (every snapshot
-- in the lake); the one place of the attribution rules (int_designation_countries filters it to
-- the current snapshots, the as-known ranking reads every snapshot): program_target (a multi-country
-- programme counts only for the targets the designation's own links name, or all if none),
-- nationality (nationality, citizenship, registration, flag), any (every mapped link)
with designations as (
    select * from {{ ref('stg_sanctions__designations') }}
),

links as (
    select * from {{ ref('stg_sanctions__country_links') }}
),

program_targets as (
    select * from {{ ref('stg_ref__program_targets') }}
),

-- which link types count for which basis besides 'any' (which takes every link)
link_bases as (
    select * from (
        values
        ('program_target', 'program_target'),
        ('nationality', 'nationality'),
        ('citizenship', 'nationality'),
        ('registration', 'nationality'),
        ('flag', 'nationality')
    ) as link_bases (link_type, basis)
),

programs as (
    select distinct
        source,
        snapshot_date,
        designation_id,
        authority,
        unnest(programs) as program
    from designations
),

entity_links as (
    select distinct
        designations.source,
        designations.snapshot_date,
        designations.designation_id,
        links.country_iso2,
        links.link_type
    from designations
    inner join links
        on
            designations.source = links.source
            and designations.snapshot_date = links.snapshot_date
            and designations.entity_key = links.entity_key
    where links.country_iso2 is not null
),

own_countries as (
    select distinct
        source,
        snapshot_date,
        designation_id,
        country_iso2
    from entity_links
),

program_target_counts as (
    select
        programs.source,
        programs.snapshot_date,
        programs.designation_id,
        programs.program,
        program_targets.target_iso2,
        count(*) over by_program as program_targets,
        count(own_countries.country_iso2) over by_program as targets_named_by_own_links,
        own_countries.country_iso2 is not null as named_by_own_links
    from programs
    inner join program_targets
        on
            programs.authority = program_targets.authority
            and programs.program = program_targets.program
    left join own_countries
        on
            programs.source = own_countries.source
            and programs.snapshot_date = own_countries.snapshot_date
            and programs.designation_id = own_countries.designation_id
            and program_targets.target_iso2 = own_countries.country_iso2
    where program_targets.target_iso2 is not null
    window by_program as (
        partition by programs.source, programs.snapshot_date, programs.designation_id, programs.program
    )
),

program_links as (
    select distinct
        source,
        snapshot_date,
        designation_id,
        target_iso2 as country_iso2,
        'program_target' as link_type
    from program_target_counts
    where
        program_targets = 1
        or targets_named_by_own_links = 0
        or named_by_own_links
),

all_links as (
    select * from program_links
    union all
    select * from entity_links
),

based as (
    select
        all_links.source,
        all_links.snapshot_date,
        all_links.designation_id,
        all_links.country_iso2,
        link_bases.basis
    from all_links
    inner join link_bases
        on all_links.link_type = link_bases.link_type
    union all
    select
        source,
        snapshot_date,
        designation_id,
        country_iso2,
        'any' as basis
    from all_links
),

final as (
    select distinct
        designations.designation_id,
        designations.source,
        designations.authority,
        designations.list_code,
        designations.entity_key,
        designations.entity_type,
        designations.primary_name,
        designations.listed_on,
        designations.snapshot_date,
        based.basis,
        based.country_iso2
    from based
    inner join designations
        on
            based.source = designations.source
            and based.snapshot_date = designations.snapshot_date
            and based.designation_id = designations.designation_id
)

select * from final
