-- grain: one row per source the project knows, with the cadence of its source.yml
-- (pipeline/freshness.py: <lake>/_fetch/source_cadence.parquet)
{{ config(materialized='table', schema='lake') }}
with final as (
    {{ side_file('_fetch', 'source_cadence.parquet') }}
)

select * from final
