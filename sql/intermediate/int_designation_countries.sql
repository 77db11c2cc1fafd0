-- grain: one row per current designation, attribution basis and country
-- bases: program_target (the programme's target country, as trackers count; a multi-country
-- programme counts only for the targets the designation's own links name, or all if none),
-- nationality (nationality, citizenship, registration, flag), any (every link incl. address, birth)
with designations as (
    select * from {{ ref('int_designations_current') }}
),

programs as (
    select * from {{ ref('int_designation_programs') }}
),

own_links as (
    select distinct
        designation_id,
        country_iso2
    from {{ ref('int_designation_entity_links') }}
),

program_target_counts as (
    select
        programs.designation_id,
        programs.program,
        programs.target_iso2,
        count(*) over (
            partition by programs.designation_id, programs.program
        ) as program_targets,
        count(own_links.country_iso2) over (
            partition by programs.designation_id, programs.program
        ) as targets_named_by_own_links,
        own_links.country_iso2 is not null as named_by_own_links
    from programs
    left join own_links
        on
            programs.designation_id = own_links.designation_id
            and programs.target_iso2 = own_links.country_iso2
    where programs.target_iso2 is not null
),

-- a programme that targets several countries (e.g. the Western Balkans) attributes the
-- designation to those of its targets that the designation's own links name, and to all of
-- them only when its own links name none
program_links as (
    select distinct
        designation_id,
        target_iso2 as country_iso2,
        'program_target' as link_type
    from program_target_counts
    where
        program_targets = 1
        or targets_named_by_own_links = 0
        or named_by_own_links
),

entity_links as (
    select
        designation_id,
        country_iso2,
        link_type
    from {{ ref('int_designation_entity_links') }}
),

all_links as (
    select * from program_links
    union all
    select * from entity_links
),

based as (
    select
        designation_id,
        country_iso2,
        case
            when link_type = 'program_target' then 'program_target'
            when
                link_type in ('nationality', 'citizenship', 'registration', 'flag')
                then 'nationality'
        end as basis
    from all_links
    union all
    select
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
        on based.designation_id = designations.designation_id
    where based.basis is not null
)

select * from final
