{{ config(
    materialized=mw_incremental(),
    incremental_strategy='append',
    pre_hook="{{ mw_delete_changed(mw_touched_conversation('conversation_id')) }}",
) }}
-- depends_on: {{ ref('int_moveworks__changed_conversations') }}
-- Per interaction: feedback value, CSAT comment, escalation signal (both feedback spellings accepted).
-- A ticket is filed by an interaction labelled file_ticket or handoff (the metric library's reading);
-- used Smart Handoff / live-chat plugin calls escalate but file no ticket.
select
    interaction_id,
    conversation_id,
    case
        when interaction_type = 'INTERACTION_TYPE_LINK_CLICK' and detail_resource_id in ('HELPFUL', 'UNHELPFUL')
            then detail_resource_id
        when label = 'feedback' and detail_detail in ('HELPFUL', 'UNHELPFUL') then detail_detail
    end as feedback,
    (interaction_type = 'INTERACTION_TYPE_UIFORM_SUBMISSION' and label = 'mw_form'
        and detail_detail = 'CSAT Feedback') as is_csat_comment,
    coalesce(label in ('file_ticket', 'handoff'), false) as is_escalation_label,
    coalesce(label in ('file_ticket', 'handoff'), false) as is_ticket_filed
from {{ ref('stg_moveworks__interactions') }}
{%- if is_incremental() %}
where {{ mw_touched_conversation('conversation_id') }}
{%- endif %}
