{#- The tie index of mart_dyad_ties (docs/tie_index.md): one definition, which the mart calls and
    the property tests render with plain Jinja and run on generated rows (tests/test_tie_properties.py),
    so it uses no dbt function.

    `components`: a relation with one row per period (period_type, period_start) and pair (country_a,
    country_b) of the period's universe, the seven component values and three flags per row, the same
    on every row of a period: events_covered, sanctions_covered, unga_covered (the source covers the
    period and the period has an index). A covered count is never null (no evidence is a zero); a
    covered UN score is null for a pair the votes cannot score (too few common votes, not a member).
    `weights`: component, weight (text, as the seed loads pipeline/reference/tie_index_weights.csv).

    Returns every column of `components` and, per component, its score in the period: the mid-rank
    percentile of the value among the period's pairs that have one, (below + (equal - 1) / 2) / (n - 1),
    from 0 (lowest) to 1 (highest), 0.5 when n = 1 and 0.5 (neutral) for a pair without a value; null
    when the source does not cover the period. tie_index is the weighted mean of the scores of the
    covered components with a weight above 0 (the same components for every pair of the period),
    written term by term in a fixed order so no row order can change its last digits; tie_rank is its
    competition rank (1 + the number of pairs with a higher index) among index_pairs pairs.
    Values are ranked rounded to 9 decimals (a float sum's last digits depend on its order; they must
    not split a tie); a rank is a monotone function of the value, so one more cooperative event raises
    the pair's score and lowers nobody else's (the proof is in docs/tie_index.md). -#}
{% macro tie_index(components, weights) -%}
{%- set parts = [
    ('events_cooperation', 'events_covered'),
    ('events_net_cooperation', 'events_covered'),
    ('sanctions_linked_to_both', 'sanctions_covered'),
    ('sanctions_cross_program', 'sanctions_covered'),
    ('sanctions_relation_edges', 'sanctions_covered'),
    ('unga_agreement', 'unga_covered'),
    ('unga_kappa', 'unga_covered'),
] -%}
with tie_weight_rows as (
    select
        component,
        weight,
        try_cast(trim(weight) as double) as value
    from {{ weights }}
),

tie_weights as (
    select
        {% for name, _ in parts %}
        max(value) filter (where component = '{{ name }}') as w_{{ name }},
        {% endfor %}
        coalesce(
            max(
                case
                    when component not in ({% for name, _ in parts %}'{{ name }}'{{ ", " if not loop.last }}{% endfor %})
                        then error(
                            'tie_index_weights.csv: unknown component ' || coalesce(component, '(empty)')
                            || ' (the index knows {% for name, _ in parts %}{{ name }}{{ ", " if not loop.last }}{% endfor %})'
                        )
                    when value is null or not isfinite(value) or value < 0
                        then error(
                            'tie_index_weights.csv, component ' || component || ': weight '
                            || coalesce(weight, '(empty)') || ' is not a number of at least 0'
                        )
                end
            ),
            {% for name, _ in parts %}
            case
                when count(*) filter (where component = '{{ name }}') <> 1
                    then error('tie_index_weights.csv: component {{ name }} needs exactly one row (weight 0 leaves it out)')
            end,
            {% endfor %}
            null
        ) as failure
    from tie_weight_rows
),

-- the scores on narrow rows (the keys, flags and values): a window sorts every column it carries
tie_values as (
    select
        {% for name, covered in parts %}
        cast({{ covered }} as boolean) as covered_{{ name }},
        round({{ name }}, 9) as ranked_{{ name }},
        {% endfor %}
        period_type,
        period_start,
        country_a,
        country_b
    from {{ components }}
),

tie_scores as (
    select
        {% for name, covered in parts %}
        case
            when not covered_{{ name }} then null
            when ranked_{{ name }} is null then 0.5
            when count(ranked_{{ name }}) over tie_period = 1 then 0.5
            else (
                rank() over (partition by period_type, period_start order by ranked_{{ name }} asc nulls last) - 1
                + (count(*) over (partition by period_type, period_start, ranked_{{ name }}) - 1) / 2
            ) / (count(ranked_{{ name }}) over tie_period - 1)
        end as {{ name }}_score,
        {% endfor %}
        period_type,
        period_start,
        country_a,
        country_b
    from tie_values
    window tie_period as (partition by period_type, period_start)
),

tie_scored as (
    select
        {{ components }}.*,
        tie_scores.* exclude (period_type, period_start, country_a, country_b)
    from {{ components }}
    inner join tie_scores using (period_type, period_start, country_a, country_b)
),

tie_indexed as (
    select
        tie_scored.*,
        round(
            (
                {% for name, _ in parts %}
                coalesce(tie_weights.w_{{ name }} * tie_scored.{{ name }}_score, 0) +
                {% endfor %}
                0
            ) / nullif(
                {% for name, _ in parts %}
                (case when tie_scored.{{ name }}_score is not null then tie_weights.w_{{ name }} else 0 end) +
                {% endfor %}
                0, 0
            ),
            12
        ) as tie_index,
        (
            {% for name, _ in parts %}
            (tie_scored.{{ name }}_score is not null and tie_weights.w_{{ name }} > 0)::bigint +
            {% endfor %}
            0
        ) as index_components,
        nullif(concat_ws(','
            {% for name, _ in parts %},
            case when tie_scored.{{ name }}_score is not null and tie_weights.w_{{ name }} > 0 then '{{ name }}' end
            {% endfor %}
        ), '') as index_component_list,
        nullif(concat_ws(','
            {% for name, _ in parts %},
            case
                when tie_scored.{{ name }}_score is not null and tie_weights.w_{{ name }} > 0
                    and tie_scored.{{ name }} is null then '{{ name }}'
            end
            {% endfor %}
        ), '') as index_neutral_list
    from tie_scored
    cross join tie_weights
    where tie_weights.failure is null
)

select
    *,
    count(tie_index) over (partition by period_type, period_start) as index_pairs,
    case when tie_index is not null then rank() over (
        partition by period_type, period_start, tie_index is null
        order by tie_index desc
    ) end as tie_rank
from tie_indexed
{%- endmacro %}

{#- Net cooperation (C - K) / (C + K) of a pair's realized events, -1 to 1: 0 (neutral) for an observed
    pair with neither cooperation nor conflict, null when both are null (not observed). More
    cooperation never lowers it and more conflict never raises it. -#}
{% macro net_cooperation(cooperation, conflict) -%}
case
    when {{ cooperation }} + {{ conflict }} > 0
        then ({{ cooperation }} - {{ conflict }}) / ({{ cooperation }} + {{ conflict }})
    when {{ cooperation }} is not null and {{ conflict }} is not null then 0
end
{%- endmacro %}
