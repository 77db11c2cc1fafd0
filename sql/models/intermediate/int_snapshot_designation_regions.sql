-- grain: one row per source snapshot, designation and region: the designations of a regional
-- programme (XWB Western Balkans) whose own links name none of the programme's countries, counted
-- under the region on the program_target basis instead of once for every member country. Same
-- columns as int_snapshot_designation_countries, with the region's code and name in place of a
-- country: a region is never a country row (rankings show it, if at all, as a row flagged as a region)
with program_attributions as (
    select * from {{ ref('int_snapshot_program_attributions') }}
),

designations as (
    select * from {{ ref('stg_sanctions__designations') }}
),

regional as (
    select distinct
        source,
        snapshot_date,
        designation_id,
        region_code,
        region_name
    from program_attributions
    where attribution = 'region'
),

final as (
    select
        {{ designation_columns('designations') }},
        'program_target' as basis,
        regional.region_code,
        regional.region_name
    from regional
    inner join designations
        on
            regional.source = designations.source
            and regional.snapshot_date = designations.snapshot_date
            and regional.designation_id = designations.designation_id
)

select * from final
