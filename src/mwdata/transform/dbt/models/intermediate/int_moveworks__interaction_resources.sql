{{ config(
    materialized=mw_incremental(),
    incremental_strategy='append',
    pre_hook="{{ mw_delete_changed(mw_touched_rollup(ref('stg_moveworks__plugin_resources'))) }}",
) }}
-- depends_on: {{ ref('int_moveworks__changed_conversations') }}
-- Plugin resources rolled up per interaction.
select
    interaction_id,
    -- its conversation (incremental builds delete by it; the first if its rows disagree)
    min(conversation_id) as conversation_id,
    count(*) as resources_served,
    sum(case when cited then 1 else 0 end) as cited_resources
from {{ ref('stg_moveworks__plugin_resources') }}
{%- if is_incremental() %}
where {{ mw_touched_rollup(ref('stg_moveworks__plugin_resources')) }}
{%- endif %}
group by interaction_id
