-- grain: one row per source snapshot and component it does not cover: the partial lists (a subset
-- accepted under its floor, a file set read without one of its members) and what each cannot show
with partial_inputs as (
    select * from {{ ref('stg_sanctions__partial_inputs') }}
),

current_snapshots as (
    select * from {{ ref('int_current_snapshots') }}
),

-- what a snapshot without the component cannot show (pipeline/partial.py COMPONENTS)
components as (
    select * from (
        values
        (
            'designations',
            'the designations outside the subset: its counts and ranks are lower bounds, and a designation '
            || 'missing from it is not a delisting'
        ),
        (
            'addresses',
            'address countries: the any basis leaves them out, a multi-country programme''s designation that '
            || 'only its address places in one of the programme''s countries is not placed there, and no '
            || 'address change is a delta'
        ),
        (
            'aliases',
            'aliases, the names besides the primary name: name search and matching across lists miss them, and '
            || 'no alias change is a delta'
        ),
        (
            'remarks_overflow',
            'the end of remarks longer than the main file keeps (nationality, identifiers or aliases stated '
            || 'there)'
        )
    ) as components (component, cannot_show)
),

final as (
    select
        partial_inputs.source,
        partial_inputs.snapshot_date,
        current_snapshots.snapshot_date is not null as is_current,
        partial_inputs.reason,
        partial_inputs.component,
        partial_inputs.missing,
        coalesce(components.cannot_show, 'what its ' || partial_inputs.component || ' would show') as cannot_show,
        partial_inputs.raw_file
    from partial_inputs
    left join components
        on partial_inputs.component = components.component
    left join current_snapshots
        on
            partial_inputs.source = current_snapshots.source
            and partial_inputs.snapshot_date = current_snapshots.snapshot_date
)

select * from final
order by source, snapshot_date, reason, component
