{#- Recency, frequency and monetary value per purchasing customer as of the reference date (var
    rfm_reference_date, default the last day with a purchase): the summary lifetimes and pymc-marketing compute,
    before any scoring. An occasion is a distinct purchase day. A view: customer_rfm is its only consumer. -#}

{{ config(materialized='view') }}

{%- set reference_date = var('rfm_reference_date') %}

with purchases as (
    select customer_id, order_date, net_revenue
    from {{ ref('fct_orders') }}
    where is_purchase and customer_id is not null
),

reference as (
    select
        {% if reference_date %}cast('{{ reference_date }}' as date){% else %}max(order_date){% endif %} as reference_date
    from purchases
),

occasions as (
    select purchases.customer_id, purchases.order_date, sum(purchases.net_revenue) as revenue
    from purchases
    cross join reference
    where purchases.order_date <= reference.reference_date
    group by purchases.customer_id, purchases.order_date
),

final as (
    select
        occasions.customer_id,
        any_value(reference.reference_date) as reference_date,
        min(occasions.order_date) as first_purchase_date,
        max(occasions.order_date) as last_purchase_date,
        date_diff('day', max(occasions.order_date), any_value(reference.reference_date)) as recency_days,
        count(*) as frequency,
        sum(occasions.revenue) as monetary_total,
        sum(occasions.revenue) / count(*) as monetary_mean
    from occasions
    cross join reference
    group by occasions.customer_id
)

select * from final
