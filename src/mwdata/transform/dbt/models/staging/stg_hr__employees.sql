{{ config(materialized=mw_staging_materialized()) }}
-- The HR extract (loaded by `mwdata build` into raw.hr_employees; empty when no file is configured).
-- hr_row_id numbers the rows in a fixed order (employee_id, then the other columns) so that ties in
-- the user match (int_moveworks__users_enriched) resolve the same way on every run.
select
    row_number() over (
        order by employee_id nulls last, lower(trim(email)) nulls last, trim(external_id) nulls last,
                 department nulls last, location nulls last, country nulls last, role nulls last,
                 manager_email nulls last, is_test_user nulls last
    ) as hr_row_id,
    {{ mw_match_key('lower(trim(email))') }} as email_key,
    {{ mw_pii('email') }} as email,
    employee_id,
    {{ mw_match_key("nullif(trim(external_id), '')") }} as external_id,
    department,
    location,
    country,
    role,
    {{ mw_pii('manager_email') }} as manager_email,
    coalesce(is_test_user, false) as is_test_user
from {{ source('hr', 'hr_employees') }}
