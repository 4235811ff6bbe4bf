-- One row per user and UTC day with at least one user interaction.
select
    user_id,
    date_day,
    count(*) as user_interactions,
    count(distinct conversation_id) as conversations
from {{ ref('stg_moveworks__interactions') }}
where actor = 'user'
group by user_id, date_day
