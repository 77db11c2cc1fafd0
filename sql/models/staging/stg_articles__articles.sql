-- grain: one row per article read (article_id), from its latest staged articles snapshot
with source as (
    select * from {{ ref('articles') }}
),

final as (
    select
        article_id,
        url,
        title,
        publisher,
        cast(published_at as date) as published_at,
        cast(snapshot_date as date) as snapshot_date
    from source
    qualify row_number() over (partition by article_id order by snapshot_date desc, raw_sha256) = 1
)

select * from final
