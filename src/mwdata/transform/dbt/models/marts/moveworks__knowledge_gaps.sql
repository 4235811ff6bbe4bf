-- Topics x domains of free-text questions ranked by failures (no citation, unhelpful, escalated).
select
    coalesce(topic, '(no topic)') as topic,
    coalesce(interaction_domain, '(none)') as interaction_domain,
    count(*) as volume,
    sum(case when cited_resources = 0 then 1 else 0 end) as without_citation,
    sum(case when feedback = 'UNHELPFUL' then 1 else 0 end) as unhelpful,
    sum(case when is_escalated then 1 else 0 end) as escalated,
    sum(case when is_knowledge_gap then 1 else 0 end) as failures,  -- the journey's is_knowledge_gap
    min(created_time) as first_seen_time,
    max(created_time) as last_seen_time
from {{ ref('moveworks__journey') }}
where interaction_type = 'INTERACTION_TYPE_FREE_TEXT' and {{ mw_user_filter() }}
group by coalesce(topic, '(no topic)'), coalesce(interaction_domain, '(none)')
