-- grain: one row per voting bloc (stg_unga__blocs) and period (session or year) in mart_unga_agreement:
-- the bloc's cohesion, i.e. the mean agreement and kappa over its member pairs that have scores
with blocs as (
    select * from {{ ref('stg_unga__blocs') }}
),

agreement as (
    select * from {{ ref('mart_unga_agreement') }}
),

bloc_members as (
    select
        bloc,
        any_value(bloc_label) as bloc_label,
        string_agg(country_iso2, ' ' order by country_iso2) as members
    from blocs
    group by bloc
),

bloc_pairs as (
    select
        a.bloc,
        a.country_iso2 as country_a,
        b.country_iso2 as country_b
    from blocs as a
    inner join blocs as b
        on
            a.bloc = b.bloc
            and a.country_iso2 < b.country_iso2
),

periods as (
    select distinct
        period_type,
        period
    from agreement
),

pair_scores as (
    select
        bloc_pairs.bloc,
        periods.period_type,
        periods.period,
        agreement.common_votes,
        agreement.agreement,
        agreement.kappa
    from bloc_pairs
    cross join periods
    left join agreement
        on
            bloc_pairs.country_a = agreement.country_a
            and bloc_pairs.country_b = agreement.country_b
            and periods.period_type = agreement.period_type
            and periods.period = agreement.period
),

cohesion as (
    select
        bloc,
        period_type,
        period,
        cast(count(*) as bigint) as pairs,
        count(agreement) as pairs_scored,
        avg(agreement) as mean_agreement,
        min(agreement) as min_agreement,
        avg(kappa) as mean_kappa,
        cast(min(common_votes) filter (where agreement is not null) as bigint) as min_common_votes_of_pairs
    from pair_scores
    group by bloc, period_type, period
),

final as (
    select
        cohesion.bloc,
        bloc_members.bloc_label,
        bloc_members.members,
        cohesion.period_type,
        cohesion.period,
        cohesion.pairs,
        cohesion.pairs_scored,
        cohesion.mean_agreement,
        cohesion.min_agreement,
        cohesion.mean_kappa,
        cohesion.mean_agreement - lag(cohesion.mean_agreement) over (
            partition by cohesion.bloc, cohesion.period_type order by cohesion.period
        ) as agreement_change,
        cohesion.min_common_votes_of_pairs
    from cohesion
    inner join bloc_members on cohesion.bloc = bloc_members.bloc
    where cohesion.pairs_scored > 0
)

select * from final
order by bloc, period_type, period
