-- grain: one row per period (period_type 'session' or 'year') and unordered country pair (country_a < country_b)
-- with at least one common vote. Common votes are the contested roll calls (int_unga_rollcalls) on which both
-- voted yes (1), abstain (2) or no (3); absent (8) and non-member (9) rows never count. With n common votes:
--   pct_identical = share of identical votes
--   agreement     = mean(1 - |a - b| / 2)                        Voeten's agreement, abstain = half agreement
--   s_score       = 1 - 2 * mean(|a - b| / 2) = 2 * agreement - 1   Signorino & Ritter S, absolute distance, d_max 2
--   kappa         = 1 - D_o / D_e, D_e = sum_x sum_y p_a(x) p_b(y) |x - y| / 2 (Cohen: each country's own
--                   marginals over the common votes; linear distance)
--   scott_pi      = 1 - D_o / D_e with the pooled marginals (p_a + p_b) / 2 (Scott)
-- where D_o = mean(|a - b| / 2). Below min_common_votes (a constant of this model, 10) the scores are NULL and
-- the row stays with its n; kappa or pi is NULL also when its expected disagreement is 0.
with counts as (
    select * from {{ ref('int_unga_dyad_vote_counts') }}
),

countries as (
    select * from {{ ref('stg_ref__countries') }}
),

settings as (
    select
        10 as min_common_votes,
        2.0 as vote_range
),

-- one pass over the 3 x 3 table of each pair and period: the observed sums and each country's marginal counts
-- (a_x: roll calls on which country_a voted x, b_x likewise); the expected sums over every pair of vote values
-- (x, y) of count products times |x - y| follow from them (divided by n squared below):
--   own marginals  sum_xy a_x b_y |x - y|      = a1 b2 + a2 b1 + a2 b3 + a3 b2 + 2 (a1 b3 + a3 b1)
--   pooled         sum_xy p_x p_y |x - y|      = 2 p1 p2 + 2 p2 p3 + 4 p1 p3, p_x = a_x + b_x
observed as (
    select
        period_type,
        period,
        country_a,
        country_b,
        cast(sum(roll_calls) as bigint) as common_votes,
        cast(coalesce(sum(roll_calls) filter (where vote_a = vote_b), 0) as bigint) as identical_votes,
        cast(sum(roll_calls * abs(vote_a - vote_b)) as bigint) as distance_sum,
        cast(coalesce(sum(roll_calls) filter (where vote_a = 1), 0) as bigint) as a1,
        cast(coalesce(sum(roll_calls) filter (where vote_a = 2), 0) as bigint) as a2,
        cast(coalesce(sum(roll_calls) filter (where vote_a = 3), 0) as bigint) as a3,
        cast(coalesce(sum(roll_calls) filter (where vote_b = 1), 0) as bigint) as b1,
        cast(coalesce(sum(roll_calls) filter (where vote_b = 2), 0) as bigint) as b2,
        cast(coalesce(sum(roll_calls) filter (where vote_b = 3), 0) as bigint) as b3
    from counts
    group by period_type, period, country_a, country_b
),

-- the expected sums from the marginal counts of the same row (no second pass, no join back)
scored as (
    select
        observed.period_type,
        observed.period,
        observed.country_a,
        observed.country_b,
        observed.common_votes,
        settings.min_common_votes,
        observed.common_votes >= settings.min_common_votes as is_scored,
        observed.identical_votes / observed.common_votes as pct_identical,
        observed.distance_sum / (observed.common_votes * settings.vote_range) as observed_disagreement,
        cast(
            observed.a1 * observed.b2 + observed.a2 * observed.b1 + observed.a2 * observed.b3
            + observed.a3 * observed.b2 + 2 * (observed.a1 * observed.b3 + observed.a3 * observed.b1) as double
        ) / (observed.common_votes ^ 2 * settings.vote_range) as expected_disagreement_kappa,
        cast(
            2 * (observed.a1 + observed.b1) * (observed.a2 + observed.b2)
            + 2 * (observed.a2 + observed.b2) * (observed.a3 + observed.b3)
            + 4 * (observed.a1 + observed.b1) * (observed.a3 + observed.b3) as double
        ) / (4 * observed.common_votes ^ 2 * settings.vote_range) as expected_disagreement_pi
    from observed
    cross join settings
),

final as (
    select
        scored.period_type,
        scored.period,
        scored.country_a,
        scored.country_b,
        coalesce(a.country_name, scored.country_a) as country_a_name,
        coalesce(b.country_name, scored.country_b) as country_b_name,
        scored.common_votes,
        scored.min_common_votes,
        case when scored.is_scored then scored.pct_identical end as pct_identical,
        case when scored.is_scored then 1 - scored.observed_disagreement end as agreement,
        case when scored.is_scored then 1 - 2 * scored.observed_disagreement end as s_score,
        case
            when scored.is_scored
                then 1 - scored.observed_disagreement / nullif(scored.expected_disagreement_kappa, 0)
        end as kappa,
        case
            when scored.is_scored
                then 1 - scored.observed_disagreement / nullif(scored.expected_disagreement_pi, 0)
        end as scott_pi
    from scored
    left join countries as a on scored.country_a = a.country_iso2
    left join countries as b on scored.country_b = b.country_iso2
)

select * from final
order by period_type, period, country_a, country_b
