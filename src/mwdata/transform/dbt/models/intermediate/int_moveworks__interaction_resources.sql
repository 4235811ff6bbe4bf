-- Plugin resources rolled up per interaction.
select
    interaction_id,
    count(*) as resources_served,
    sum(case when cited then 1 else 0 end) as cited_resources
from {{ ref('stg_moveworks__plugin_resources') }}
group by interaction_id
