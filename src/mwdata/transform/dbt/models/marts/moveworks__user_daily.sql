-- One row per user and UTC day with at least one user interaction, with the HR segment.
select
    a.date_day,
    a.user_id,
    a.user_interactions,
    a.conversations,
    u.access_to_bot,
    u.department,
    u.location,
    u.country,
    u.role,
    coalesce(u.is_test_user, false) as is_test_user
from {{ ref('int_moveworks__user_day_activity') }} a
left join {{ ref('int_moveworks__users_enriched') }} u on u.user_id = a.user_id
