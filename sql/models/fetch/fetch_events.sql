-- grain: one row per check of one input of a source (event 'check') and per snapshot a run parsed
-- (event 'parse'), as the fetch log holds them (pipeline/fetch.py: <lake>/_fetch/fetch_events.parquet)
{{ config(materialized='table', schema='lake') }}
with final as (
    {{ side_file('_fetch', 'fetch_events.parquet') }}
)

select * from final
