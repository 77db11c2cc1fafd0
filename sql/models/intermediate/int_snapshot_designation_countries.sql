-- grain: one row per source snapshot, designation, attribution basis and country (every snapshot
-- in the lake); int_designation_countries filters it to the current snapshots, the as-known ranking
-- reads every snapshot. Bases: program_target (the countries int_snapshot_program_attributions
-- attributes the designation's programmes to: a single-target programme's target; for a programme
-- with several targets only those the designation's own links name; a regional designation whose
-- links name none is counted under its region in int_snapshot_designation_regions, not here),
-- nationality (nationality, citizenship, registration, flag), any (every mapped link)
with designations as (
    select * from {{ ref('stg_sanctions__designations') }}
),

links as (
    select * from {{ ref('stg_sanctions__country_links') }}
),

program_attributions as (
    select * from {{ ref('int_snapshot_program_attributions') }}
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

program_links as (
    select distinct
        source,
        snapshot_date,
        designation_id,
        target_iso2 as country_iso2,
        'program_target' as link_type
    from program_attributions
    where counts_for_target
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
        {{ designation_columns('designations') }},
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
