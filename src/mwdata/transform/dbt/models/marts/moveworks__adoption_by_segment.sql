-- One row per HR segment (department x location x country x role): headcount, bot access, ever-active users.
-- Headcount is the HR extract's non-test employees plus roster users without an HR record (segment null).
with people as (
    select h.email_key, h.department, h.location, h.country, h.role, h.is_test_user,
           u.user_id, coalesce(u.access_to_bot, false) as access_to_bot
    from {{ ref('stg_hr__employees') }} h
    left join {{ ref('stg_moveworks__users') }} u on u._email_key = h.email_key
    union all
    select u._email_key, null, null, null, null, false, u.user_id, u.access_to_bot
    from {{ ref('stg_moveworks__users') }} u
    where not exists (select 1 from {{ ref('stg_hr__employees') }} h where h.email_key = u._email_key)
), active as (
    select distinct user_id from {{ ref('int_moveworks__user_day_activity') }}
)
select
    p.department,
    p.location,
    p.country,
    p.role,
    count(*) as headcount,
    sum(case when p.access_to_bot then 1 else 0 end) as users_with_access,
    sum(case when a.user_id is not null then 1 else 0 end) as ever_active_users
from people p
left join active a on a.user_id = p.user_id
where not p.is_test_user
group by p.department, p.location, p.country, p.role
