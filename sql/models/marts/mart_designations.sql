-- grain: one row per designation in the latest snapshot of its source, with its countries by
-- attribution basis (a flat table for BI tools)
with designations as (
    select * from {{ ref('int_designations_current') }}
),

links as (
    select * from {{ ref('int_designation_countries') }}
),

countries_by_basis as (
    select
        designation_id,
        list(distinct country_iso2 order by country_iso2) filter (
            where basis = 'program_target'
        ) as program_target_countries,
        list(distinct country_iso2 order by country_iso2) filter (
            where basis = 'nationality'
        ) as nationality_countries,
        list(distinct country_iso2 order by country_iso2) filter (
            where basis = 'any'
        ) as any_countries
    from links
    group by designation_id
),

final as (
    select
        designations.designation_id,
        designations.source,
        designations.authority,
        designations.list_code,
        designations.source_record_id,
        designations.entity_key,
        designations.entity_type,
        designations.primary_name,
        designations.programs,
        designations.listed_on,
        designations.reference_number,
        coalesce(countries_by_basis.program_target_countries, []) as program_target_countries,
        coalesce(countries_by_basis.nationality_countries, []) as nationality_countries,
        coalesce(countries_by_basis.any_countries, []) as any_countries,
        designations.snapshot_date,
        designations.raw_sha256
    from designations
    left join countries_by_basis
        on designations.designation_id = countries_by_basis.designation_id
)

select * from final
order by source, designation_id
