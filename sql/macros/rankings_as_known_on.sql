{#-
    create_rankings_as_known_on(): the SQL that creates the DuckDB table macro
    rankings_as_known_on(as_of), the country ranking as it could be known on any date: for each
    source only its latest snapshot published on or before that date (nothing after), counted as
    in mart_country_rankings (same columns; as_of_date is the date asked for). Between two snapshot
    dates the ranking is that of the newest snapshot date on or before the date asked for, which
    mart_country_rankings_as_known holds; a date before every snapshot gives no rows.

    Run it after the models, in the same database (dbt: on-run-end). The DuckDB macro names its
    tables bare, so it resolves them in whatever database the published file is opened as.
-#}
{% macro create_rankings_as_known_on() %}
create or replace macro rankings_as_known_on(as_of) as table
select rankings.* replace (cast(as_of as date) as as_of_date)
from mart_country_rankings_as_known as rankings
where rankings.as_of_date = (
    select max(snapshots.snapshot_date)
    from int_source_snapshots as snapshots
    where snapshots.snapshot_date <= cast(as_of as date)
)
order by
    rankings.unit, rankings.authority, rankings.list_code, rankings.basis, rankings.entity_type, rankings.rank,
    rankings.country_iso2;

comment on macro table rankings_as_known_on is 'The country ranking as known on a date: for each source its latest snapshot on or before the date, counted as in mart_country_rankings (same columns). Usage: select * from rankings_as_known_on(date ''2022-03-07'') where basis = ''program_target'' and authority = ''all'' and entity_type = ''all'' order by rank.';
{% endmacro %}
