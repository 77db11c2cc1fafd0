-- grain: one row per sanctions programme and target country (thematic programmes: one row, no target)
-- kind: country (each target counts), regional (a region's member countries: a designation counts for
-- the members its own links name, else under the region), thematic (no target)
with source as (
    select * from {{ ref('programs') }}
),

regions as (
    select * from {{ ref('program_regions') }}
),

renamed as (
    select
        source.authority,
        source.program,
        nullif(trim(source.target_iso2), '') as target_iso2,
        -- the column `region` names a sub-national area for a country programme (crimea, dpr;lpr) and
        -- the programme's region code for a regional one (XWB)
        case when source.kind <> 'regional' then nullif(trim(source.region), '') end as target_region,
        case when source.kind = 'regional' then nullif(trim(source.region), '') end as region_code,
        regions.name as region_name,
        source.kind as program_kind
    from source
    left join regions
        on
            source.kind = 'regional'
            and trim(source.region) = regions.code
)

select * from renamed
