{{ config(
    materialized=mw_incremental(),
    incremental_strategy='append',
    pre_hook="{{ mw_delete_changed(mw_touched_conversation('conversation_id')) }}",
) }}
-- depends_on: {{ ref('int_moveworks__changed_conversations') }}
-- One row per plugin call, with latency, kind, minutes saved and the conversation's context.
select
    pc.plugin_call_id,
    pc.interaction_id,
    pc.conversation_id,
    pc.user_id,
    pc.plugin_name,
    pc.is_native,
    pc.plugin_kind,
    pc.is_approval,
    pc.served,
    pc.used,
    pc.is_unsuccessful,
    pc.created_time,
    pc.date_day,
    pc.plugin_update_time,
    pc.latency_seconds,
    pc.minutes_saved,
    i.platform,
    c.route,
    c.primary_domain as conversation_domain,
    u.department,
    u.location,
    u.country,
    u.role,
    coalesce(u.is_test_user, false) as is_test_user
from {{ ref('int_moveworks__plugin_calls_enriched') }} pc
left join {{ ref('stg_moveworks__interactions') }} i on i.interaction_id = pc.interaction_id
left join {{ ref('stg_moveworks__conversations') }} c on c.conversation_id = pc.conversation_id
left join {{ ref('int_moveworks__users_enriched') }} u on u.user_id = pc.user_id
{%- if is_incremental() %}
where {{ mw_touched_conversation('pc.conversation_id') }}
{%- endif %}
