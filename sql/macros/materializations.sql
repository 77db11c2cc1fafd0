{#-
    The table and view materializations of this project on DuckDB: dbt-duckdb's, minus what DuckDB
    does not need. dbt's default builds `x__dbt_tmp`, renames `x` to `x__dbt_backup`, renames the
    new one to `x`, drops the backup and then looks up the columns to comment them: seven
    statements per model. DuckDB's DDL is transactional, so one `create or replace` in the
    model's transaction replaces the old relation only when the new one is built (a failed model
    leaves the old one as it was; a drop, when the relation changes kind, is in the same
    transaction), and the comments go in the same statement batch: the
    documented columns are the ones commented, and a documented column the model does not have is
    an error (sql/README.md gives the measurements). Contracts (`contract: {enforced: true}`) are
    built by dbt-duckdb's create_table_as: columns, types and constraints checked.
-#}
{% materialization view, adapter='duckdb' %}
    {%- set existing = load_cached_relation(this) -%}
    {%- set target = this.incorporate(type='view') -%}
    {{ run_hooks(pre_hooks, inside_transaction=False) }}
    {{ run_hooks(pre_hooks, inside_transaction=True) }}
    {% call statement('main') -%}
        {%- if existing is not none and not existing.is_view %}
            drop {{ existing.type }} if exists {{ existing }};
        {%- endif %}
        {%- if config.get('contract').enforced %}
            {{ get_assert_columns_equivalent(sql) }}
        {%- endif %}
        create or replace view {{ target }} as (
            {{ sql }}
        );
        {{ comments_of(target, model) }}
    {%- endcall %}
    {{ run_hooks(post_hooks, inside_transaction=True) }}
    {{ adapter.commit() }}
    {{ run_hooks(post_hooks, inside_transaction=False) }}
    {{ return({'relations': [target]}) }}
{% endmaterialization %}

{% materialization table, adapter='duckdb' %}
    {%- set existing = load_cached_relation(this) -%}
    {%- set target = this.incorporate(type='table') -%}
    {{ run_hooks(pre_hooks, inside_transaction=False) }}
    {{ run_hooks(pre_hooks, inside_transaction=True) }}
    {% call statement('main') -%}
        {%- if existing is not none %}
            drop {{ existing.type }} if exists {{ existing }};
        {%- endif %}
        {{ create_table_as(False, target, sql) }};
        {{ comments_of(target, model) }}
    {%- endcall %}
    {{ run_hooks(post_hooks, inside_transaction=True) }}
    {{ adapter.commit() }}
    {{ run_hooks(post_hooks, inside_transaction=False) }}
    {{ return({'relations': [target]}) }}
{% endmaterialization %}

{#- COMMENT ON the relation and each documented column (persist_docs), as statements. -#}
{% macro comments_of(relation, model) -%}
    {%- if config.persist_relation_docs() and model.description %}
        comment on {{ relation.type }} {{ relation }} is {{ duckdb_escape_comment(model.description) }};
    {%- endif %}
    {%- if config.persist_column_docs() %}
        {%- for name, column in model.columns.items() if column.description %}
            comment on column {{ relation }}.{{ adapter.quote(name) }} is {{ duckdb_escape_comment(column.description) }};
        {%- endfor %}
    {%- endif %}
{%- endmacro %}
