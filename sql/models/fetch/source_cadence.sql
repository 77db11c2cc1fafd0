-- grain: one row per source the project knows, with the cadence of its source.yml
-- (pipeline/freshness.py: <lake>/_fetch/source_cadence.parquet)
{{ config(materialized='table', schema='lake') }}
with final as (
    {%- if fetch_file_exists('source_cadence.parquet') %}
        select
            cast(source as varchar) as source,
            cast(authority as varchar) as authority,
            cast(title as varchar) as title,
            cast(publishes as varchar) as publishes,
            cast(max_lag_days as integer) as max_lag_days,
            cast(fetch_schedule as varchar) as fetch_schedule,
            cast(live as boolean) as live,
            cast(urls as varchar) as urls,
            cast(note as varchar) as note
        from read_parquet('_fetch/source_cadence.parquet')
    {%- else %}
        select
            cast(null as varchar) as source,
            cast(null as varchar) as authority,
            cast(null as varchar) as title,
            cast(null as varchar) as publishes,
            cast(null as integer) as max_lag_days,
            cast(null as varchar) as fetch_schedule,
            cast(null as boolean) as live,
            cast(null as varchar) as urls,
            cast(null as varchar) as note
        where false
    {%- endif %}
)

select * from final
