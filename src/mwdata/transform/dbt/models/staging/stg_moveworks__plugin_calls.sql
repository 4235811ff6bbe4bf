{{ config(
    materialized=mw_incremental(),
    incremental_strategy='append',
    pre_hook="{{ mw_delete_changed('plugin_call_id in (' ~ mw_changed_ids('plugin_calls') ~ ')') }}",
) }}
-- runs after the models that read its previous state: {{ ref('int_moveworks__changed_conversations') }}, {{ ref('int_moveworks__changed_user_days') }}
-- One row per plugin call: latest version, latency, native/custom classification.
with ranked as (
    {{ mw_latest('plugin_calls', only_changed=is_incremental()) }}
)
select
    id as plugin_call_id,
    interaction_id,
    conversation_id,
    user_id,
    plugin_name,
    -- Native plugins carry display names (with spaces); custom plugins are snake_case identifiers.
    ({{ dbt.position("' '", 'plugin_name') }} > 0) as is_native,
    coalesce(served, false) as served,
    coalesce(used, false) as used,
    not coalesce(served, false) as is_unsuccessful,
    plugin_update_time,
    {{ mw_seconds_between('_created_time', 'plugin_update_time') }} as latency_seconds,
    _created_time as created_time,
    last_updated_time,
    {{ mw_day('_created_time') }} as date_day,
    _synced_at
from ranked
where _version_rank = 1
  and _quarantine_reason is null  -- listed in moveworks__quarantine instead
