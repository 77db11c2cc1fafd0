-- grain: one row per designation (every snapshot in the lake) and counting unit, with the key the
-- unit counts once. Unit 'designations': one per authority listing (macro designation_count_key: the
-- designation, or for OFAC the record, which its SDN and consolidated files share, so a party on two
-- OFAC lists counts once in OFAC's all-lists rollup and in 'all'). Every ranking mart counts
-- count(distinct count_key) per unit. A second unit ('targets', one per real-world target after
-- matching across lists) is one more union branch here: the marts need no other change.
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

final as (
    select * from designation_keys
)

select * from final
