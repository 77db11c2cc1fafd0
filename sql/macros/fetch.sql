{#- Whether the fetch file `name` lies in `_fetch/` beside the staged tables of the lake folder
    (pipeline/freshness.py write_build_inputs writes it for the build): the lake models of
    sql/models/fetch read it when it does and build empty otherwise (a build outside a pipeline run). -#}
{% macro fetch_file_exists(name) %}
    {%- if not execute -%}
        {{- return(false) -}}
    {%- endif -%}
    {%- set found = run_query("select count(*) from glob('_fetch/" ~ name ~ "')") -%}
    {{- return(found.columns[0].values()[0] > 0) -}}
{% endmacro %}
