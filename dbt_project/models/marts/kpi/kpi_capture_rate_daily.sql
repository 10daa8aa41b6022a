{#- Capture rate: share of purchases and of revenue attributed to an identified customer, per day, channel and store. -#}

with purchases as (
    select * from {{ ref('fct_orders') }}
    where is_purchase
),

final as (
    select
        order_date,
        channel,
        store_id,
        count(*) as purchases,
        count(*) filter (where is_identified) as identified_purchases,
        sum(net_revenue) as revenue,
        coalesce(sum(net_revenue) filter (where is_identified), 0) as identified_revenue,
        count(*) filter (where is_identified) / count(*) as capture_rate_purchases,
        {{ ratio("coalesce(sum(net_revenue) filter (where is_identified), 0)", "nullif(sum(net_revenue), 0)") }} as capture_rate_revenue
    from purchases
    group by order_date, channel, store_id
)

select * from final
