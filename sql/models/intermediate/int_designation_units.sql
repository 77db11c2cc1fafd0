-- grain: one row per designation (every snapshot in the lake) and counting unit, with the key the
-- unit counts once. Unit 'designations': one per authority listing (macro designation_count_key: the
-- designation, or for OFAC the record, which its SDN and consolidated files share, so a party on two
-- OFAC lists counts once in OFAC's all-lists rollup and in 'all'). Every ranking mart counts
-- count(distinct count_key) per unit. Unit 'targets': one per real-world target, matched across lists
-- and snapshots (int_designation_targets), so a target every authority lists counts once per country.
with designations as (
    select * from {{ ref('stg_sanctions__designations') }}
),

designation_keys as (
    select
        designation_id,
        'designations' as unit,
        min({{ designation_count_key('authority', 'source_record_id', 'designation_id') }}) as count_key
    from designations
    group by designation_id
),

-- a designation's target; the designations one OFAC record makes on two OFAC lists (one designation key)
-- are one target whatever the matcher said, so a slice never holds more targets than designations
target_keys as (
    select
        designation_keys.designation_id,
        'targets' as unit,
        min(targets.target_id) over (partition by designation_keys.count_key) as count_key
    from designation_keys
    inner join {{ ref('int_designation_targets') }} as targets
        on designation_keys.designation_id = targets.designation_id
),

final as (
    select * from designation_keys
    union all
    select * from target_keys
)

select * from final
