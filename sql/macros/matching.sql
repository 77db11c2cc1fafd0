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

{#- A designation's record key as its source writes it, for looking records up by the source's own id:
    Canada's list has no record id and is keyed Country|Schedule|Item (the staged reference_number, as the
    file writes each part); the OFSI ConList's designation is a (Group ID, regime) pair, written
    '<Group ID>|<Regime>' with the regime as the file names it (the parser's 'group-<id>-<code>' and its
    programme). Every other source's staged id is its own (OFAC uid, UN DATAID, EU logicalId, UK Unique
    ID, SECO ssid, OpenSanctions entity id). -#}
{% macro source_record_key(relation) -%}
    case
        when {{ relation }}.source = 'ca_sema' and {{ relation }}.reference_number is not null
            then {{ relation }}.reference_number
        when {{ relation }}.source = 'gb_hmt' and {{ relation }}.source_record_id like 'group-%'
            then split_part({{ relation }}.source_record_id, '-', 2) || '|' || {{ relation }}.programs[1]
        else {{ relation }}.source_record_id
    end
{%- endmacro %}
