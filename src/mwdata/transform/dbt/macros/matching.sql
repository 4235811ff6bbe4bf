{# One pass of the one-to-one HR match (int_moveworks__users_enriched). `candidates` is a relation
   of (user_id, _user_rank, hr_row_id) pairs; pairs whose user or HR row is in `taken` (user_id,
   hr_row_id) are ignored; a pair is kept when the HR row is the user's first candidate (lowest
   hr_row_id) and the user the HR row's first (lowest _user_rank). The result is one-to-one and the
   same on every run; the losers stay free for the next pass. Candidates are deduplicated first: a
   pair found twice (one id under two sources) would split its two ranks over two rows. #}
{% macro mw_match_pass(candidates, taken=none) -%}
select user_id, hr_row_id
from (
    select c.user_id, c.hr_row_id,
           row_number() over (partition by c.user_id order by c.hr_row_id) as _by_user,
           row_number() over (partition by c.hr_row_id order by c._user_rank) as _by_hr
    from (select distinct user_id, _user_rank, hr_row_id from {{ candidates }}) c
    {%- if taken is not none %}
    where not exists (select 1 from {{ taken }} t where t.user_id = c.user_id)
      and not exists (select 1 from {{ taken }} t where t.hr_row_id = c.hr_row_id)
    {%- endif %}
) ranked
where _by_user = 1 and _by_hr = 1
{%- endmacro %}

{# A filter on an external id's source: upper(expr) in the (case-insensitive) list of sources, or
   `when_empty` (a SQL boolean) when the list is empty. #}
{% macro mw_source_in(expr, sources, when_empty) -%}
  {%- if sources is string -%}{%- set sources = [sources] -%}{%- endif -%}
  {%- if sources | length == 0 -%}{{ when_empty }}
  {%- else -%}upper({{ expr }}) in (
    {%- for s in sources -%}'{{ (s | string | trim | upper).replace("'", "''") }}'{{ ", " if not loop.last }}{%- endfor -%})
  {%- endif -%}
{%- endmacro %}
