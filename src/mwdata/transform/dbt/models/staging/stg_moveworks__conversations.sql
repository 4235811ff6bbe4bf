{{ config(
    materialized=mw_incremental(),
    incremental_strategy='append',
    pre_hook="{{ mw_delete_changed('conversation_id in (' ~ mw_changed_ids('conversations') ~ ')') }}",
) }}
-- runs after the models that read its previous state: {{ ref('int_moveworks__changed_conversations') }}, {{ ref('int_moveworks__changed_user_days') }}
-- One row per conversation: the latest version per id, detail flattened, vocabularies normalised.
with ranked as (
    {{ mw_latest('conversations', only_changed=is_incremental()) }}
)
select
    id as conversation_id,
    user_id,
    _created_time as created_time,
    last_updated_time,
    {{ mw_day('_created_time') }} as date_day,
    {{ mw_normalise('primary_domain', 'conversations.primary_domain') }} as primary_domain,
    primary_domain as primary_domain_raw,
    {{ mw_normalise('route', 'conversations.route') }} as route,
    route as route_raw,
    {{ mw_normalise('type', 'conversations.type') }} as conversation_type,
    type as conversation_type_raw,
{%- for key in ['type', 'source', 'domain', 'usecase_id', 'usecase_name', 'ticket_id', 'campaign_id', 'campaign_name', 'channel_id', 'channel_name'] %}
    {{ mw_json_text('detail', key) }} as detail_{{ key }},
{%- endfor %}
    -- the intercepted message: end-user text, behind the PII switch
    {{ mw_pii(mw_json_text('detail', 'content')) }} as detail_content,
    _synced_at
from ranked
where _version_rank = 1
  and _quarantine_reason is null  -- listed in moveworks__quarantine instead
