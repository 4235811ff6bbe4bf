{# Every dialect difference of the project lives here, each macro dispatched on the adapter
   (adapter.dispatch(name, 'mwdata_moveworks')): default__ is PostgreSQL, then duckdb__, spark__
   (Databricks too: dbt-databricks dispatches databricks__, then spark__), snowflake__, bigquery__.
   DuckDB, PostgreSQL and Spark are built and tested; Snowflake and BigQuery are written from their
   documentation only (docs/models.md, "Engines"). Where dbt has a cross-database macro the models
   call it directly (dbt.bool_or, dbt.position, dbt.date_spine). #}

{# Text value of a top-level key of a JSON column: a string unquoted, an object or array as JSON text,
   a JSON null or a missing key null. The raw contract's JSON column types: DuckDB JSON, PostgreSQL
   JSONB, Spark/Databricks STRING (the JSON text), Snowflake VARIANT, BigQuery JSON. #}
{% macro mw_json_text(column, key) -%}
  {{ return(adapter.dispatch('mw_json_text', 'mwdata_moveworks')(column, key)) }}
{%- endmacro %}
{% macro default__mw_json_text(column, key) -%}
  ({{ column }} ->> '{{ key }}')
{%- endmacro %}
{% macro spark__mw_json_text(column, key) -%}
  get_json_object({{ column }}, '$.{{ key }}')
{%- endmacro %}
{% macro snowflake__mw_json_text(column, key) -%}
  cast(strip_null_value(get({{ column }}, '{{ key }}')) as varchar)
{%- endmacro %}
{% macro bigquery__mw_json_text(column, key) -%}
  case when json_type(json_query({{ column }}, '$.{{ key }}')) in ('object', 'array')
       then to_json_string(json_query({{ column }}, '$.{{ key }}'))
       else json_value({{ column }}, '$.{{ key }}') end
{%- endmacro %}

{# A join that makes each element of a JSON array column a row, its JSON value in <alias>.value
   (read it with mw_json_text): `from t {{ mw_json_array_join('t.col', 'e') }}`. A null, a JSON null,
   an object or a scalar yields no rows (never an error: invariant 6 in docs/architecture.md). #}
{% macro mw_json_array_join(column, alias) -%}
  {{ return(adapter.dispatch('mw_json_array_join', 'mwdata_moveworks')(column, alias)) }}
{%- endmacro %}
{% macro default__mw_json_array_join(column, alias) -%}
  cross join lateral jsonb_array_elements(case when jsonb_typeof(cast({{ column }} as jsonb)) = 'array'
                                               then cast({{ column }} as jsonb) end) as {{ alias }}(value)
{%- endmacro %}
{% macro duckdb__mw_json_array_join(column, alias) -%}
  cross join lateral json_each(case when json_type(cast({{ column }} as json)) = 'ARRAY'
                                    then cast({{ column }} as json) end) as {{ alias }}
{%- endmacro %}
{% macro spark__mw_json_array_join(column, alias) -%}
  lateral view explode(from_json(case when json_array_length({{ column }}) is not null then {{ column }} end,
                                 'array<string>')) {{ alias }} as value
{%- endmacro %}
{% macro snowflake__mw_json_array_join(column, alias) -%}
  cross join lateral flatten(input => case when is_array({{ column }}) then {{ column }} end) {{ alias }}
{%- endmacro %}
{% macro bigquery__mw_json_array_join(column, alias) -%}
  cross join unnest(array(select as struct v as value
                          from unnest(case when json_type({{ column }}) = 'array'
                                           then json_query_array({{ column }}) end) v)) {{ alias }}
{%- endmacro %}

{# UTC calendar day of a timestamp with time zone, whatever the session's time zone. #}
{% macro mw_day(ts) -%}
  {{ return(adapter.dispatch('mw_day', 'mwdata_moveworks')(ts)) }}
{%- endmacro %}
{% macro default__mw_day(ts) -%}
  cast(({{ ts }} at time zone 'UTC') as date)
{%- endmacro %}
{# Spark's TIMESTAMP renders in the session time zone: convert_timezone gives the UTC wall clock. #}
{% macro spark__mw_day(ts) -%}
  cast(convert_timezone('UTC', {{ ts }}) as date)
{%- endmacro %}
{% macro snowflake__mw_day(ts) -%}
  cast(convert_timezone('UTC', {{ ts }}) as date)
{%- endmacro %}
{% macro bigquery__mw_day(ts) -%}
  date({{ ts }}, 'UTC')
{%- endmacro %}

{# Seconds between two timestamps (b - a), fractional. #}
{% macro mw_seconds_between(a, b) -%}
  {{ return(adapter.dispatch('mw_seconds_between', 'mwdata_moveworks')(a, b)) }}
{%- endmacro %}
{% macro default__mw_seconds_between(a, b) -%}
  extract(epoch from ({{ b }} - {{ a }}))
{%- endmacro %}
{% macro duckdb__mw_seconds_between(a, b) -%}
  (epoch({{ b }}) - epoch({{ a }}))
{%- endmacro %}
{% macro spark__mw_seconds_between(a, b) -%}
  ((unix_micros({{ b }}) - unix_micros({{ a }})) / 1e6)
{%- endmacro %}
{% macro snowflake__mw_seconds_between(a, b) -%}
  (datediff('microsecond', {{ a }}, {{ b }}) / 1e6)
{%- endmacro %}
{% macro bigquery__mw_seconds_between(a, b) -%}
  (timestamp_diff({{ b }}, {{ a }}, microsecond) / 1e6)
{%- endmacro %}

{# The text type of casts: dbt.type_string() is TEXT on Spark, which Spark does not know (the seeds'
   column types are chosen the same way, in seeds/seeds.yml). #}
{% macro mw_type_string() -%}
  {{ return(adapter.dispatch('mw_type_string', 'mwdata_moveworks')()) }}
{%- endmacro %}
{% macro default__mw_type_string() -%}
  {{ return('varchar') }}
{%- endmacro %}
{% macro spark__mw_type_string() -%}
  {{ return('string') }}
{%- endmacro %}
{% macro bigquery__mw_type_string() -%}
  {{ return('string') }}
{%- endmacro %}

{# The key of one user's UTC day, '<user_id>|<YYYY-MM-DD>': the semantic layer counts distinct user-days
   and keys its user_days model by it. MetricFlow does not render Jinja, so an engine-neutral key has to be
   a column of the mart, built here (a cast to varchar fails on BigQuery and Spark). #}
{% macro mw_user_day_key(user_col, day_col) -%}
  {{ dbt.concat([user_col, "'|'", "cast(" ~ day_col ~ " as " ~ mw_type_string() ~ ")"]) }}
{%- endmacro %}

{# A keyed hex digest for PII: sha256 of the build's secret key (64 hex characters, derived by
   mwdata from [transform] pii_salt) followed by the value. The key is never part of the SQL, so it
   is in no compiled file, log or view definition: DuckDB reads it from a session variable that
   mwdata's dbt-duckdb plugin sets on each connection, PostgreSQL from a session setting passed
   through PGOPTIONS. Without the key (outside a build) the digest is null: it fails closed. Other
   engines have no such channel that keeps the key out of their query history (docs/DECISIONS.md). #}
{% macro mw_hash(expr) -%}
  {{ return(adapter.dispatch('mw_hash', 'mwdata_moveworks')(expr)) }}
{%- endmacro %}
{% macro default__mw_hash(expr) -%}
  {{ exceptions.raise_compiler_error("pii = hash|drop builds on DuckDB and PostgreSQL stores only") }}
{%- endmacro %}
{% macro duckdb__mw_hash(expr) -%}
  sha256(getvariable('mwdata_pii_key') || cast({{ expr }} as varchar))
{%- endmacro %}
{% macro postgres__mw_hash(expr) -%}
  encode(sha256(convert_to(nullif(current_setting('mwdata.pii_key', true), '') || cast({{ expr }} as text), 'UTF8')), 'hex')
{%- endmacro %}

{# PII switch: show | hash | drop (var mwdata_pii). #}
{% macro mw_pii(expr) -%}
  {%- set mode = var('mwdata_pii', 'show') -%}
  {%- if mode == 'hash' -%}{{ mw_hash(expr) }}
  {%- elif mode == 'drop' -%}cast(null as {{ mw_type_string() }})
  {%- else -%}{{ expr }}{%- endif -%}
{%- endmacro %}

{# A join key built from PII (an e-mail, an external id): the clear value with pii = show, else its
   keyed digest (with pii = drop too, so no plaintext key sits in any relation of the target schemas).
   Both sides of a join use it, so the match is the same in every mode. #}
{% macro mw_match_key(expr) -%}
  {%- if var('mwdata_pii', 'show') == 'show' -%}{{ expr }}{%- else -%}{{ mw_hash(expr) }}{%- endif -%}
{%- endmacro %}

{# Staging models are views on DuckDB, tables elsewhere; on DuckDB too for a model holding PII when
   pii = hash|drop: its digests need the build's key, which a view read outside the build does not
   have. On PostgreSQL
   (and the warehouses) a view re-ranks every raw version at each reference, and PostgreSQL's
   estimate of the ranked view (one row) made its joins nested loops: quadratic in the raw rows
   (5 s for 2,000 x 5,700 rows). Tables, analysed after they are built, have real statistics. #}
{% macro mw_staging_materialized(holds_pii=true) -%}
  {%- set hidden = holds_pii and var('mwdata_pii', 'show') != 'show' -%}
  {{ return('view' if target.type == 'duckdb' and not hidden else 'table') }}
{%- endmacro %}

{# Post-hook of every table model: fresh planner statistics where the engine does not gather them
   when a table is created (PostgreSQL); nothing elsewhere. #}
{% macro mw_analyze() -%}
  {{ return(adapter.dispatch('mw_analyze', 'mwdata_moveworks')()) }}
{%- endmacro %}
{% macro default__mw_analyze() -%}{%- endmacro %}
{% macro postgres__mw_analyze() -%}
  {%- if config.get('materialized') in ('table', 'incremental') -%}analyze {{ this }}{%- endif -%}
{%- endmacro %}

{# A timestamp column, or when the store could not type it (null) the record's original text in
   _record parsed as epoch milliseconds / seconds or an RFC 1123 date ('Sun, 06 Nov 1994 08:49:37
   GMT'); null when that fails too (the record is then quarantined). #}
{% macro mw_timestamp(column) -%}
  coalesce({{ column }}, {{ mw_parse_timestamp(mw_json_text('_record', column)) }})
{%- endmacro %}
{% macro _mw_rfc1123_pattern() -%}
  ^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), (0[1-9]|[12][0-9]|3[01]) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [1-9][0-9]{3} ([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9] GMT$
{%- endmacro %}
{% macro mw_parse_timestamp(text) -%}
  {{ return(adapter.dispatch('mw_parse_timestamp', 'mwdata_moveworks')(text)) }}
{%- endmacro %}
{% macro default__mw_parse_timestamp(text) -%}
  case
    when {{ text }} ~ '^[0-9]{13}$' then to_timestamp(cast({{ text }} as bigint) / 1000.0)
    when {{ text }} ~ '^[0-9]{10}$' then to_timestamp(cast({{ text }} as bigint))
    when {{ text }} ~ '{{ _mw_rfc1123_pattern() }}'
    then {{ _mw_rfc1123(text) }}
  end
{%- endmacro %}
{# Without an exception-free parser on PostgreSQL: the day is checked against the month's length. #}
{% macro _mw_rfc1123(t) -%}
  {%- set y = 'cast(substr(' ~ t ~ ', 13, 4) as int)' -%}
  {%- set m = "((position(substr(" ~ t ~ ", 9, 3) in 'JanFebMarAprMayJunJulAugSepOctNovDec') + 2) / 3)" -%}
  {%- set d = 'cast(substr(' ~ t ~ ', 6, 2) as int)' -%}
  case when {{ d }} <= extract(day from make_date({{ y }}, {{ m }}, 1) + interval '1 month' - interval '1 day')
       then make_timestamptz({{ y }}, {{ m }}, {{ d }}, cast(substr({{ t }}, 18, 2) as int),
                             cast(substr({{ t }}, 21, 2) as int), cast(substr({{ t }}, 24, 2) as int), 'UTC') end
{%- endmacro %}
{% macro duckdb__mw_parse_timestamp(text) -%}
  case
    when regexp_full_match({{ text }}, '[0-9]{13}') then to_timestamp(cast({{ text }} as bigint) / 1000.0)
    when regexp_full_match({{ text }}, '[0-9]{10}') then to_timestamp(cast({{ text }} as bigint))
    else try_strptime({{ text }}, '%a, %d %b %Y %H:%M:%S GMT') at time zone 'UTC'
  end
{%- endmacro %}
{# try_to_timestamp: null, not an error, for an impossible date (31 Feb), also under ANSI mode. #}
{% macro spark__mw_parse_timestamp(text) -%}
  case
    when {{ text }} rlike '^[0-9]{13}$' then timestamp_millis(cast({{ text }} as bigint))
    when {{ text }} rlike '^[0-9]{10}$' then timestamp_seconds(cast({{ text }} as bigint))
    when {{ text }} rlike '{{ _mw_rfc1123_pattern() }}'
    then try_to_timestamp(concat(substr({{ text }}, 6, 20), ' +00:00'), 'dd MMM yyyy HH:mm:ss XXX')
  end
{%- endmacro %}
{% macro snowflake__mw_parse_timestamp(text) -%}
  case
    when regexp_like({{ text }}, '^[0-9]{13}$') then to_timestamp_tz(cast({{ text }} as bigint), 3)
    when regexp_like({{ text }}, '^[0-9]{10}$') then to_timestamp_tz(cast({{ text }} as bigint), 0)
    when regexp_like({{ text }}, '{{ _mw_rfc1123_pattern() }}')
    then try_to_timestamp_tz(substr({{ text }}, 6, 20) || ' +00:00', 'DD MON YYYY HH24:MI:SS TZH:TZM')
  end
{%- endmacro %}
{% macro bigquery__mw_parse_timestamp(text) -%}
  case
    when regexp_contains({{ text }}, '^[0-9]{13}$') then timestamp_millis(cast({{ text }} as int64))
    when regexp_contains({{ text }}, '^[0-9]{10}$') then timestamp_seconds(cast({{ text }} as int64))
    when regexp_contains({{ text }}, '{{ _mw_rfc1123_pattern() }}')
    then safe.parse_timestamp('%d %b %Y %H:%M:%S', substr({{ text }}, 6, 20), 'UTC')
  end
{%- endmacro %}

{# A vocabulary value, or 'other' when the seed does not know it (null stays null). #}
{% macro mw_normalise(column, field) -%}
  case when {{ column }} is null then null
       when {{ column }} in (select v.value from {{ ref('moveworks_vocabulary') }} v where v.field = '{{ field }}')
       then {{ column }} else 'other' end
{%- endmacro %}

{# Aggregate marts exclude test users unless var mwdata_include_test_users. #}
{% macro mw_user_filter(flag='is_test_user') -%}
  {%- if var('mwdata_include_test_users', false) -%}true{%- else -%}not coalesce({{ flag }}, false){%- endif -%}
{%- endmacro %}
