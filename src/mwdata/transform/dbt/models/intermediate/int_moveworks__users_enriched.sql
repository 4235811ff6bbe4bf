-- Roster users with their HR segment. Each user gets at most one HR row and each HR row at most one
-- user (no fan-out either way), matched in passes; a pass sees only users and HR rows no earlier pass
-- matched (docs/models.md, "HR extract"):
--   1. e-mail: lower(trim()) equal;
--   2. the HR external_id equals one of the user's external_ids[].external_id (trimmed, exact), of the
--      sources in var mwdata_hr_external_id_sources (every source when the list is empty);
--   3. the HR employee_id equals one of the user's external ids of the sources in var
--      mwdata_hr_employee_id_sources (pass off when the list is empty, the default).
-- Ambiguities resolve deterministically (macro mw_match_pass): an HR row goes to its first user (with bot
-- access, then most recently updated, then lowest user_id), a user takes its first HR row (hr_row_id).
{%- set ext_sources = var('mwdata_hr_external_id_sources', []) %}
{%- set emp_sources = var('mwdata_hr_employee_id_sources', []) %}
with users as (
    select u.*,
           row_number() over (
               order by u.access_to_bot desc nulls last, u.last_updated_time desc nulls last, u.user_id
           ) as _user_rank
    from {{ ref('stg_moveworks__users') }} u
), hr as (
    select * from {{ ref('stg_hr__employees') }}
), ids as (
    select x.user_id, x.source, x._external_id_key, u._user_rank
    from {{ ref('stg_moveworks__user_external_ids') }} x
    join users u on u.user_id = x.user_id
), by_email as (
    select u.user_id, u._user_rank, h.hr_row_id
    from users u
    join hr h on h.email_key = u._email_key
), by_external_id as (
    select x.user_id, x._user_rank, h.hr_row_id
    from ids x
    join hr h on h.external_id = x._external_id_key
    where {{ mw_source_in('x.source', ext_sources, 'true') }}
), by_employee_id as (
    select x.user_id, x._user_rank, h.hr_row_id
    from ids x
    join hr h on {{ mw_match_key('h.employee_id') }} = x._external_id_key
    where {{ mw_source_in('x.source', emp_sources, 'false') }}
), pass_email as (
    {{ mw_match_pass('by_email') }}
), pass_external_id as (
    {{ mw_match_pass('by_external_id', 'pass_email') }}
), taken as (
    select user_id, hr_row_id from pass_email
    union all
    select user_id, hr_row_id from pass_external_id
), pass_employee_id as (
    {{ mw_match_pass('by_employee_id', 'taken') }}
), matched as (
    select user_id, hr_row_id, 'email' as hr_match from pass_email
    union all
    select user_id, hr_row_id, 'external_id' as hr_match from pass_external_id
    union all
    select user_id, hr_row_id, 'employee_id' as hr_match from pass_employee_id
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
    hr.hr_row_id is not null as has_hr_record,
    hr.hr_row_id,
    m.hr_match
from users u
left join matched m on m.user_id = u.user_id
left join hr on hr.hr_row_id = m.hr_row_id
