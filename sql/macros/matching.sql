{#- Whether the match step's file `name` lies in `_matching/` beside the staged tables of the lake folder
    (pipeline/matching/step.py writes it, pipeline/flow.py links it there for the build): the lake models
    of sql/models/matching read it when it does and build empty otherwise. -#}
{% macro matching_file_exists(name) %}
    {%- if not execute -%}
        {{- return(false) -}}
    {%- endif -%}
    {%- set found = run_query("select count(*) from glob('_matching/" ~ name ~ "')") -%}
    {{- return(found.columns[0].values()[0] > 0) -}}
{% endmacro %}
