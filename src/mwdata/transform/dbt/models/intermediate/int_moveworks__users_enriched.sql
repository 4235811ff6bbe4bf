-- Users of the roster with their HR segment (joined on e-mail, case-insensitively).
with hr as (
    select *, row_number() over (partition by email_key order by employee_id) as _rank
    from {{ ref('stg_hr__employees') }}
    where email_key is not null
)
select
    u.user_id,
    u.email,
    u.access_to_bot,
    u.preferred_language,
    u.first_interaction_time,
    u.latest_interaction_time,
    hr.employee_id,
    hr.department,
    hr.location,
    hr.country,
    hr.role,
    coalesce(hr.is_test_user, false) as is_test_user,
    hr.employee_id is not null as has_hr_record
from {{ ref('stg_moveworks__users') }} u
left join hr on hr.email_key = u._email_key and hr._rank = 1
