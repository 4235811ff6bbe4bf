{{ config(
    materialized=mw_incremental(),
    incremental_strategy='append',
    pre_hook="{{ mw_delete_changed('(' ~ mw_touched_user_day('user_id', 'date_day') ~ ' or ' ~ mw_touched_user('user_id') ~ ')') }}",
) }}
-- depends_on: {{ ref('int_moveworks__changed_user_days') }}
-- depends_on: {{ ref('int_moveworks__changed_users') }}
-- One row per user and UTC day with at least one user interaction, with the HR segment and the
-- user's first interaction day (users entity; the adoption page's returning users and cohorts).
select
    a.date_day,
    a.user_id,
    {{ mw_user_day_key('a.user_id', 'a.date_day') }} as user_day_key,
    a.user_interactions,
    a.conversations,
    u.access_to_bot,
    {{ mw_day('u.first_interaction_time') }} as first_interaction_day,
    u.department,
    u.location,
    u.country,
    u.role,
    coalesce(u.is_test_user, false) as is_test_user
from {{ ref('int_moveworks__user_day_activity') }} a
left join {{ ref('int_moveworks__users_enriched') }} u on u.user_id = a.user_id
{%- if is_incremental() %}
where {{ mw_touched_user_day('a.user_id', 'a.date_day') }} or {{ mw_touched_user('a.user_id') }}
{%- endif %}
