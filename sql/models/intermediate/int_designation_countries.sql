-- grain: one row per current designation, attribution basis and country
-- bases: program_target (the programme's target country, as trackers count; a multi-country
-- programme counts only for the targets the designation's own links name, or all if none),
-- nationality (nationality, citizenship, registration, flag), any (every link incl. address, birth);
-- the rules live once, in int_snapshot_designation_countries, which applies them to every snapshot
with snapshot_countries as (
    select * from {{ ref('int_snapshot_designation_countries') }}
),

current_snapshots as (
    select * from {{ ref('int_current_snapshots') }}
),

final as (
    select snapshot_countries.*
    from snapshot_countries
    inner join current_snapshots
        on
            snapshot_countries.source = current_snapshots.source
            and snapshot_countries.snapshot_date = current_snapshots.snapshot_date
)

select * from final
