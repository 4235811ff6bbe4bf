{{ config(
    materialized=mw_incremental(),
    incremental_strategy='append',
    pre_hook="{{ mw_delete_changed(mw_touched_user_day('user_id', 'date_day')) }}",
) }}
-- depends_on: {{ ref('int_moveworks__changed_user_days') }}
-- One row per user and UTC day with at least one user interaction.
select
    user_id,
    date_day,
    count(*) as user_interactions,
    count(distinct conversation_id) as conversations
from {{ ref('stg_moveworks__interactions') }}
where actor = 'user'
{%- if is_incremental() %}
  and {{ mw_touched_user_day('user_id', 'date_day') }}
{%- endif %}
group by user_id, date_day
