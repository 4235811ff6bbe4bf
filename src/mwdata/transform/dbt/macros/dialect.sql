{# Every dialect difference of the project lives here (DuckDB and PostgreSQL). #}

{# Text value of a top-level key of a JSON column (DuckDB JSON, PostgreSQL JSONB: same operator). #}
{% macro mw_json_text(column, key) -%}
  ({{ column }} ->> '{{ key }}')
{%- endmacro %}

{# UTC calendar day of a timestamptz. #}
{% macro mw_day(ts) -%}
  cast(({{ ts }} at time zone 'UTC') as date)
{%- endmacro %}

{# Seconds between two timestamps (b - a). #}
{% macro mw_seconds_between(a, b) -%}
  {{ return(adapter.dispatch('mw_seconds_between', 'mwdata_moveworks')(a, b)) }}
{%- endmacro %}
{% macro default__mw_seconds_between(a, b) -%}
  extract(epoch from ({{ b }} - {{ a }}))
{%- endmacro %}
{% macro duckdb__mw_seconds_between(a, b) -%}
  (epoch({{ b }}) - epoch({{ a }}))
{%- endmacro %}

{# Continuous percentile as an aggregate. #}
{% macro mw_percentile(expr, p) -%}
  {{ return(adapter.dispatch('mw_percentile', 'mwdata_moveworks')(expr, p)) }}
{%- endmacro %}
{% macro default__mw_percentile(expr, p) -%}
  percentile_cont({{ p }}) within group (order by {{ expr }})
{%- endmacro %}
{% macro duckdb__mw_percentile(expr, p) -%}
  quantile_cont({{ expr }}, {{ p }})
{%- endmacro %}

{# Monday-based week start of a date. #}
{% macro mw_week(d) -%}
  cast(date_trunc('week', {{ d }}) as date)
{%- endmacro %}

{# A stable hex digest (PII hashing). #}
{% macro mw_hash(expr) -%}
  md5(cast({{ expr }} as {{ dbt.type_string() }}))
{%- endmacro %}

{# PII switch: show | hash | drop (var mwdata_pii). #}
{% macro mw_pii(expr) -%}
  {%- set mode = var('mwdata_pii', 'show') -%}
  {%- if mode == 'hash' -%}{{ mw_hash(expr) }}
  {%- elif mode == 'drop' -%}cast(null as {{ dbt.type_string() }})
  {%- else -%}{{ expr }}{%- endif -%}
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

{# The elements of a JSON array column as rows, one JSON value each in <alias>.value, for
   `cross join lateral {{ mw_json_array_elements('t.col', 'e') }}`. A null, a JSON null, an object
   or a scalar yields no rows (never an error: invariant 6). #}
{% macro mw_json_array_elements(column, alias) -%}
  {{ return(adapter.dispatch('mw_json_array_elements', 'mwdata_moveworks')(column, alias)) }}
{%- endmacro %}
{% macro default__mw_json_array_elements(column, alias) -%}
  jsonb_array_elements(case when jsonb_typeof(cast({{ column }} as jsonb)) = 'array'
                            then cast({{ column }} as jsonb) end) as {{ alias }}(value)
{%- endmacro %}
{% macro duckdb__mw_json_array_elements(column, alias) -%}
  json_each(case when json_type(cast({{ column }} as json)) = 'ARRAY'
                 then cast({{ column }} as json) end) as {{ alias }}
{%- endmacro %}
