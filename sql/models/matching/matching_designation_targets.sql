-- grain: one row per designation id of the lake (every snapshot), as the match step wrote it
-- (pipeline/matching/step.py: <lake>/_matching/designation_targets.parquet); empty without it
{{ config(materialized='table', schema='lake') }}
with final as (
    {{ side_file('_matching', 'designation_targets.parquet') }}
)

select * from final
