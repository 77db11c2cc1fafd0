{#- The pipeline's side files beside the staged lake (_matching/, _fetch/: Parquet a step of the run
    writes for the build), read as a lake model whose columns and types are its YAML entry's: each column
    cast to its declared data_type; an empty table of those columns when the step did not write the file
    (a build without it). One definition for every such model, so a column is declared once. -#}
{% macro side_file_exists(folder, name) %}
    {%- if not execute -%}
        {{- return(false) -}}
    {%- endif -%}
    {%- set found = run_query("select count(*) from glob('" ~ folder ~ "/" ~ name ~ "')") -%}
    {{- return(found.columns[0].values()[0] > 0) -}}
{% endmacro %}

{% macro side_file(folder, name) %}
    {%- set exists = side_file_exists(folder, name) %}
    select
    {%- for column in model.columns.values() %}
        cast({{ column.name if exists else 'null' }} as {{ column.data_type }}) as {{ column.name }}{{ "," if not loop.last }}
    {%- endfor %}
    {%- if exists %}
    from read_parquet('{{ folder }}/{{ name }}')
    {%- else %}
    where false
    {%- endif %}
{% endmacro %}
