-- grain: one row per pair of designations the matcher found uncertain, best first (for review)
with candidates as (
    select * from {{ ref('matching_candidates') }}
),

matched as (
    select * from {{ ref('matching_designation_targets') }}
),

final as (
    select
        candidates.candidate_rank,
        candidates.match_score,
        candidates.match_stage,
        candidates.match_method,
        left_side.entity_type,
        candidates.left_designation_id,
        left_side.source as left_source,
        left_side.source_record_id as left_source_record_id,
        left_side.primary_name as left_name,
        candidates.left_target_id,
        candidates.right_designation_id,
        right_side.source as right_source,
        right_side.source_record_id as right_source_record_id,
        right_side.primary_name as right_name,
        candidates.right_target_id,
        candidates.evidence
    from candidates
    inner join matched as left_side
        on candidates.left_designation_id = left_side.designation_id
    inner join matched as right_side
        on candidates.right_designation_id = right_side.designation_id
)

select * from final
order by candidate_rank
