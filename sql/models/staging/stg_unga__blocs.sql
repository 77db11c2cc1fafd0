-- grain: one row per voting bloc and member country (seed pipeline/reference/unga_blocs.csv)
with source as (
    select * from {{ ref('unga_blocs') }}
),

members as (
    select
        trim(source.bloc) as bloc,
        trim(source.label) as bloc_label,
        upper(trim(member.code)) as country_iso2
    from source
    cross join unnest(string_split(trim(source.members), ' ')) as member (code)
    where trim(member.code) <> ''
)

select * from members
