-- grain: one row per designation in the latest snapshot of its source, with its unique target
-- Unit 'targets' counts distinct target_id; unit 'designations' counts rows. source_record_id is the
-- record's key as the source itself writes it (macro source_record_key: Canada's Country|Schedule|Item,
-- the OFSI ConList's Group ID|regime); staged_record_id is the parser's id of the staged tables.
with designations as (
    select * from {{ ref('int_designations_current') }}
),

targets as (
    select * from {{ ref('int_designation_targets') }}
),

matched as (
    select * from {{ ref('matching_designation_targets') }}
),

joined as (
    select
        designations.source,
        {{ source_record_key('designations') }} as source_record_id,
        designations.source_record_id as staged_record_id,
        designations.designation_id,
        targets.target_id,
        designations.entity_type,
        designations.primary_name,
        designations.authority,
        designations.list_code,
        designations.entity_key,
        designations.reference_number,
        targets.match_method,
        matched.match_stage,
        targets.match_score,
        matched.matched_with,
        matched.evidence,
        designations.snapshot_date
    from designations
    inner join targets
        on designations.designation_id = targets.designation_id
    left join matched
        on designations.designation_id = matched.designation_id
),

final as (
    select
        joined.*,
        count(*) over (partition by joined.target_id) as target_designations,
        count(distinct joined.authority) over (partition by joined.target_id) as target_authorities
    from joined
)

select * from final
order by target_id, source, designation_id
