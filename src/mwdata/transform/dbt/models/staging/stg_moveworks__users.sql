{{ config(materialized=mw_staging_materialized()) }}
-- One row per user of the roster: latest version; e-mail behind the PII switch.
with ranked as (
    {{ mw_latest('users') }}
)
select
    id as user_id,
    {{ mw_pii('email_addr') }} as email,
    {{ mw_match_key('lower(trim(email_addr))') }} as _email_key,
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
  and _quarantine_reason is null  -- listed in moveworks__quarantine instead
