{# Incremental builds (docs/models.md, "Incremental builds"; docs/DECISIONS.md). On DuckDB and
   PostgreSQL the event staging models, the intermediates and the row/conversation-level marts are
   dbt `incremental` models: a build re-derives only the records and conversations that changed since
   the last build, and `mwdata build --full-refresh` (dbt's --full-refresh) rebuilds them whole. Other
   engines build them as tables (not verified incrementally there).

   What changed: raw rows whose _synced_at is later than `since`, a value mwdata's runner writes into
   _mwdata.transform_increment before dbt runs (the newest _synced_at of the last successful build,
   minus a margin; null on a full refresh: nothing is "changed", everything is rebuilt).

   Each incremental model deletes, in a pre-hook, the rows of the keys that changed (mw_delete_changed)
   and appends what its SQL selects for those keys (incremental_strategy 'append'): a key that no longer
   yields a row (a record quarantined by its newer version) is deleted too, which dbt's own
   delete+insert (it deletes the keys of the new rows only) would not do. #}

{% macro mw_incremental_engine() -%}
  {{ return(target.type in ('duckdb', 'postgres')) }}
{%- endmacro %}

{% macro mw_incremental() -%}
  {{ return('incremental' if mw_incremental_engine() else 'table') }}
{%- endmacro %}

{# The `since` of this build as a SQL expression (a timestamp, or null). #}
{% macro mw_changed_since() -%}
  {%- set rel = none -%}
  {%- if execute and mw_incremental_engine() -%}
    {%- set rel = adapter.get_relation(database=target.database, schema='_mwdata', identifier='transform_increment') -%}
  {%- endif -%}
  {%- if rel is not none -%}(select max(since) from {{ rel }} where target_schema = '{{ target.schema }}')
  {%- else -%}cast(null as timestamp){%- endif -%}
{%- endmacro %}

{# A relation of this project as the last build left it (read before this build replaces it), or none. #}
{% macro mw_previous(model_name, schema) -%}
  {%- if not execute or not mw_incremental_engine() -%}{{ return(none) }}{%- endif -%}
  {{ return(adapter.get_relation(database=target.database, schema=schema, identifier=model_name)) }}
{%- endmacro %}

{# The schema a model of a folder is built in (macros/generate_schema_name.sql). #}
{% macro mw_schema(folder) -%}
  {{ return(target.schema if folder == 'marts' else target.schema ~ '_' ~ folder) }}
{%- endmacro %}

{# Touched conversation: `col` (null read as '') is one of int_moveworks__changed_conversations. #}
{% macro mw_touched_conversation(col) -%}
  coalesce({{ col }}, '') in (select conversation_id from {{ ref('int_moveworks__changed_conversations') }})
{%- endmacro %}

{# The user-day key of mw_user_day_key (macros/dialect.sql) with nulls kept as '' ('<user>|<day>'): a
   row without a user or a day must still match its own key here, where the marts' key is null. #}
{% macro mw_day_key(user_col, day_col) -%}
  {{ mw_user_day_key("coalesce(" ~ user_col ~ ", '')", "coalesce(cast(" ~ day_col ~ " as " ~ mw_type_string() ~ "), '')") }}
{%- endmacro %}

{% macro mw_touched_user_day(user_col, day_col) -%}
  {{ mw_day_key(user_col, day_col) }} in (select day_key from {{ ref('int_moveworks__changed_user_days') }})
{%- endmacro %}

{% macro mw_touched_user(user_col) -%}
  coalesce({{ user_col }}, '') in (select user_id from {{ ref('int_moveworks__changed_users') }})
{%- endmacro %}

{# Pre-hook of an incremental model: on an incremental run, delete the rows matching `predicate`
   (the model's SQL then appends the new rows of the same keys). #}
{% macro mw_delete_changed(predicate) -%}
  {%- if is_incremental() -%}delete from {{ this }} where {{ predicate }}{%- endif -%}
{%- endmacro %}

{# Raw ids of `entity` with a version written since the last build. #}
{% macro mw_changed_ids(entity) -%}
  select id from {{ source('moveworks', entity) }} where _synced_at > {{ mw_changed_since() }}
{%- endmacro %}

{# A per-interaction rollup's touched rows: those of a touched conversation (as stored) and those of an
   interaction with a row of `rows` (the rolled-up relation) in a touched conversation. #}
{% macro mw_touched_rollup(rows) -%}
  ({{ mw_touched_conversation('conversation_id') }}
   or coalesce(interaction_id, '') in (select coalesce(interaction_id, '') from {{ rows }}
                                       where {{ mw_touched_conversation('conversation_id') }}))
{%- endmacro %}

{# moveworks__quarantine's rows of the records written since the last build. #}
{% macro mw_quarantine_changed() -%}
  (
  {%- for e in ['conversations', 'interactions', 'plugin_calls', 'plugin_resources', 'users'] %}
    {% if not loop.first %}or {% endif %}(entity = '{{ e }}' and record_id in ({{ mw_changed_ids(e) }}))
  {%- endfor %}
  )
{%- endmacro %}
