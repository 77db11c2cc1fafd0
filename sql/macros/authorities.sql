{#- The one definition of which authorities count in an 'all authorities' rollup. OpenSanctions
    aggregates the official lists (OFAC, UN, EU, UK, Canada, Switzerland...): its designations are
    the same parties again, so counting it in 'all' would count them twice. Its own per-authority
    rows stay. Used as a grouping column: the 'all' grouping sets group by it and keep its true
    group only (`having grouping(counts_in_all) = 1 or counts_in_all`). -#}
{% macro aggregator_authorities() -%}
    ('opensanctions')
{%- endmacro %}

{% macro counts_in_all(authority='authority') -%}
    coalesce({{ authority }} not in {{ aggregator_authorities() }}, true)
{%- endmacro %}
