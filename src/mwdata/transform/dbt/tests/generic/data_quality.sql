{# Custom generic tests of the project. Each returns the offending rows (dbt counts them). #}

{# Foreign-key orphans, failing only when their share of the rows exceeds max_rate. #}
{% test orphan_rate(model, column_name, to, field, max_rate=0) %}
with child as (
    select {{ column_name }} as fk from {{ model }} where {{ column_name }} is not null
), orphans as (
    select child.fk from child left join {{ to }} parent on parent.{{ field }} = child.fk
    where parent.{{ field }} is null
), share as (
    select (select count(*) from orphans) * 1.0 / nullif((select count(*) from child), 0) as orphan_rate
)
select orphans.fk, share.orphan_rate from orphans cross join share
where share.orphan_rate > {{ max_rate }}
{% endtest %}

{# Values the vocabulary seed does not know (normalised to 'other' in staging). #}
{% test no_unknown_values(model, column_name) %}
select {{ column_name }} from {{ model }} where {{ column_name }} = 'other'
{% endtest %}

{# Days whose row count falls outside mean +/- band * stddev of the trailing window (>= 7 prior days). #}
{% test volume_anomaly(model, column_name, window_days=none, band=none) %}
{%- set window_days = window_days or var('mwdata_volume_window_days') -%}
{%- set band = band or var('mwdata_volume_band') -%}
with daily as (
    select {{ column_name }} as day, count(*) as n from {{ model }} group by {{ column_name }}
), banded as (
    select day, n,
           avg(n) over (order by day rows between {{ window_days }} preceding and 1 preceding) as mean_n,
           stddev_samp(n) over (order by day rows between {{ window_days }} preceding and 1 preceding) as sd_n,
           count(*) over (order by day rows between {{ window_days }} preceding and 1 preceding) as prior_days
    from daily
)
select day, n, mean_n, sd_n from banded
where prior_days >= 7
  and abs(n - mean_n) > {{ band }} * greatest(coalesce(sd_n, 0), 0.1 * mean_n, 1)
{% endtest %}

{# Rows of the quarantine mart (records the models cannot use); a warning, so one bad record never
   stops the nightly run. mwdata's runner replaces the message with the entities and ids. #}
{% test quarantined_records(model) %}
select entity, record_id, reason from {{ model }}
{% endtest %}

{# Rows of a grain of several columns that occur more than once (rows with a null in any of them are
   left to not_null tests, as dbt's unique leaves nulls): the same SQL on every engine. #}
{% test unique_combination(model, columns) %}
select {{ columns | join(', ') }}, count(*) as n
from {{ model }}
where {% for c in columns %}{{ c }} is not null{{ ' and ' if not loop.last }}{% endfor %}
group by {{ columns | join(', ') }}
having count(*) > 1
{% endtest %}
