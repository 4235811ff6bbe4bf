-- One row per UTC day: the headline counts (numerators and denominators), test users excluded.
with c as (
    select date_day,
           count(*) as conversations,
           sum(case when is_user_engaged then 1 else 0 end) as user_engaged_conversations,
           sum(case when is_user_engaged and is_escalated then 1 else 0 end) as escalated_conversations,
           sum(case when is_user_engaged and route = 'DM' then 1 else 0 end) as engaged_dm_conversations,
           sum(case when is_contained then 1 else 0 end) as contained_conversations,
           sum(case when has_knowledge_used then 1 else 0 end) as knowledge_conversations,
           sum(minutes_saved) as minutes_saved
    from {{ ref('moveworks__conversations') }}
    where {{ mw_user_filter() }}
    group by date_day
), j as (
    select date_day,
           count(*) as user_interactions,
           count(distinct user_id) as active_users,
           sum(case when feedback = 'HELPFUL' then 1 else 0 end) as helpful_feedback,
           sum(case when feedback = 'UNHELPFUL' then 1 else 0 end) as unhelpful_feedback
    from {{ ref('moveworks__journey') }}
    where {{ mw_user_filter() }}
    group by date_day
), p as (
    select date_day, count(*) as plugin_calls,
           sum(case when served then 1 else 0 end) as plugins_served,
           sum(case when used then 1 else 0 end) as plugins_used
    from {{ ref('moveworks__plugin_calls') }}
    where {{ mw_user_filter() }}
    group by date_day
), r as (
    select date_day, count(*) as resources_served, sum(case when cited then 1 else 0 end) as resources_cited
    from {{ ref('moveworks__knowledge_resources') }}
    where {{ mw_user_filter() }}
    group by date_day
), days as (
    select date_day from c union select date_day from j union select date_day from p union select date_day from r
)
select
    d.date_day,
    coalesce(c.conversations, 0) as conversations,
    coalesce(c.user_engaged_conversations, 0) as user_engaged_conversations,
    coalesce(c.escalated_conversations, 0) as escalated_conversations,
    coalesce(c.engaged_dm_conversations, 0) as engaged_dm_conversations,
    coalesce(c.contained_conversations, 0) as contained_conversations,
    coalesce(c.knowledge_conversations, 0) as knowledge_conversations,
    coalesce(c.minutes_saved, 0) as minutes_saved,
    coalesce(j.user_interactions, 0) as user_interactions,
    coalesce(j.active_users, 0) as active_users,
    coalesce(j.helpful_feedback, 0) as helpful_feedback,
    coalesce(j.unhelpful_feedback, 0) as unhelpful_feedback,
    coalesce(p.plugin_calls, 0) as plugin_calls,
    coalesce(p.plugins_served, 0) as plugins_served,
    coalesce(p.plugins_used, 0) as plugins_used,
    coalesce(r.resources_served, 0) as resources_served,
    coalesce(r.resources_cited, 0) as resources_cited
from days d
left join c on c.date_day = d.date_day
left join j on j.date_day = d.date_day
left join p on p.date_day = d.date_day
left join r on r.date_day = d.date_day
