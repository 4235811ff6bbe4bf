-- One row per user of the roster: latest version; e-mail behind the PII switch.
with ranked as (
    select *, row_number() over (partition by id order by last_updated_time desc, _synced_at desc) as _version_rank
    from {{ source('moveworks', 'users') }}
)
select
    id as user_id,
    {{ mw_pii('email_addr') }} as email,
    lower(trim(email_addr)) as _email_key,
    {{ mw_pii('first_name') }} as first_name,
    {{ mw_pii('last_name') }} as last_name,
    coalesce(access_to_bot, false) as access_to_bot,
    {{ mw_normalise('user_preferred_language', 'users.user_preferred_language') }} as preferred_language,
    first_interaction_time,
    latest_interaction_time,
    last_updated_time,
    _synced_at
from ranked
where _version_rank = 1
