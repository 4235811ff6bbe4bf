{{ config(materialized=mw_staging_materialized()) }}
-- One row per roster user (latest version) and distinct identity in a connected system, flattened
-- from users.external_ids ([{connector_name, external_id, source}]; null or non-array: no rows).
-- external_id sits behind the PII switch (GSUITE ids are e-mail addresses); _external_id_key is the
-- trimmed value the HR match uses (its keyed digest unless pii = show), like stg_moveworks__users._email_key.
with ranked as (
    select id, external_ids,
           row_number() over (partition by id order by last_updated_time desc, _synced_at desc) as _version_rank
    from {{ source('moveworks', 'users') }}
), flat as (
    select
        r.id as user_id,
        trim({{ mw_json_text('e.value', 'connector_name') }}) as connector_name,
        upper(trim({{ mw_json_text('e.value', 'source') }})) as source,
        trim({{ mw_json_text('e.value', 'external_id') }}) as external_id
    from ranked r
    {{ mw_json_array_join('r.external_ids', 'e') }}
    where r._version_rank = 1
)
select distinct
    user_id,
    connector_name,
    source,
    {{ mw_pii('external_id') }} as external_id,
    {{ mw_match_key('external_id') }} as _external_id_key
from flat
where external_id is not null and external_id <> ''
