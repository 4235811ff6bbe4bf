{{ config(
    materialized=mw_incremental(),
    incremental_strategy='append',
    pre_hook="{{ mw_delete_changed('interaction_id in (' ~ mw_changed_ids('interactions') ~ ')') }}",
) }}
-- runs after the models that read its previous state: {{ ref('int_moveworks__changed_conversations') }}, {{ ref('int_moveworks__changed_user_days') }}
-- One row per interaction (user inputs and bot responses): latest version, detail flattened.
with ranked as (
    {{ mw_latest('interactions', only_changed=is_incremental()) }}
)
select
    id as interaction_id,
    conversation_id,
    user_id,
    {{ mw_normalise('actor', 'interactions.actor') }} as actor,
    {{ mw_normalise('platform', 'interactions.platform') }} as platform,
    platform as platform_raw,
    {{ mw_normalise('type', 'interactions.type') }} as interaction_type,
    type as interaction_type_raw,
    {{ mw_normalise('label', 'interactions.label') }} as label,
    label as label_raw,
    parent_interaction_id,
    {{ mw_pii(mw_json_text('detail', 'content')) }} as content,
    {{ mw_json_text('detail', 'domain') }} as interaction_domain,
    {{ mw_json_text('detail', 'entity') }} as topic,
    {{ mw_json_text('detail', 'type') }} as detail_type,
    -- form name or feedback value (HELPFUL / UNHELPFUL / 'CSAT Feedback'), not free text
    {{ mw_json_text('detail', 'detail') }} as detail_detail,
    {{ mw_json_text('detail', 'resource_id') }} as detail_resource_id,
    {{ mw_json_text('detail', 'file_types') }} as file_types,
    _created_time as created_time,
    last_updated_time,
    {{ mw_day('_created_time') }} as date_day,
    _synced_at
from ranked
where _version_rank = 1
  and _quarantine_reason is null  -- listed in moveworks__quarantine instead
