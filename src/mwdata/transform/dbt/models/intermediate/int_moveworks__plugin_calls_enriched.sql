{{ config(
    materialized=mw_incremental(),
    incremental_strategy='append',
    pre_hook="{{ mw_delete_changed(mw_touched_conversation('conversation_id')) }}",
) }}
-- depends_on: {{ ref('int_moveworks__changed_conversations') }}
-- Plugin calls with the customer's plugin settings (kind, minutes saved per used call).
select
    pc.*,
    coalesce(s.plugin_kind, 'action') as plugin_kind,
    coalesce(s.minutes_saved, {{ var('mwdata_default_minutes_saved') }}) as minutes_saved,
    (lower(pc.plugin_name) like '%approval%' or s.plugin_kind = 'approval') as is_approval
from {{ ref('stg_moveworks__plugin_calls') }} pc
left join {{ ref('moveworks_plugin_settings') }} s on s.plugin_name = pc.plugin_name
{%- if is_incremental() %}
where {{ mw_touched_conversation('pc.conversation_id') }}
{%- endif %}
