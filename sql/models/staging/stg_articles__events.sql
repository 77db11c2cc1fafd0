-- grain: one row per article-derived dyadic event (record_id) per staged article_events snapshot,
-- with its article's url and publication date
with source as (
    select * from {{ ref('article_events') }}
),

articles as (
    select * from {{ ref('articles') }}
),

latest_articles as (
    select
        article_id,
        url,
        title,
        publisher,
        cast(published_at as date) as published_at
    from articles
    qualify row_number() over (partition by article_id order by snapshot_date desc, raw_sha256) = 1
),

final as (
    select
        source.source,
        cast(source.snapshot_date as date) as snapshot_date,
        source.record_id,
        source.article_id,
        cast(source.sentence_idx as integer) as sentence_idx,
        cast(source.char_start as integer) as char_start,
        cast(source.char_end as integer) as char_end,
        source.evidence_text,
        source.actor1_text,
        source.actor2_text,
        upper(source.actor1_iso3) as actor1_iso3,
        upper(source.actor2_iso3) as actor2_iso3,
        source.actor1_type,
        source.actor2_type,
        cast(source.directed as boolean) as directed,
        source.relation_type,
        source.cameo_code,
        source.cameo_root,
        cast(source.quad_class as integer) as quad_class,
        cast(source.goldstein as double) as goldstein,
        source.modality,
        cast(source.event_date as date) as event_date,
        source.date_precision,
        cast(source.confidence as double) as confidence,
        cast(source.n_mentions as integer) as n_mentions,
        source.extraction_method,
        source.extractor_version,
        latest_articles.url,
        latest_articles.title as article_title,
        latest_articles.publisher as article_publisher,
        latest_articles.published_at,
        source.raw_sha256,
        source.raw_file
    from source
    left join latest_articles on source.article_id = latest_articles.article_id
)

select * from final
