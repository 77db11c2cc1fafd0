-- grain: one row per authority, sanctions programme and target country (a thematic programme: one row, no target)
{#- The programme table is the union of every source folder's programs.csv (pipeline/sources/*/programs.csv:
    the rows live with the source that uses them). A table, not a view: the published file must not name
    files of the machine that built it. The var `programs_csv` (a glob) defaults to the sources beside this
    project; the pipeline's build passes its absolute path. A programme row given twice, in one file or
    two, stops the build with an error that names the files. -#}
{{ config(materialized='table', schema='ref') }}
{%- set programs_glob = var('programs_csv', default_programs_glob()) %}
with source as (
    select
        *,
        -- the source folder that holds the file (no path of the building machine is kept)
        regexp_extract(filename, '([^/\\]+)[/\\]programs\.csv$', 1) as defined_in
    from read_csv(
        '{{ programs_glob | replace("'", "''") }}',
        header = true, delim = ',', quote = '"', escape = '"', all_varchar = true, filename = true,
        columns = {
            'authority': 'varchar', 'program': 'varchar', 'target_iso2': 'varchar',
            'region': 'varchar', 'kind': 'varchar', 'description': 'varchar'
        }
    )
),

duplicates as (
    select
        authority,
        program,
        coalesce(target_iso2, '') as target_iso2,
        string_agg(filename, ' and ' order by filename) as files
    from source
    group by all
    having count(*) > 1
),

problem as (
    select
        string_agg(
            format(
                'programme row ({}, {}, {}) is given more than once: in {}',
                authority, program, coalesce(nullif(target_iso2, ''), 'no target'), files
            ),
            '; ' order by authority, program, target_iso2
        ) as message
    from duplicates
)

select
    source.authority,
    source.program,
    source.target_iso2,
    source.region,
    source.kind,
    source.description,
    source.defined_in
from source, problem
where
    problem.message is null
    or error(
        'the programme table (every pipeline/sources/*/programs.csv): '
        || problem.message || '; nothing was built, the last publication stays as it was'
    )
