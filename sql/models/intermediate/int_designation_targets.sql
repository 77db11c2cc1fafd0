-- grain: one row per designation id (every snapshot): the unique target it belongs to
-- A designation the match step did not see (a build without it) is a target of its own
-- ('D-' and its designation id, match_method 'unmatched'), so counts never lose it.
with designations as (
    select distinct designation_id from {{ ref('stg_sanctions__designations') }}
),

matched as (
    select * from {{ ref('matching_designation_targets') }}
),

final as (
    select
        designations.designation_id,
        coalesce(matched.target_id, 'D-' || designations.designation_id) as target_id,
        coalesce(matched.match_method, 'unmatched') as match_method,
        coalesce(matched.match_score, 1.0) as match_score
    from designations
    left join matched
        on designations.designation_id = matched.designation_id
)

select * from final
