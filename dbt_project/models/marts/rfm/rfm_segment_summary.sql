{#- Customers, revenue and predicted CLV per RFM segment (runs after the CLV asset). -#}

with rfm as (
    select * from {{ ref('customer_rfm') }}
),

clv as (
    select * from {{ source('clv', 'customer_clv') }}
),

final as (
    select
        rfm.segment,
        count(*) as customers,
        count(*) / sum(count(*)) over () as share_of_customers,
        sum(rfm.monetary_total) as revenue,
        {{ ratio("sum(rfm.monetary_total)", "sum(sum(rfm.monetary_total)) over ()") }} as share_of_revenue,
        avg(rfm.recency_days) as avg_recency_days,
        avg(rfm.frequency) as avg_frequency,
        avg(rfm.monetary_mean) as avg_monetary_mean,
        avg(clv.predicted_clv_12m) as avg_predicted_clv_12m,
        avg(clv.probability_alive) as avg_probability_alive
    from rfm
    left join clv using (customer_id)
    group by rfm.segment
)

select * from final order by revenue desc
