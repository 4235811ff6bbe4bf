-- One row per raw record (latest version) the models cannot use: a created_time that is not a
-- timestamp even after parsing epoch milliseconds / seconds and RFC 1123 dates, or a required field
-- that is null (macros/quarantine.sql). Staging leaves these records out, so the marts and their
-- tests never see them; the warning test quarantined_records names them. They stay in raw, and a
-- corrected version re-read by a later sync replaces them. Incremental: the records written since the
-- last build are looked at again (macros/incremental.sql).
{{ config(
    materialized=mw_incremental(),
    incremental_strategy='append',
    pre_hook="{{ mw_delete_changed(mw_quarantine_changed()) }}",
) }}
{%- set entities = ['conversations', 'interactions', 'plugin_calls', 'plugin_resources', 'users'] %}
{%- for entity in entities %}
{%- if not loop.first %}
union all
{%- endif %}
select
    '{{ entity }}' as entity,
    id as record_id,
    _quarantine_reason as reason,
    substr({{ mw_json_text('_record', 'created_time') }}, 1, 64) as created_time_raw,
    last_updated_time,
    _synced_at as synced_at,
    _run_id as run_id
from ({{ mw_latest(entity, only_changed=is_incremental()) }}) latest
where _version_rank = 1 and _quarantine_reason is not null
{%- endfor %}
