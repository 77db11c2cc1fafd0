-- grain: one row per source that was checked or parsed, or has a snapshot in the lake: when it was last
-- fetched and last changed, the authority's own publication date, its cadence, the lag and whether it is stale
with fetch_events as (
    select * from {{ ref('fetch_events') }}
),

cadences as (
    select * from {{ ref('source_cadence') }}
),

current_snapshots as (
    select * from {{ ref('int_current_snapshots') }}
),

checks as (
    select * from fetch_events
    where event = 'check'
),

-- the source's latest landing: the checks of its inputs made together (pipeline/fetch.py land_source)
latest_landings as (
    select
        source,
        arg_max(landing_id, checked_at) as landing_id
    from checks
    group by source
),

landings as (
    select
        checks.source,
        max(checks.checked_at) as last_fetched_at,
        -- when the content of the inputs last changed: the first check that saw what they hold now
        max(checks.content_since) as last_changed_at,
        string_agg(distinct checks.outcome, ', ' order by checks.outcome) as last_fetch_outcome,
        max(checks.last_modified) as server_last_modified,
        bool_or(checks.demo) as is_demo
    from checks
    inner join latest_landings
        on
            checks.source = latest_landings.source
            and checks.landing_id = latest_landings.landing_id
    group by checks.source
),

-- the newest snapshot the source's parses made, and what dated it
latest_parses as (
    select
        source,
        snapshot_date,
        dated_by_file,
        last_modified
    from fetch_events
    where event = 'parse'
    qualify row_number() over (partition by source order by snapshot_date desc, checked_at desc) = 1
),

-- the freshness is measured as of the last check of any source (the run's own), so a source
-- that runs stop checking falls behind too
as_of as (
    select coalesce(max(checked_at), cast(current_timestamp as timestamp)) as as_of
    from checks
),

sources as (
    select source from landings
    union
    select source from latest_parses
    union
    select source from current_snapshots
),

dated as (
    select
        sources.source,
        landings.last_fetched_at,
        landings.last_fetch_outcome,
        landings.last_changed_at,
        coalesce(landings.is_demo, false) as is_demo,
        greatest(latest_parses.snapshot_date, current_snapshots.snapshot_date) as snapshot_date,
        case
            when
                latest_parses.dated_by_file
                and latest_parses.snapshot_date
                = greatest(latest_parses.snapshot_date, current_snapshots.snapshot_date)
                then latest_parses.snapshot_date
        end as file_date,
        cast(coalesce(latest_parses.last_modified, landings.server_last_modified) as date) as server_date
    from sources
    left join landings
        on sources.source = landings.source
    left join latest_parses
        on sources.source = latest_parses.source
    left join current_snapshots
        on sources.source = current_snapshots.source
),

measured as (
    select
        dated.*,
        coalesce(dated.file_date, dated.server_date) as published_on,
        coalesce(
            dated.file_date, dated.server_date, cast(dated.last_changed_at as date), dated.snapshot_date
        ) as lag_reference_date,
        case
            when dated.file_date is not null then 'file_date'
            when dated.server_date is not null then 'last_modified'
            when dated.last_changed_at is not null then 'first_seen'
            when dated.snapshot_date is not null then 'snapshot_date'
        end as lag_basis
    from dated
),

final as (
    select
        measured.source,
        cadences.authority,
        cadences.publishes,
        cadences.max_lag_days,
        measured.last_fetched_at,
        measured.last_fetch_outcome,
        measured.last_changed_at,
        measured.snapshot_date,
        measured.published_on,
        measured.lag_reference_date,
        measured.lag_basis,
        as_of.as_of,
        cast(date_diff('day', measured.lag_reference_date, cast(as_of.as_of as date)) as integer) as lag_days,
        measured.is_demo,
        case
            when measured.is_demo then 'demo'
            when cadences.max_lag_days is null then 'not_judged'
            when measured.lag_reference_date is null then 'unknown'
            when date_diff('day', measured.lag_reference_date, cast(as_of.as_of as date)) > cadences.max_lag_days
                then 'stale'
            else 'fresh'
        end as status
    from measured
    cross join as_of
    left join cadences
        on measured.source = cadences.source
)

select
    *,
    status = 'stale' as is_stale
from final
order by source
