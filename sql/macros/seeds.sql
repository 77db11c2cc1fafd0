{#- The reference CSVs (seeds) as text: every column varchar unless the seed's `column_types` says
    otherwise, as the parsers read them (no type guessing: an ISO code `NA` stays Namibia). The
    models cast what they use. dbt-duckdb then loads the file with COPY. -#}
{% macro duckdb__create_csv_table(model, agate_table) %}
    {%- set column_types = model['config'].get('column_types', {}) -%}
    {%- set quote_columns = model['config'].get('quote_columns', None) -%}
    {%- set columns = [] -%}
    {%- for name in agate_table.column_names -%}
        {%- do columns.append(adapter.quote_seed_column(name | string, quote_columns) ~ ' '
                              ~ column_types.get(name, 'varchar')) -%}
    {%- endfor -%}
    {%- set sql = 'create table ' ~ this.render() ~ ' (' ~ columns | join(', ') ~ ')' -%}
    {%- call statement('_') -%}{{ sql }}{%- endcall -%}
    {{- return(sql) -}}
{% endmacro %}
