{#- The default glob of the programme files (sql/models/ref/programs.sql): every source folder's
    programs.csv beside the project, as an absolute path (DuckDB resolves a relative one against the
    lake folder, the profile's file_search_path). Outside dbt (linters) `invocation_args_dict` does not
    exist: the path is then relative. -#}
{% macro default_programs_glob() -%}
    {%- set project_dir = invocation_args_dict['project_dir'] if invocation_args_dict is defined else '.' -%}
    {{ return(project_dir ~ '/../pipeline/sources/*/programs.csv') }}
{%- endmacro %}
