-- Incremental builds (macros/incremental.sql): the users whose attributes the marts carry (HR segment,
-- test-user flag, bot access, first interaction day) differ from the ones the last build gave them, read
-- from moveworks__users as that build left it; new and removed roster users too. Their conversations and
-- user-days are re-derived. Empty on a full refresh (nothing is re-derived selectively then).
{%- set prev = mw_previous('moveworks__users', mw_schema('marts')) %}
{%- if prev is none %}
select cast(null as {{ mw_type_string() }}) as user_id
from {{ ref('int_moveworks__users_enriched') }}
where 1 = 0
{%- else %}
select coalesce(n.user_id, o.user_id) as user_id
from {{ ref('int_moveworks__users_enriched') }} n
full outer join {{ prev }} o on o.user_id = n.user_id
where {{ mw_changed_since() }} is not null
  and (n.user_id is null or o.user_id is null
{%- for c in ['department', 'location', 'country', 'role', 'is_test_user', 'access_to_bot'] %}
       or n.{{ c }} is distinct from o.{{ c }}
{%- endfor %}
       or {{ mw_day('n.first_interaction_time') }} is distinct from o.first_interaction_day)
{%- endif %}
