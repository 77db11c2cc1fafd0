{#-
    designation_columns(relation): the columns that name a designation in a snapshot (id, source,
    authority, list, entity, type, primary name, listing date, snapshot), read from `relation` (a
    CTE over stg_sanctions__designations), in the order the attribution models publish them.
-#}
{% macro designation_columns(relation='designations') %}
    {%- for column in ['designation_id', 'source', 'authority', 'list_code', 'entity_key', 'entity_type',
                       'primary_name', 'listed_on', 'snapshot_date'] %}
        {{ relation }}.{{ column }}{{ "," if not loop.last }}
    {%- endfor %}
{%- endmacro %}
