{#- Generic data tests used in the `_*.yml` files beside the models. -#}

{#- Fails on every row where the SQL expression is not true, e.g. `country_a < country_b`. -#}
{% test expression_is_true(model, expression) %}
    select * from {{ model }}
    where not coalesce(({{ expression }}), false)
{% endtest %}

{#- Fails on every combination of the columns that occurs more than once (the model's grain). -#}
{% test unique_combination(model, columns) %}
    select
        {{ columns | join(', ') }},
        count(*) as occurrences
    from {{ model }}
    group by {{ columns | join(', ') }}
    having count(*) > 1
{% endtest %}

{#- A mart's grain, the columns that identify its rows (the Great Expectations mart suites read it from
    here): fails on every row whose grain has a null outside `nullable`, and on every combination of
    the grain that occurs more than once. -#}
{% test grain(model, columns, nullable=[]) %}
{%- set required = columns | reject("in", nullable) | list %}
    select
        'null in the grain' as failure,
        {{ columns | join(', ') }},
        1 as occurrences
    from {{ model }}
    where {% for column in required %}{{ column }} is null or {% endfor %}false
    union all
    select
        'more than one row' as failure,
        {{ columns | join(', ') }},
        count(*) as occurrences
    from {{ model }}
    group by {{ columns | join(', ') }}
    having count(*) > 1
{% endtest %}
