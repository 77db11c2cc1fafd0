-- grain: one row per current designation, programme and target of the programme (one row with no
-- target for a thematic or unknown programme), with how the designation is attributed
-- (int_snapshot_program_attributions: single_target, named_by_own_links, region, unattributed,
-- thematic, unknown_program) and whether this target counts for it on the program_target basis
with program_attributions as (
    select * from {{ ref('int_snapshot_program_attributions') }}
),

current_snapshots as (
    select * from {{ ref('int_current_snapshots') }}
),

final as (
    select
        program_attributions.designation_id,
        program_attributions.authority,
        program_attributions.program,
        program_attributions.target_iso2,
        program_attributions.program_kind,
        program_attributions.is_known_program,
        program_attributions.source,
        program_attributions.snapshot_date,
        program_attributions.region_code,
        program_attributions.region_name,
        program_attributions.program_targets,
        program_attributions.named_by_own_links,
        program_attributions.attribution,
        program_attributions.counts_for_target
    from program_attributions
    inner join current_snapshots
        on
            program_attributions.source = current_snapshots.source
            and program_attributions.snapshot_date = current_snapshots.snapshot_date
)

select * from final
