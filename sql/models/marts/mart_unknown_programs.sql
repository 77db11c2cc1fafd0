-- grain: one row per authority and programme tag found in the current designations but missing
-- from the programme table (so its target country is unknown), with how many designations carry it
with programs as (
    select * from {{ ref('int_designation_programs') }}
),

final as (
    select
        authority,
        program,
        count(distinct designation_id) as designations
    from programs
    where not is_known_program
    group by authority, program
)

select * from final
order by designations desc, authority, program
