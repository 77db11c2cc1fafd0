-- grain: one row per designation per staged source snapshot (every snapshot in the lake)
-- OFAC's consolidated file repeats the SDN entry of a party also on a non-SDN list: those rows
-- (source us_ofac_cons, list SDN) are left out, always, so the SDN list counts once, from us_ofac_sdn.
-- lake.designations keeps them.
with source as (
    select * from {{ ref('designations') }}
    where not (source = 'us_ofac_cons' and "list" = 'SDN')
),

renamed as (
    select
        designation_id,
        source,
        authority,
        "list" as list_code,
        source_record_id,
        entity_key,
        entity_type,
        primary_name,
        programs,
        cast(listed_on as date) as listed_on,
        reference_number,
        remarks,
        cast(snapshot_date as date) as snapshot_date,
        raw_sha256,
        raw_file
    from source
)

select * from renamed
