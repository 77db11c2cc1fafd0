-- grain: one row per ISO 3166-1 country or territory (the project's crosswalk)
with source as (
    select * from {{ ref('countries') }}
),

renamed as (
    select
        iso2 as country_iso2,
        iso3 as country_iso3,
        name as country_name,
        kind
    from source
)

select * from renamed
