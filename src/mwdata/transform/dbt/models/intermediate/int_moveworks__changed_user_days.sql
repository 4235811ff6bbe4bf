-- Incremental builds (macros/incremental.sql): the user-days (mw_day_key: '<user_id>|<UTC day>') a build
-- re-derives: those of the interactions of every changed conversation, by the new version (raw) and by
-- the old one (the staging table as the last build left it). Empty on a full refresh.
{%- set prev = mw_previous('stg_moveworks__interactions', mw_schema('staging')) %}
with keys as (
    select {{ mw_day_key('user_id', mw_day(mw_timestamp('created_time'))) }} as day_key
    from {{ source('moveworks', 'interactions') }}
    where {{ mw_touched_conversation('conversation_id') }}
{%- if prev is not none %}
    union
    select {{ mw_day_key('user_id', 'date_day') }}
    from {{ prev }}
    where {{ mw_touched_conversation('conversation_id') }}
{%- endif %}
)
select distinct day_key from keys
