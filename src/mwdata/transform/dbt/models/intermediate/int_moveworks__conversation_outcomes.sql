{{ config(
    materialized=mw_incremental(),
    incremental_strategy='append',
    pre_hook="{{ mw_delete_changed(mw_touched_conversation('conversation_id')) }}",
) }}
-- depends_on: {{ ref('int_moveworks__changed_conversations') }}
-- Per conversation: engagement, escalation, feedback and plugin outcomes.
with i as (
    select
        i.conversation_id,
        count(*) as interaction_count,
        sum(case when i.actor = 'user' then 1 else 0 end) as user_interaction_count,
        sum(case when i.actor = 'bot' then 1 else 0 end) as bot_interaction_count,
        {{ dbt.bool_or("s.is_escalation_label") }} as has_escalation_label,
        {{ dbt.bool_or("s.is_ticket_filed") }} as has_ticket_filed,
        {{ dbt.bool_or("s.feedback = 'HELPFUL'") }} as has_helpful_feedback,
        {{ dbt.bool_or("s.feedback = 'UNHELPFUL'") }} as has_unhelpful_feedback,
        min(case when i.actor = 'user' then i.created_time end) as first_user_interaction_time
    from {{ ref('stg_moveworks__interactions') }} i
    join {{ ref('int_moveworks__interaction_signals') }} s on s.interaction_id = i.interaction_id
{%- if is_incremental() %}
    where {{ mw_touched_conversation('i.conversation_id') }}
{%- endif %}
    group by i.conversation_id
), first_platform as (
    select conversation_id, platform
    from (
        select conversation_id, platform,
               row_number() over (partition by conversation_id
                                  order by case when actor = 'user' then 0 else 1 end, created_time, interaction_id) as _rank
        from {{ ref('stg_moveworks__interactions') }}
{%- if is_incremental() %}
        where {{ mw_touched_conversation('conversation_id') }}
{%- endif %}
    ) ranked
    where _rank = 1
), p as (
    select
        conversation_id,
        count(*) as plugin_calls,
        sum(case when served then 1 else 0 end) as plugins_served,
        sum(case when used then 1 else 0 end) as plugins_used,
        sum(case when is_unsuccessful then 1 else 0 end) as plugins_unsuccessful,
        sum(case when used and plugin_kind = 'escalation' then 1 else 0 end) as escalation_plugins_used,
        sum(case when used and plugin_kind = 'knowledge' then 1 else 0 end) as knowledge_plugins_used,
        sum(case when used then minutes_saved else 0 end) as minutes_saved,
        min(case when used then plugin_update_time end) as first_used_plugin_time
    from {{ ref('int_moveworks__plugin_calls_enriched') }}
{%- if is_incremental() %}
    where {{ mw_touched_conversation('conversation_id') }}
{%- endif %}
    group by conversation_id
)
select
    c.conversation_id,
    fp.platform,
    coalesce(i.interaction_count, 0) as interaction_count,
    coalesce(i.user_interaction_count, 0) as user_interaction_count,
    coalesce(i.bot_interaction_count, 0) as bot_interaction_count,
    coalesce(i.user_interaction_count, 0) > 0 as is_user_engaged,
    coalesce(i.bot_interaction_count, 0) > 0 as has_bot_interaction,
    coalesce(i.has_escalation_label, false) or coalesce(p.escalation_plugins_used, 0) > 0 as is_escalated,
    coalesce(i.has_ticket_filed, false) as is_ticket_filed,
    coalesce(i.has_helpful_feedback, false) as has_helpful_feedback,
    coalesce(i.has_unhelpful_feedback, false) as has_unhelpful_feedback,
    coalesce(p.plugin_calls, 0) as plugin_calls,
    coalesce(p.plugins_served, 0) as plugins_served,
    coalesce(p.plugins_used, 0) as plugins_used,
    coalesce(p.plugins_unsuccessful, 0) as plugins_unsuccessful,
    coalesce(p.knowledge_plugins_used, 0) as knowledge_plugins_used,
    coalesce(p.minutes_saved, 0) as minutes_saved,
    p.first_used_plugin_time,
    i.first_user_interaction_time
from {{ ref('stg_moveworks__conversations') }} c
left join i on i.conversation_id = c.conversation_id
left join p on p.conversation_id = c.conversation_id
left join first_platform fp on fp.conversation_id = c.conversation_id
{%- if is_incremental() %}
where {{ mw_touched_conversation('c.conversation_id') }}
{%- endif %}
