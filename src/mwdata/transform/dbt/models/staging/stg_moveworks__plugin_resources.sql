{{ config(
    materialized=mw_incremental(),
    incremental_strategy='append',
    pre_hook="{{ mw_delete_changed('plugin_resource_id in (' ~ mw_changed_ids('plugin_resources') ~ ')') }}",
) }}
-- runs after the models that read its previous state: {{ ref('int_moveworks__changed_conversations') }}, {{ ref('int_moveworks__changed_user_days') }}
-- One row per plugin resource: latest version, detail flattened.
with ranked as (
    {{ mw_latest('plugin_resources', only_changed=is_incremental()) }}
)
select
    id as plugin_resource_id,
    resource_id,
    {{ mw_normalise('type', 'plugin_resources.type') }} as resource_type,
    type as resource_type_raw,
    plugin_call_id,
    interaction_id,
    user_id,
    conversation_id,
    coalesce(cited, false) as cited,
{%- for key in ['domain', 'external_resource_id', 'name', 'snippet', 'source', 'type', 'url', 'ticket_type'] %}
    {{ mw_json_text('detail', key) }} as detail_{{ key }},
{%- endfor %}
    _created_time as created_time,
    last_updated_time,
    {{ mw_day('_created_time') }} as date_day,
    _synced_at
from ranked
where _version_rank = 1
  and _quarantine_reason is null  -- listed in moveworks__quarantine instead
