{#-
    staged_table(): the body of a lake model (sql/models/lake/<table>.sql): every Parquet part of
    the staged table of the same name (source `staged`, relative to the lake folder PIPELINE_LAKE),
    with exactly the columns the model's YAML declares, cast to their declared types. A declared
    column no part has yet (a column added since) is null; a column only older parts have is left
    out. A table no source has written yet is empty, with its columns, so every model builds on a
    lake that holds only some sources; a lake with no part at all stops the run first
    (check_lake(), on-run-start).
-#}
{% macro staged_table() %}
    {%- set relation = source('staged', this.identifier) -%}
    {%- set declared = model.columns.values() | list -%}
    {%- if not execute -%}
        select * from {{ relation }}
    {%- else -%}
        {%- if not declared -%}
            {{ exceptions.raise_compiler_error(
                "lake model " ~ this.identifier ~ " declares no columns in sql/models/lake/_lake.yml: run `pipeline docs`") }}
        {%- endif -%}
        {%- set parts = staged_parts(this.identifier) -%}
        {%- set present = get_columns_in_query('select * from ' ~ relation) if parts > 0 else [] -%}
        select
        {%- for column in declared %}
            cast({{ adapter.quote(column.name) if column.name in present else 'null' }} as {{ column.data_type }})
                as {{ adapter.quote(column.name) }}{{ "," if not loop.last }}
        {%- endfor %}
        {% if parts > 0 -%}
            from {{ relation }}
        {%- else -%}
            where false
        {%- endif %}
    {%- endif -%}
{% endmacro %}

{#- on-run-start: a run that builds lake models from a lake folder holding no Parquet part stops
    here, with one error that names the folder, before any model runs. `dbt docs generate`,
    `dbt compile` and runs of other models need no lake. -#}
{% macro check_lake() %}
    {%- if execute and flags.WHICH in ('build', 'run') -%}
        {%- set selected = [] -%}
        {%- for node in graph.nodes.values() if node.resource_type == 'model' and node.fqn[1:2] == ['lake']
                and node.unique_id in selected_resources -%}
            {%- do selected.append(node.unique_id) -%}
        {%- endfor -%}
        {%- if selected and staged_parts('*') == 0 -%}
            {{ exceptions.raise_compiler_error(
                "no staged Parquet under the lake folder " ~ lake_folder() ~ " (expected <table>/" ~ var('staged_parts')
                ~ "): run `make run` (or `pipeline run`) first, or set PIPELINE_LAKE to a staged lake") }}
        {%- endif -%}
    {%- endif -%}
{% endmacro %}

{#- How many Parquet parts the lake holds for `table` ('*': for every table); var staged_root: the
    build's view of a lake on an object store (pipelinelake://staged/, pipeline/lakefs.py), else the lake folder. -#}
{% macro staged_parts(table) %}
    {%- set pattern = var('staged_root', '') ~ table ~ "/" ~ var('staged_parts') -%}
    {%- set found = run_query("select count(*) from glob('" ~ pattern ~ "')") -%}
    {{- return(found.columns[0].values()[0]) -}}
{% endmacro %}

{#- The lake folder the profile points at (DuckDB's file_search_path), for messages. -#}
{% macro lake_folder() %}
    {{- return(run_query("select current_setting('file_search_path')").columns[0].values()[0]) -}}
{% endmacro %}
