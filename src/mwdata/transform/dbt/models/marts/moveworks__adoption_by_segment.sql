-- One row per HR segment (department x location x country x role): headcount, bot access, ever-active users.
-- Headcount is the HR extract's non-test employees plus roster users without an HR record (segment null).
-- HR rows meet users through int_moveworks__users_enriched's one-to-one match (e-mail, then external id).
with people as (
    select h.department, h.location, h.country, h.role, h.is_test_user,
           u.user_id, coalesce(u.access_to_bot, false) as access_to_bot
    from {{ ref('stg_hr__employees') }} h
    left join {{ ref('int_moveworks__users_enriched') }} u on u.hr_row_id = h.hr_row_id
    union all
    select null, null, null, null, false, u.user_id, u.access_to_bot
    from {{ ref('int_moveworks__users_enriched') }} u
    where u.hr_row_id is null
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
    sum(case when a.user_id is not null then 1 else 0 end) as ever_active_users,
    -- the UTC day of the build: headcount is a snapshot (the semantic layer's time dimension for it)
    {{ mw_day('current_timestamp') }} as as_of_day
from people p
left join active a on a.user_id = p.user_id
where not p.is_test_user
group by p.department, p.location, p.country, p.role
