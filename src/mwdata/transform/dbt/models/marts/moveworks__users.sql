-- depends_on: {{ ref('int_moveworks__changed_users') }}
-- One row per roster user: bot access, first/latest interaction (API and observed), HR segment.
with activity as (
    select user_id, min(date_day) as first_active_day, max(date_day) as last_active_day,
           sum(user_interactions) as user_interactions
    from {{ ref('int_moveworks__user_day_activity') }}
    group by user_id
)
select
    u.user_id,
    u.email,
    u.access_to_bot,
    u.preferred_language,
    u.first_interaction_time,
    {{ mw_day('u.first_interaction_time') }} as first_interaction_day,
    u.latest_interaction_time,
    {{ mw_day('u.latest_interaction_time') }} as latest_interaction_day,
    a.first_active_day,
    a.last_active_day,
    coalesce(a.user_interactions, 0) as user_interactions,
    u.employee_id,
    u.department,
    u.location,
    u.country,
    u.role,
    u.is_test_user
from {{ ref('int_moveworks__users_enriched') }} u
left join activity a on a.user_id = u.user_id
