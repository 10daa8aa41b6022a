{#- Every event of every feed, one row each, with the resolved customer where the event names one: what
    fct_touchpoints holds, computed afresh (a view; the fact persists it incrementally).
    Each feed joins the crosswalk on the record key it contributes to int_customer_records. -#}
{{ config(materialized='view') }}

with crosswalk as (
    select * from {{ source('identity', 'customer_crosswalk') }}
),

events as (
    select * from {{ ref('int_touchpoints__events') }}
),

final as (
    select
        events.touchpoint_key,
        events.feed,
        events.event_id,
        crosswalk.customer_id,
        events.occurred_at,
        cast(events.occurred_at as date) as occurred_date,
        events.channel,
        events.touchpoint_type,
        events.campaign_id,
        events.amount
    from events
    left join crosswalk
        on crosswalk.source = events.feed and crosswalk.source_record_id = events.record_key
)

select * from final
