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
