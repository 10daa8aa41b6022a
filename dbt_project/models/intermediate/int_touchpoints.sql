{#- Every event of every feed, one row each, with the resolved customer where the event names one: what
    fct_touchpoints holds, computed afresh (a view; the fact persists it incrementally).
    Each feed joins the crosswalk on the record key it contributes to int_customer_records. -#}
{{ config(materialized='view') }}

with events as (
    select * from {{ ref('int_touchpoints__events') }}
),

final as (
    {{ resolve_touchpoints('events') }}
)

select * from final
