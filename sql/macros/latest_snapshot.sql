{#- The rows of a staged relation that belong to the latest snapshot of their source
    (int_current_snapshots): the one definition of "current" that every *_current model uses. -#}
{% macro latest_snapshot(relation, alias='staged') %}
    select {{ alias }}.*
    from {{ relation }} as {{ alias }}
    inner join {{ ref('int_current_snapshots') }} as current_snapshots
        on
            {{ alias }}.source = current_snapshots.source
            and {{ alias }}.snapshot_date = current_snapshots.snapshot_date
{% endmacro %}
