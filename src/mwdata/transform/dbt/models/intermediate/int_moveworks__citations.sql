{{ config(
    materialized=mw_incremental(),
    incremental_strategy='append',
    pre_hook="{{ mw_delete_changed(mw_touched_conversation('conversation_id')) }}",
) }}
-- depends_on: {{ ref('int_moveworks__changed_conversations') }}
-- Knowledge-type resources served, with the outcome of the conversation they were served in.
select
    r.plugin_resource_id,
    r.resource_id,
    r.resource_type,
    r.detail_name as article_name,
    r.detail_external_resource_id as external_resource_id,
    r.detail_url as url,
    r.cited,
    r.plugin_call_id,
    r.interaction_id,
    r.conversation_id,
    r.user_id,
    r.created_time,
    r.date_day,
    coalesce(o.has_unhelpful_feedback, false) as conversation_unhelpful,
    coalesce(o.is_ticket_filed, false) as conversation_ticket_filed
from {{ ref('stg_moveworks__plugin_resources') }} r
left join {{ ref('int_moveworks__conversation_outcomes') }} o on o.conversation_id = r.conversation_id
where {% if is_incremental() %}{{ mw_touched_conversation('r.conversation_id') }} and {% endif %}r.resource_type in ('RESOURCE_TYPE_KNOWLEDGE', 'RESOURCE_TYPE_FILE', 'RESOURCE_TYPE_INTERNAL_KNOWLEDGE')
