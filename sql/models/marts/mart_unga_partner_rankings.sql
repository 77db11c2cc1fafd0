-- grain: one row per country, period (session or year) and partner country with a score in mart_unga_agreement
-- (at least min_common_votes common votes): partners ranked by agreement, most aligned first
with agreement as (
    select * from {{ ref('mart_unga_agreement') }}
),

scored as (
    select * from agreement
    where agreement is not null
),

directed as (
    select
        period_type,
        period,
        country_a as country_iso2,
        country_a_name as country_name,
        country_b as partner_iso2,
        country_b_name as partner_name,
        common_votes,
        agreement,
        s_score,
        kappa
    from scored
    union all
    select
        period_type,
        period,
        country_b as country_iso2,
        country_b_name as country_name,
        country_a as partner_iso2,
        country_a_name as partner_name,
        common_votes,
        agreement,
        s_score,
        kappa
    from scored
),

final as (
    select
        period_type,
        period,
        country_iso2,
        country_name,
        dense_rank() over (
            partition by period_type, period, country_iso2 order by agreement desc
        ) as rank,
        row_number() over (
            partition by period_type, period, country_iso2 order by agreement desc, partner_iso2
        ) as position,
        partner_iso2,
        partner_name,
        common_votes,
        agreement,
        s_score,
        kappa
    from directed
)

select * from final
order by period_type, period, country_iso2, position
