{#- A folder's `+schema` (lake, ref) is the schema's name as it is, not appended to the target's
    (dbt's default would make it `main_lake`): the published file has schemas main, lake and ref. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {{- (custom_schema_name or target.schema) | trim -}}
{%- endmacro %}
