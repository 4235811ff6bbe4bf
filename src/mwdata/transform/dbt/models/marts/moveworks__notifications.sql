{{ config(
    materialized=mw_incremental(),
    incremental_strategy='append',
    pre_hook="{{ mw_delete_changed(mw_touched_conversation('conversation_id')) }}",
) }}
-- depends_on: {{ ref('int_moveworks__changed_conversations') }}
-- One row per system-event conversation (notifications, interceptions; since 2026-04).
select
    conversation_id,
    user_id,
    created_time,
    date_day,
    route,
    conversation_type,
    detail_campaign_name as campaign_name,
    detail_usecase_name as usecase_name,
    detail_ticket_id as ticket_id,
    detail_channel_name as channel_name,
    is_interception,
    has_bot_interaction as is_reached_out,
    is_user_engaged,
    is_ticket_filed,
    (is_interception and is_user_engaged and not is_ticket_filed) as is_deflected,
    department,
    location,
    country,
    role,
    is_test_user
from {{ ref('moveworks__conversations') }}
where (conversation_type is not null or route = 'Notification')
{%- if is_incremental() %}
  and {{ mw_touched_conversation('conversation_id') }}
{%- endif %}
