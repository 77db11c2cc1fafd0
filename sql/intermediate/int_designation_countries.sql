-- grain: one row per current designation, attribution basis and country
-- bases: program_target (the programme's target country, as trackers count),
-- nationality (nationality, citizenship, registration, flag), any (every link incl. address, birth)
with designations as (
    select * from int_designations_current
),

programs as (
    select * from int_designation_programs
),

program_links as (
    select
        designation_id,
        target_iso2 as country_iso2,
        'program_target' as link_type
    from programs
    where target_iso2 is not null
),

entity_links as (
    select
        designation_id,
        country_iso2,
        link_type
    from int_designation_entity_links
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
