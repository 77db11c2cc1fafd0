-- grain: one row per current designation and programme, with the programme's target country
-- (one row per target for multi-target programmes; target null for thematic or unknown ones)
with designations as (
    select * from {{ ref('int_designations_current') }}
),

program_targets as (
    select * from {{ ref('stg_ref__program_targets') }}
),

unnested as (
    select
        designation_id,
        authority,
        unnest(programs) as program
    from designations
),

final as (
    select
        unnested.designation_id,
        unnested.authority,
        unnested.program,
        program_targets.target_iso2,
        program_targets.program_kind,
        program_targets.program is not null as is_known_program
    from unnested
    left join program_targets
        on
            unnested.authority = program_targets.authority
            and unnested.program = program_targets.program
)

select * from final
