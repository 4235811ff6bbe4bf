-- One row per knowledge resource (article/file): served, cited, conversations and their bad outcomes.
select
    resource_id,
    max(article_name) as article_name,
    max(external_resource_id) as external_resource_id,
    max(resource_type) as resource_type,
    count(*) as times_served,
    sum(case when cited then 1 else 0 end) as times_cited,
    count(distinct conversation_id) as conversations,
    count(distinct case when conversation_unhelpful then conversation_id end) as unhelpful_conversations,
    count(distinct case when conversation_ticket_filed then conversation_id end) as ticket_conversations,
    min(created_time) as first_served_time,
    max(created_time) as last_served_time
from {{ ref('moveworks__knowledge_resources') }}
where {{ mw_user_filter() }}
group by resource_id
