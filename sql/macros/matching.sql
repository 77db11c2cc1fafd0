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
