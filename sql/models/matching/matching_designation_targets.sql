-- grain: one row per designation id of the lake (every snapshot), as the match step wrote it
-- (pipeline/matching/step.py: <lake>/_matching/designation_targets.parquet); empty without it
{{ config(materialized='table', schema='lake') }}
with final as (
    {%- if matching_file_exists('designation_targets.parquet') %}
        select
            cast(designation_id as varchar) as designation_id,
            cast(source as varchar) as source,
            cast(source_record_id as varchar) as source_record_id,
            cast(entity_key as varchar) as entity_key,
            cast(entity_type as varchar) as entity_type,
            cast(primary_name as varchar) as primary_name,
            cast(target_id as varchar) as target_id,
            cast(match_method as varchar) as match_method,
            cast(match_stage as varchar) as match_stage,
            cast(match_score as double) as match_score,
            cast(matched_with as varchar) as matched_with,
            cast(evidence as varchar) as evidence,
            cast(target_designations as bigint) as target_designations
        from read_parquet('_matching/designation_targets.parquet')
    {%- else %}
        select
            cast(null as varchar) as designation_id,
            cast(null as varchar) as source,
            cast(null as varchar) as source_record_id,
            cast(null as varchar) as entity_key,
            cast(null as varchar) as entity_type,
            cast(null as varchar) as primary_name,
            cast(null as varchar) as target_id,
            cast(null as varchar) as match_method,
            cast(null as varchar) as match_stage,
            cast(null as double) as match_score,
            cast(null as varchar) as matched_with,
            cast(null as varchar) as evidence,
            cast(null as bigint) as target_designations
        where false
    {%- endif %}
)

select * from final
