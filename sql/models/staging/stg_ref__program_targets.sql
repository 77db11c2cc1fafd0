-- grain: one row per sanctions programme and target country (thematic programmes: one row, no target)
with source as (
    select * from {{ ref('programs') }}
),

renamed as (
    select
        authority,
        program,
        nullif(trim(target_iso2), '') as target_iso2,
        nullif(trim(region), '') as target_region,
        kind as program_kind
    from source
)

select * from renamed
