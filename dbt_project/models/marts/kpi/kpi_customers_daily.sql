{#- Daily customer KPIs: purchases, capture rate (purchases and revenue), active and new customers. -#}

with purchases as (
    select * from {{ ref('fct_orders') }}
    where is_purchase
),

first_purchase as (
    select customer_id, min(order_date) as first_purchase_date
    from purchases
    where customer_id is not null
    group by customer_id
),

data_start as (
    -- customers who bought before the first day of order data look new on their first purchase in it
    select min(order_date) as first_order_date from {{ ref('fct_orders') }}
),

final as (
    select
        purchases.order_date,
        count(*) as purchases,
        count(*) filter (where purchases.is_identified) as identified_purchases,
        count(*) filter (where purchases.is_identified) / count(*) as capture_rate_purchases,
        sum(purchases.net_revenue) as revenue,
        coalesce(sum(purchases.net_revenue) filter (where purchases.is_identified), 0) as identified_revenue,
        {{ ratio("coalesce(sum(purchases.net_revenue) filter (where purchases.is_identified), 0)",
                 "nullif(sum(purchases.net_revenue), 0)") }} as capture_rate_revenue,
        count(distinct purchases.customer_id) as active_customers,
        count(distinct purchases.customer_id) filter (
            where first_purchase.first_purchase_date = purchases.order_date) as new_customers,
        {{ days_between("any_value(data_start.first_order_date)", "purchases.order_date") }} as history_days,
        {{ days_between("any_value(data_start.first_order_date)", "purchases.order_date") }}
            >= {{ var('new_customer_history_days') }} as history_complete
    from purchases
    cross join data_start
    left join first_purchase using (customer_id)
    group by purchases.order_date
)

select * from final order by order_date
