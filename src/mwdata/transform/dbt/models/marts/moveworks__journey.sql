{{ config(
    materialized=mw_incremental(),
    incremental_strategy='append',
    pre_hook="{{ mw_delete_changed(mw_touched_conversation('conversation_id')) }}",
) }}
-- depends_on: {{ ref('int_moveworks__changed_conversations') }}
-- The "raw interactions" journey: one row per user interaction, with context, plugins, reply, outcomes.
with bot_reply as (
    select parent_interaction_id, content
    from (
        select parent_interaction_id, content,
               row_number() over (partition by parent_interaction_id order by created_time, interaction_id) as _rank
        from {{ ref('stg_moveworks__interactions') }}
        where actor = 'bot' and parent_interaction_id is not null
{%- if is_incremental() %}
          and {{ mw_touched_conversation('conversation_id') }}
{%- endif %}
    ) ranked
    where _rank = 1
)
select
    i.interaction_id,
    i.conversation_id,
    i.user_id,
    i.created_time,
    i.date_day,
    {{ mw_user_day_key('i.user_id', 'i.date_day') }} as user_day_key,
    i.platform,
    i.interaction_type,
    i.label,
    -- free text, or the form's detail (CSAT comments: their text)
    case when s.is_csat_comment then i.content else coalesce(i.content, i.detail_detail) end as content,
    i.interaction_domain,
    i.topic,
    c.primary_domain as conversation_domain,
    c.route,
    c.conversation_type,
    coalesce(p.plugin_calls, 0) as plugin_calls,
    coalesce(p.plugins_served, 0) as plugins_served,
    coalesce(p.plugins_used, 0) as plugins_used,
    coalesce(p.plugins_unsuccessful, 0) as plugins_unsuccessful,
    coalesce(r.resources_served, 0) as resources_served,
    coalesce(r.cited_resources, 0) as cited_resources,
    b.content as bot_reply,
    s.feedback,
    s.is_csat_comment,
    s.is_escalation_label,
    coalesce(o.is_escalated, false) as is_escalated,
    -- A knowledge gap: a free-text question without a cited resource, with unhelpful feedback, or in an
    -- escalated conversation (the knowledge_gaps metric and the moveworks__knowledge_gaps mart count it).
    (i.interaction_type = 'INTERACTION_TYPE_FREE_TEXT'
        and (coalesce(r.cited_resources, 0) = 0 or coalesce(s.feedback = 'UNHELPFUL', false)
             or coalesce(o.is_escalated, false))) as is_knowledge_gap,
    u.department,
    u.location,
    u.country,
    u.role,
    {{ mw_day('u.first_interaction_time') }} as first_interaction_day,
    coalesce(u.is_test_user, false) as is_test_user
from {{ ref('stg_moveworks__interactions') }} i
join {{ ref('int_moveworks__interaction_signals') }} s on s.interaction_id = i.interaction_id
left join {{ ref('stg_moveworks__conversations') }} c on c.conversation_id = i.conversation_id
left join {{ ref('int_moveworks__conversation_outcomes') }} o on o.conversation_id = i.conversation_id
left join {{ ref('int_moveworks__interaction_plugins') }} p on p.interaction_id = i.interaction_id
left join {{ ref('int_moveworks__interaction_resources') }} r on r.interaction_id = i.interaction_id
left join bot_reply b on b.parent_interaction_id = i.interaction_id
left join {{ ref('int_moveworks__users_enriched') }} u on u.user_id = i.user_id
where i.actor = 'user'
{%- if is_incremental() %}
  and {{ mw_touched_conversation('i.conversation_id') }}
{%- endif %}
