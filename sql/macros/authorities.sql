{#- The one definition of which authorities count in an 'all authorities' rollup. OpenSanctions
    aggregates the official lists (OFAC, UN, EU, UK, Canada, Switzerland...): its designations are
    the same parties again, so counting it in 'all' would count them twice. Its own per-authority
    rows stay. Used as a grouping column: the 'all' grouping sets group by it and keep its true
    group only (`having grouping(counts_in_all) = 1 or counts_in_all`). -#}
{% macro aggregator_authorities() -%}
    ('opensanctions')
{%- endmacro %}

{% macro counts_in_all(authority='authority') -%}
    coalesce({{ authority }} not in {{ aggregator_authorities() }}, true)
{%- endmacro %}

{#- The ranking marts' column per authority, in column order: the authority id in the data (never
    renamed) and its column name (us_ofac -> us, un_sc -> un). The one place of this mapping: the
    marts' wide columns (per_authority_columns) and their YAML name the same columns. An authority
    not listed here (opensanctions) keeps its own rows, without a column. -#}
{% macro authority_columns() -%}
    {{ return([
        ('us_ofac', 'us'),
        ('eu', 'eu'),
        ('un_sc', 'un'),
        ('gb', 'gb'),
        ('ca', 'ca'),
        ('ch', 'ch'),
    ]) }}
{%- endmacro %}

{#- The wide columns of a ranking mart, one per authority and "all": the value of the row of the same
    country and slice (partition_by) whose authority is that one and whose list_code is 'all' (every
    list of the authority), 0 when the authority has no such row. Written as window aggregates over
    the long rows, so each long row carries its country's counts for every authority. -#}
{% macro per_authority_columns(value, partition_by, authority='authority', list_code='list_code') -%}
    {%- for id, column in authority_columns() %}
    coalesce(max(case when {{ authority }} = '{{ id }}' and {{ list_code }} = 'all' then {{ value }} end)
        over ({{ partition_by }}), 0) as {{ column }},
    {%- endfor %}
    coalesce(max(case when {{ authority }} = 'all' then {{ value }} end)
        over ({{ partition_by }}), 0) as "all"
{%- endmacro %}

{#- Authorities whose record id names one party across all their lists: OFAC's SDN file and its
    consolidated (non-SDN) file share the record ids (FixedRef / ent_num), so VTB, on the SDN list and
    on the SSI list, is one OFAC record under two lists. -#}
{% macro shared_record_authorities() -%}
    ('us_ofac')
{%- endmacro %}

{#- What the 'designations' unit counts once: the designation, except for an authority whose
    lists share record ids, where it is the record (authority:record id), so a party on two of its
    lists counts once in the authority's all-lists rollup and in 'all', and once in each list. -#}
{% macro designation_count_key(authority='authority', source_record_id='source_record_id',
                               designation_id='designation_id') -%}
    case
        when {{ authority }} in {{ shared_record_authorities() }} and {{ source_record_id }} is not null
            then {{ authority }} || ':' || {{ source_record_id }}
        else {{ designation_id }}
    end
{%- endmacro %}

{#- The wide columns by name, qualified by a relation (a select list on one line). -#}
{% macro authority_column_names(relation) -%}
    {%- for _id, column in authority_columns() -%}{{ relation }}.{{ column }}, {% endfor -%}{{ relation }}."all"
{%- endmacro %}
