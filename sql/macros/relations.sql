{#- ref() and source() name relations without the database: dbt-duckdb names the database after the
    file (`sanctions`), and a view that said "sanctions"."main"."x" would break when the published
    file is opened under another name (ATTACH ... AS pub, a renamed copy). -#}
{% macro ref() %}
    {%- set relation = builtins.ref(*varargs, **kwargs) -%}
    {%- do return(relation.include(database=False)) -%}
{% endmacro %}

{% macro source(source_name, table_name) %}
    {%- set relation = builtins.source(source_name, table_name) -%}
    {%- do return(relation.include(database=False)) -%}
{% endmacro %}
