-- The semantic layer's time spine: one row per UTC day (cumulative metrics such as WAU / MAU join to it).
{{ config(materialized='table') }}
select cast(date_day as date) as date_day
from ({{ dbt.date_spine('day', "cast('2020-01-01' as date)", "cast('2036-01-01' as date)") }}) spine
