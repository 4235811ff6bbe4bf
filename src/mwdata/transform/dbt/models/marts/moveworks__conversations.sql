{{ config(
    materialized=mw_incremental(),
    incremental_strategy='append',
    pre_hook="{{ mw_delete_changed(mw_touched_conversation('conversation_id')) }}",
) }}
-- depends_on: {{ ref('int_moveworks__changed_conversations') }}
-- One row per conversation with outcome flags, plugin counts and the user's HR segment.
select
    c.conversation_id,
    c.user_id,
    c.created_time,
    c.date_day,
    c.route,
    c.primary_domain,
    o.platform,
    c.conversation_type,
    c.detail_campaign_name,
    c.detail_usecase_name,
    c.detail_ticket_id,
    c.detail_channel_name,
    (c.route = 'Notification' or c.conversation_type like '%NOTIFICATION') as is_notification,
    c.conversation_type in ('CONVERSATION_TYPE_TICKET_INTERCEPTION', 'CONVERSATION_TYPE_CHANNEL_INTERCEPTION')
        as is_interception,
    o.interaction_count,
    o.user_interaction_count,
    o.bot_interaction_count,
    o.is_user_engaged,
    o.has_bot_interaction,
    o.is_escalated,
    o.is_ticket_filed,
    o.has_helpful_feedback,
    o.has_unhelpful_feedback,
    (o.has_helpful_feedback or o.has_unhelpful_feedback) as has_feedback,
    o.plugin_calls,
    o.plugins_served,
    o.plugins_used,
    o.plugins_unsuccessful,
    (o.plugin_calls > 0 and o.plugins_served = 0) as is_unsuccessful_only,
    o.knowledge_plugins_used > 0 as has_knowledge_used,
    o.minutes_saved,
    (o.is_user_engaged and c.route = 'DM' and o.plugins_used > 0 and not o.is_escalated
        and not o.has_unhelpful_feedback) as is_contained,
    -- Time-to-resolution proxy: start -> first used plugin; over the cap or notification-origin: null.
    case
        when o.first_used_plugin_time is null or c.route = 'Notification' then null
        when {{ mw_seconds_between('c.created_time', 'o.first_used_plugin_time') }} / 60.0
             > {{ var('mwdata_ttr_max_minutes') }} then null
        else {{ mw_seconds_between('c.created_time', 'o.first_used_plugin_time') }} / 60.0
    end as minutes_to_resolution,
    u.department,
    u.location,
    u.country,
    u.role,
    coalesce(u.is_test_user, false) as is_test_user
from {{ ref('stg_moveworks__conversations') }} c
join {{ ref('int_moveworks__conversation_outcomes') }} o on o.conversation_id = c.conversation_id
left join {{ ref('int_moveworks__users_enriched') }} u on u.user_id = c.user_id
{%- if is_incremental() %}
where {{ mw_touched_conversation('c.conversation_id') }}
{%- endif %}
