-- grain: one row per staged list snapshot and gap that makes it a partial list: a subset under its
-- floor, or a file set read without one of its members (parse_audit rule partial_input, written by
-- the parser with the snapshot; pipeline/partial.py): field = reason, value = '<component>: <missing>'
with source as (
    select * from {{ ref('parse_audit') }}
),

renamed as (
    select
        source,
        cast(snapshot_date as date) as snapshot_date,
        field as reason,
        split_part(value, ': ', 1) as component,
        nullif(trim(substr(value, strpos(value, ': ') + 2)), '') as missing,
        raw_file
    from source
    where rule = 'partial_input' and strpos(value, ': ') > 0
)

select * from renamed
