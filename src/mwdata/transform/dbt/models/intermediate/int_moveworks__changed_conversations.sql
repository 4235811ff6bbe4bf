-- Incremental builds (macros/incremental.sql): every conversation a build re-derives, as
-- coalesce(conversation_id, '') ('' stands for the rows without one):
--   * a conversation, interaction, plugin call or plugin resource written since the last build
--     (raw _synced_at > since): its conversation, by the new version and, read from the staging table as
--     the last build left it, by the old one (a row that moved to another conversation changes both);
--   * every conversation holding a row of a user in int_moveworks__changed_users.
-- Empty on a full refresh.
{%- set since = mw_changed_since() %}
{%- set entities = {'interactions': 'interaction_id', 'plugin_calls': 'plugin_call_id', 'plugin_resources': 'plugin_resource_id'} %}
with changed as (
    select coalesce(id, '') as conversation_id
    from {{ source('moveworks', 'conversations') }}
    where _synced_at > {{ since }}
{%- for e in entities %}
    union
    select coalesce(conversation_id, '') from {{ source('moveworks', e) }} where _synced_at > {{ since }}
{%- endfor %}
{%- for e, key in entities.items() %}
{%- set prev = mw_previous('stg_moveworks__' ~ e, mw_schema('staging')) %}
{%- if prev is not none %}
    union
    select coalesce(conversation_id, '') from {{ prev }}
    where {{ key }} in ({{ mw_changed_ids(e) }})
{%- endif %}
{%- endfor %}
    union
    select coalesce(id, '') from {{ source('moveworks', 'conversations') }}
    where coalesce(user_id, '') in (select user_id from {{ ref('int_moveworks__changed_users') }})
{%- for e in entities %}
    union
    select coalesce(conversation_id, '') from {{ source('moveworks', e) }}
    where coalesce(user_id, '') in (select user_id from {{ ref('int_moveworks__changed_users') }})
{%- endfor %}
)
select distinct conversation_id from changed
