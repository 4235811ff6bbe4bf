{{ config(
    materialized=mw_incremental(),
    incremental_strategy='append',
    pre_hook="{{ mw_delete_changed(mw_touched_conversation('conversation_id')) }}",
) }}
-- depends_on: {{ ref('int_moveworks__changed_conversations') }}
-- One row per knowledge-type resource served (KNOWLEDGE, FILE, INTERNAL_KNOWLEDGE).
select
    k.*,
    i.platform,
    c.route,
    c.primary_domain as conversation_domain,
    u.department,
    u.location,
    u.country,
    u.role,
    coalesce(u.is_test_user, false) as is_test_user
from {{ ref('int_moveworks__citations') }} k
left join {{ ref('stg_moveworks__interactions') }} i on i.interaction_id = k.interaction_id
left join {{ ref('stg_moveworks__conversations') }} c on c.conversation_id = k.conversation_id
left join {{ ref('int_moveworks__users_enriched') }} u on u.user_id = k.user_id
{%- if is_incremental() %}
where {{ mw_touched_conversation('k.conversation_id') }}
{%- endif %}
