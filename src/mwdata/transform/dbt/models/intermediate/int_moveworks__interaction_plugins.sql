{{ config(
    materialized=mw_incremental(),
    incremental_strategy='append',
    pre_hook="{{ mw_delete_changed(mw_touched_rollup(ref('int_moveworks__plugin_calls_enriched'))) }}",
) }}
-- depends_on: {{ ref('int_moveworks__changed_conversations') }}
-- Plugin calls rolled up per interaction (aggregated before any join: no fan-out).
select
    interaction_id,
    -- its conversation (incremental builds delete by it; the first if its rows disagree)
    min(conversation_id) as conversation_id,
    count(*) as plugin_calls,
    sum(case when served then 1 else 0 end) as plugins_served,
    sum(case when used then 1 else 0 end) as plugins_used,
    sum(case when is_unsuccessful then 1 else 0 end) as plugins_unsuccessful,
    sum(case when used and plugin_kind = 'escalation' then 1 else 0 end) as escalation_plugins_used,
    sum(case when used and plugin_kind = 'knowledge' then 1 else 0 end) as knowledge_plugins_used,
    sum(case when used then minutes_saved else 0 end) as minutes_saved,
    min(case when used then plugin_update_time end) as first_used_plugin_time
from {{ ref('int_moveworks__plugin_calls_enriched') }}
{%- if is_incremental() %}
where {{ mw_touched_rollup(ref('int_moveworks__plugin_calls_enriched')) }}
{%- endif %}
group by interaction_id
