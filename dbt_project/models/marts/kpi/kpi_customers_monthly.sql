{#- Monthly customer KPIs (definitions in docs/metrics.md, from DESIGN.md):
    capture rate, active / new / retained customers, retention and churn, new-customer retention,
    and the one-time purchase and repeat rates of every customer who purchased up to the month's end. -#}

with purchases as (
    select * from {{ ref('fct_orders') }}
    where is_purchase
),

months as (
    select distinct date_trunc('month', order_date)::date as month from purchases
),

data_start as (
    -- customers who bought before the first day of order data look new on their first purchase in it
    select min(order_date) as first_order_date from {{ ref('fct_orders') }}
),

capture as (
    select
        date_trunc('month', order_date)::date as month,
        count(*) as purchases,
        count(*) filter (where is_identified) as identified_purchases,
        sum(net_revenue) as revenue,
        coalesce(sum(net_revenue) filter (where is_identified), 0) as identified_revenue
    from purchases
    group by 1
),

occasions as (
    select distinct customer_id, order_date, date_trunc('month', order_date)::date as month
    from purchases
    where customer_id is not null
),

first_purchase as (
    select customer_id, min(month) as first_month
    from occasions
    group by customer_id
),

active as (
    select distinct occasions.customer_id, occasions.month, first_purchase.first_month
    from occasions
    inner join first_purchase using (customer_id)
),

activity as (
    select
        current_month.month,
        count(*) as active_customers,
        count(*) filter (where current_month.first_month = current_month.month) as new_customers
    from active as current_month
    group by current_month.month
),

retention as (
    select
        months.month,
        count(previous.customer_id) as previous_customers,
        count(current_month.customer_id) as retained_customers,
        count(previous.customer_id) filter (where previous.first_month = previous.month) as previous_new_customers,
        count(current_month.customer_id) filter (where previous.first_month = previous.month) as retained_new_customers
    from months
    left join active as previous
        on previous.month = months.month - interval 1 month
    left join active as current_month
        on current_month.customer_id = previous.customer_id and current_month.month = months.month
    group by months.month
),

customer_occasions as (
    select
        customer_id,
        min(month) as first_month,
        {{ nth_value_by("month", "order_date", 2) }} as second_month
    from occasions
    group by customer_id
),

repeat_to_date as (
    -- A customer counts as one-time in a month while their second occasion has not happened yet.
    select
        months.month,
        count(*) as customers_to_date,
        count(*) filter (where c.second_month is null or c.second_month > months.month) as one_time_customers
    from months
    inner join customer_occasions as c on c.first_month <= months.month
    group by months.month
),

final as (
    select
        months.month,
        capture.purchases,
        capture.identified_purchases,
        capture.identified_purchases / capture.purchases as capture_rate_purchases,
        capture.revenue,
        capture.identified_revenue,
        {{ ratio("capture.identified_revenue", "nullif(capture.revenue, 0)") }} as capture_rate_revenue,
        coalesce(activity.active_customers, 0) as active_customers,
        coalesce(activity.new_customers, 0) as new_customers,
        greatest({{ days_between("data_start.first_order_date", "months.month") }}, 0) as history_days,
        {{ days_between("data_start.first_order_date", "months.month") }}
            >= {{ var('new_customer_history_days') }} as history_complete,
        retention.retained_customers,
        retention.previous_customers,
        retention.retained_customers / nullif(retention.previous_customers, 0) as retention_rate,
        1 - retention.retained_customers / nullif(retention.previous_customers, 0) as churn_rate,
        retention.retained_new_customers / nullif(retention.previous_new_customers, 0) as new_customer_retention_rate,
        repeat_to_date.customers_to_date,
        repeat_to_date.one_time_customers as one_time_customers_to_date,
        repeat_to_date.one_time_customers / repeat_to_date.customers_to_date as one_time_purchase_rate,
        1 - repeat_to_date.one_time_customers / repeat_to_date.customers_to_date as repeat_rate
    from months
    cross join data_start
    left join capture using (month)
    left join activity using (month)
    left join retention using (month)
    left join repeat_to_date using (month)
)

select * from final order by month
