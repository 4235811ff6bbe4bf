-- One row per knowledge resource and UTC day.
select
    date_day,
    resource_id,
    max(article_name) as article_name,
    count(*) as times_served,
    sum(case when cited then 1 else 0 end) as times_cited,
    count(distinct conversation_id) as conversations,
    count(distinct case when conversation_unhelpful then conversation_id end) as unhelpful_conversations,
    count(distinct case when conversation_ticket_filed then conversation_id end) as ticket_conversations
from {{ ref('moveworks__knowledge_resources') }}
where {{ mw_user_filter() }}
group by date_day, resource_id
