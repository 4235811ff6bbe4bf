-- The HR extract (loaded by `mwdata build` into raw.hr_employees; empty when no file is configured).
select
    lower(trim(email)) as email_key,
    {{ mw_pii('email') }} as email,
    employee_id,
    department,
    location,
    country,
    role,
    {{ mw_pii('manager_email') }} as manager_email,
    coalesce(is_test_user, false) as is_test_user
from {{ source('hr', 'hr_employees') }}
