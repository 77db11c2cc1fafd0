-- grain: one row per uncertain designation pair, as the match step wrote it
-- (pipeline/matching/step.py: <lake>/_matching/match_candidates.parquet); empty without it
{{ config(materialized='table', schema='lake') }}
with final as (
    {%- if matching_file_exists('match_candidates.parquet') %}
        select
            cast(candidate_rank as bigint) as candidate_rank,
            cast(left_designation_id as varchar) as left_designation_id,
            cast(right_designation_id as varchar) as right_designation_id,
            cast(left_target_id as varchar) as left_target_id,
            cast(right_target_id as varchar) as right_target_id,
            cast(match_stage as varchar) as match_stage,
            cast(match_method as varchar) as match_method,
            cast(match_score as double) as match_score,
            cast(evidence as varchar) as evidence
        from read_parquet('_matching/match_candidates.parquet')
    {%- else %}
        select
            cast(null as bigint) as candidate_rank,
            cast(null as varchar) as left_designation_id,
            cast(null as varchar) as right_designation_id,
            cast(null as varchar) as left_target_id,
            cast(null as varchar) as right_target_id,
            cast(null as varchar) as match_stage,
            cast(null as varchar) as match_method,
            cast(null as double) as match_score,
            cast(null as varchar) as evidence
        where false
    {%- endif %}
)

select * from final
