{#- The first day after a period that starts on `start` and is a 'year' or a 'month' (`kind`):
    what is in force at the period's end was dated before it. -#}
{% macro period_end(kind, start) -%}
    case when {{ kind }} = 'year' then {{ start }} + interval 1 year else {{ start }} + interval 1 month end
{%- endmacro %}
