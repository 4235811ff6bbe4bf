-- One row per conversation: the latest version per id, detail flattened, vocabularies normalised.
with ranked as (
    select *, row_number() over (partition by id order by last_updated_time desc, _synced_at desc) as _version_rank
    from {{ source('moveworks', 'conversations') }}
)
select
    id as conversation_id,
    user_id,
    created_time,
    last_updated_time,
    {{ mw_day('created_time') }} as date_day,
    {{ mw_normalise('primary_domain', 'conversations.primary_domain') }} as primary_domain,
    primary_domain as primary_domain_raw,
    {{ mw_normalise('route', 'conversations.route') }} as route,
    route as route_raw,
    {{ mw_normalise('type', 'conversations.type') }} as conversation_type,
    type as conversation_type_raw,
{%- for key in ['type', 'source', 'domain', 'usecase_id', 'usecase_name', 'ticket_id', 'campaign_id', 'campaign_name', 'channel_id', 'channel_name', 'content'] %}
    {{ mw_json_text('detail', key) }} as detail_{{ key }},
{%- endfor %}
    _synced_at
from ranked
where _version_rank = 1
