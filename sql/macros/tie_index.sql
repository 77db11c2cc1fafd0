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

-- per component and period, the distinct values ranked (rounded) with how many pairs hold each: a
-- pair's rank is 1 + the pairs below its value, so the scores come from these few rows (most pairs
-- share the value 0) and no window sorts the period's pairs
{% for name, covered in parts %}
tie_values_{{ name }} as (
    select
        period_type,
        period_start,
        round({{ name }}, 9) as ranked,
        count(*) as equal
    from {{ components }}
    where round({{ name }}, 9) is not null
    group by all
),

tie_ranks_{{ name }} as (
    select
        period_type,
        period_start,
        ranked,
        equal,
        cast(coalesce(sum(equal) over (
            partition by period_type, period_start order by ranked asc
            rows between unbounded preceding and 1 preceding
        ), 0) as bigint) as below,
        cast(sum(equal) over (partition by period_type, period_start) as bigint) as valued
    from tie_values_{{ name }}
),

{% endfor %}
tie_scored as (
    select
        {% for name, covered in parts %}
        case
            when not cast(tie_rows.{{ covered }} as boolean) then null
            when tie_ranks_{{ name }}.ranked is null then 0.5
            when tie_ranks_{{ name }}.valued = 1 then 0.5
            else (
                tie_ranks_{{ name }}.below + (tie_ranks_{{ name }}.equal - 1) / 2
            ) / (tie_ranks_{{ name }}.valued - 1)
        end as {{ name }}_score,
        {% endfor %}
        tie_rows.*
    from {{ components }} as tie_rows
    {% for name, covered in parts %}
    left join tie_ranks_{{ name }}
        on
            tie_rows.period_type = tie_ranks_{{ name }}.period_type
            and tie_rows.period_start = tie_ranks_{{ name }}.period_start
            and round(tie_rows.{{ name }}, 9) = tie_ranks_{{ name }}.ranked
    {% endfor %}
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
),

-- the competition rank from the distinct index values of each period, as the scores
tie_index_values as (
    select
        period_type,
        period_start,
        tie_index,
        count(*) as equal
    from tie_indexed
    where tie_index is not null
    group by all
),

tie_index_ranks as (
    select
        period_type,
        period_start,
        tie_index,
        1 + cast(coalesce(sum(equal) over (
            partition by period_type, period_start order by tie_index desc
            rows between unbounded preceding and 1 preceding
        ), 0) as bigint) as tie_rank
    from tie_index_values
),

tie_index_periods as (
    select
        period_type,
        period_start,
        cast(sum(equal) as bigint) as index_pairs
    from tie_index_values
    group by all
)

select
    tie_indexed.*,
    coalesce(tie_index_periods.index_pairs, 0) as index_pairs,
    tie_index_ranks.tie_rank
from tie_indexed
left join tie_index_periods
    on
        tie_indexed.period_type = tie_index_periods.period_type
        and tie_indexed.period_start = tie_index_periods.period_start
left join tie_index_ranks
    on
        tie_indexed.period_type = tie_index_ranks.period_type
        and tie_indexed.period_start = tie_index_ranks.period_start
        and tie_indexed.tie_index = tie_index_ranks.tie_index
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
