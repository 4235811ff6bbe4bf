{# Records the models cannot use: one place for staging (which leaves them out) and the quarantine
   mart moveworks__quarantine (which lists them). A record is unusable when its created_time is not
   a timestamp even after mw_timestamp's parsing, or when a field the models and tests require is
   null; one such record used to fail an error-severity test and stop every nightly run. #}

{# Fields without which a record is unusable, per raw table (besides created_time where timed). #}
{% macro mw_required_fields(entity) -%}
  {{ return({
      'conversations': ['id', 'user_id', 'route'],
      'interactions': ['id', 'conversation_id', 'actor'],
      'plugin_calls': ['id', 'interaction_id', 'plugin_name'],
      'plugin_resources': ['id'],
      'users': ['id'],
  }[entity]) }}
{%- endmacro %}

{# Raw tables with a created_time the models place records in time by. #}
{% macro mw_timed_entities() -%}
  {{ return(['conversations', 'interactions', 'plugin_calls', 'plugin_resources']) }}
{%- endmacro %}

{# The latest version of every raw record of `entity`, with _created_time (parsed) and
   _quarantine_reason (null when usable); the caller keeps `where _version_rank = 1`. With
   only_changed (an incremental staging model's incremental run): the records with a version
   written since the last build only (macros/incremental.sql). #}
{% macro mw_latest(entity, only_changed=false) -%}
  {%- set timed = entity in mw_timed_entities() -%}
  select *,
    {%- if timed %}
      {{ mw_timestamp('created_time') }} as _created_time,
    {%- endif %}
      case
    {%- for c in mw_required_fields(entity) %}
        when {{ c }} is null then '{{ c }} is missing'
    {%- endfor %}
    {%- if timed %}
        when {{ mw_timestamp('created_time') }} is null then 'created_time is not a timestamp'
    {%- endif %}
      end as _quarantine_reason,
      row_number() over (partition by id order by last_updated_time desc, _synced_at desc) as _version_rank
  from {{ source('moveworks', entity) }}
  {%- if only_changed %}
  where id in ({{ mw_changed_ids(entity) }})
  {%- endif %}
{%- endmacro %}
