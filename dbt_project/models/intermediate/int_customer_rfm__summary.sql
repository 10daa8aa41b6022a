{#- Recency, frequency and monetary value per purchasing customer as of the reference date (var
    rfm_reference_date, default the last day with a purchase): the summary lifetimes and pymc-marketing compute,
    before any scoring. An occasion is a distinct purchase day. A view: customer_rfm is its only consumer.
    Aggregated before the reference date is joined, so the purchases are read once. -#}

{{ config(materialized='view') }}

{%- set reference_date = var('rfm_reference_date') %}

with purchases as (
    select customer_id, order_date, net_revenue
    from {{ ref('fct_orders') }}
    where is_purchase and customer_id is not null
        {% if reference_date %}and order_date <= cast('{{ reference_date }}' as date){% endif %}
),

occasions as (
    select customer_id, order_date, sum(net_revenue) as revenue
    from purchases
    group by customer_id, order_date
),

per_customer as (
    select
        customer_id,
        min(order_date) as first_purchase_date,
        max(order_date) as last_purchase_date,
        count(*) as frequency,
        sum(revenue) as monetary_total
    from occasions
    group by customer_id
),

reference as (
    {% if reference_date -%}
    select cast('{{ reference_date }}' as date) as reference_date
    {%- else -%}
    select max(last_purchase_date) as reference_date from per_customer
    {%- endif %}
),

final as (
    select
        per_customer.customer_id,
        reference.reference_date,
        per_customer.first_purchase_date,
        per_customer.last_purchase_date,
        {{ days_between("per_customer.last_purchase_date", "reference.reference_date") }} as recency_days,
        per_customer.frequency,
        per_customer.monetary_total,
        {{ ratio("per_customer.monetary_total", "per_customer.frequency") }} as monetary_mean
    from per_customer
    cross join reference
)

select * from final
