-- One row per plugin and UTC day: calls, served, used, unsuccessful, latency percentiles, minutes saved.
select
    date_day,
    plugin_name,
    bool_or(is_native) as is_native,
    max(plugin_kind) as plugin_kind,
    count(*) as calls,
    sum(case when served then 1 else 0 end) as served,
    sum(case when used then 1 else 0 end) as used,
    sum(case when is_unsuccessful then 1 else 0 end) as unsuccessful,
    {{ mw_percentile('latency_seconds', 0.5) }} as latency_p50_seconds,
    {{ mw_percentile('latency_seconds', 0.9) }} as latency_p90_seconds,
    sum(case when used then minutes_saved else 0 end) as minutes_saved
from {{ ref('moveworks__plugin_calls') }}
where {{ mw_user_filter() }}
group by date_day, plugin_name
