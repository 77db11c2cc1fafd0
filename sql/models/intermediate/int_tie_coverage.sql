-- grain: one row per period (period_type 'year' or 'month', period_start) that a source of ties
-- observes: a GDELT export loaded on a day of it, an article read that was published in it, an
-- event dated in it or a UN General Assembly roll call voted in it (years). Says which sources
-- cover the period, for every pair alike (docs/tie_index.md); the events are those of
-- mart_dyad_events_monthly, the series int_dyad_tie_components sums:
--   events: GDELT when an export was loaded on at least one day of the period (gdelt_days, the
--   days; an event dated in a period no export was loaded in, e.g. a 2018 event reported in
--   2019, is counted but covers nothing), the article corpus when an article read was published
--   in it (articles_read);
--   sanctions: the lists as of their latest snapshot (sanctions_as_of), which cover a period
--   that starts on or before that date (co-exposure in force at the period's end is read from
--   the listing dates of the lists as last seen);
--   UN votes: the contested roll calls of the year (unga_rollcalls); mart_dyad_ties also needs
--   one pair with enough common votes for a score.
with gdelt_events as (
    select * from {{ ref('stg_gdelt__events') }}
),

articles as (
    select * from {{ ref('stg_articles__articles') }}
),

events_monthly as (
    select * from {{ ref('mart_dyad_events_monthly') }}
    where source = 'all' and direction = 'both'
),

rollcalls as (
    select * from {{ ref('int_unga_rollcalls') }}
),

designations as (
    select * from {{ ref('int_current_snapshots') }}
),

period_types as (
    select period_type from (values ('year'), ('month')) as period_types (period_type)
),

gdelt_days as (
    select distinct cast(coalesce(date_added, event_date) as date) as day
    from gdelt_events
    where coalesce(date_added, event_date) is not null
),

article_days as (
    select
        published_at as day,
        article_id
    from articles
    where published_at is not null
),

gdelt_periods as (
    select
        period_types.period_type,
        cast(date_trunc(period_types.period_type, gdelt_days.day) as date) as period_start,
        count(*) as gdelt_days
    from gdelt_days
    cross join period_types
    group by all
),

article_periods as (
    select
        period_types.period_type,
        cast(date_trunc(period_types.period_type, article_days.day) as date) as period_start,
        count(distinct article_days.article_id) as articles_read
    from article_days
    cross join period_types
    group by all
),

event_periods as (
    select distinct
        period_types.period_type,
        cast(date_trunc(period_types.period_type, events_monthly.month) as date) as period_start
    from events_monthly
    cross join period_types
),

unga_periods as (
    select
        'year' as period_type,
        make_date(vote_year, 1, 1) as period_start,
        count(*) as unga_rollcalls
    from rollcalls
    where is_contested and vote_year is not null
    group by all
),

periods as (
    select
        period_type,
        period_start
    from gdelt_periods
    union
    select
        period_type,
        period_start
    from article_periods
    union
    select
        period_type,
        period_start
    from event_periods
    union
    select
        period_type,
        period_start
    from unga_periods
),

final as (
    select
        periods.period_type,
        periods.period_start,
        cast({{ period_end('periods.period_type', 'periods.period_start') }} as date) as period_end,
        coalesce(gdelt_periods.gdelt_days, 0) as gdelt_days,
        coalesce(article_periods.articles_read, 0) as articles_read,
        nullif(concat_ws(
            ',',
            case when article_periods.articles_read > 0 then 'article' end,
            case when gdelt_periods.gdelt_days > 0 then 'gdelt' end
        ), '') as events_sources,
        (select max(designations.snapshot_date) from designations) as sanctions_as_of,
        coalesce(unga_periods.unga_rollcalls, 0) as unga_rollcalls
    from periods
    left join gdelt_periods using (period_type, period_start)
    left join article_periods using (period_type, period_start)
    left join unga_periods using (period_type, period_start)
)

select * from final
