-- grain: one row per check of one input of a source (event 'check') and per snapshot a run parsed
-- (event 'parse'), as the fetch log holds them (pipeline/fetch.py: <lake>/_fetch/fetch_events.parquet)
{{ config(materialized='table', schema='lake') }}
with final as (
    {%- if fetch_file_exists('fetch_events.parquet') %}
        select
            cast(event as varchar) as event,
            cast(source as varchar) as source,
            cast(landing_id as varchar) as landing_id,
            cast(origin as varchar) as origin,
            cast(name as varchar) as name,
            cast(checked_at as timestamp) as checked_at,
            cast(outcome as varchar) as outcome,
            cast(changed as boolean) as changed,
            cast(content_since as timestamp) as content_since,
            cast(http_status as integer) as http_status,
            cast(sha256 as varchar) as sha256,
            cast(bytes as bigint) as bytes,
            cast(etag as varchar) as etag,
            cast(last_modified as timestamp) as last_modified,
            cast(content_type as varchar) as content_type,
            cast(demo as boolean) as demo,
            cast(snapshot_date as date) as snapshot_date,
            cast(dated_by_file as boolean) as dated_by_file
        from read_parquet('_fetch/fetch_events.parquet')
    {%- else %}
        select
            cast(null as varchar) as event,
            cast(null as varchar) as source,
            cast(null as varchar) as landing_id,
            cast(null as varchar) as origin,
            cast(null as varchar) as name,
            cast(null as timestamp) as checked_at,
            cast(null as varchar) as outcome,
            cast(null as boolean) as changed,
            cast(null as timestamp) as content_since,
            cast(null as integer) as http_status,
            cast(null as varchar) as sha256,
            cast(null as bigint) as bytes,
            cast(null as varchar) as etag,
            cast(null as timestamp) as last_modified,
            cast(null as varchar) as content_type,
            cast(null as boolean) as demo,
            cast(null as date) as snapshot_date,
            cast(null as boolean) as dated_by_file
        where false
    {%- endif %}
)

select * from final
