-- grain: one row per uncertain designation pair, as the match step wrote it
-- (pipeline/matching/step.py: <lake>/_matching/match_candidates.parquet); empty without it
{{ config(materialized='table', schema='lake') }}
with final as (
    {{ side_file('_matching', 'match_candidates.parquet') }}
)

select * from final
