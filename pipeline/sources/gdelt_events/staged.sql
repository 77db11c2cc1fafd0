-- One scan of one event file: `raw` is the file's rows as text under the 61 GDELT 2.0 column names (absent
-- ones null), read by DuckDB's CSV reader; this select is what the scan stores (table file_<i>), the typed
-- values of the staged table except the country codes' resolution (the cameo_* macros, applied as the rows
-- leave). Casts are try_ casts: a row breaking a value rule (VALUE_RULES) gets NULLs here, and the flag
-- the loader adds refuses the file before any row is staged; on the other rows they equal plain casts.
select
    try_cast(raw.globaleventid as bigint) as global_event_id,
    cast(try_strptime(trim(raw.sqldate), '%Y%m%d') as date) as event_date,
    case length(trim(raw.dateadded))
        when 14 then try_strptime(trim(raw.dateadded), '%Y%m%d%H%M%S')
        when 8 then try_strptime(trim(raw.dateadded), '%Y%m%d')
    end as date_added,
    nullif(trim(raw.actor1code), '') as actor1_code,
    nullif(trim(raw.actor1name), '') as actor1_name,
    nullif(upper(trim(raw.actor1countrycode)), '') as actor1_country_code,
    nullif(trim(raw.actor1type1code), '') as actor1_type1_code,
    nullif(trim(raw.actor2code), '') as actor2_code,
    nullif(trim(raw.actor2name), '') as actor2_name,
    nullif(upper(trim(raw.actor2countrycode)), '') as actor2_country_code,
    nullif(trim(raw.actor2type1code), '') as actor2_type1_code,
    try_cast(trim(raw.isrootevent) as integer) = 1 as is_root_event,
    -- a re-export that wrote codes as numbers lost the leading zero of roots 01-09 ('40' for '040')
    case
        when try_cast(lpad(trim(raw.eventrootcode), 2, '0') as integer) < 10
            and not starts_with(trim(raw.eventcode), '0')
            then '0' || trim(raw.eventcode)
        else trim(raw.eventcode)
    end as event_code,
    case
        when trim(raw.eventbasecode) is null then null
        when try_cast(lpad(trim(raw.eventrootcode), 2, '0') as integer) < 10
            and not starts_with(trim(raw.eventbasecode), '0')
            then '0' || trim(raw.eventbasecode)
        else trim(raw.eventbasecode)
    end as event_base_code,
    lpad(trim(raw.eventrootcode), 2, '0') as event_root_code,
    try_cast(trim(raw.quadclass) as tinyint) as quad_class,
    try_cast(trim(raw.goldsteinscale) as double) as goldstein,
    try_cast(trim(raw.nummentions) as integer) as num_mentions,
    try_cast(trim(raw.numsources) as integer) as num_sources,
    try_cast(trim(raw.numarticles) as integer) as num_articles,
    try_cast(trim(raw.avgtone) as double) as avg_tone,
    nullif(upper(trim(raw.actiongeo_countrycode)), '') as action_geo_country_code,
    nullif(trim(raw.sourceurl), '') as source_url
from raw
