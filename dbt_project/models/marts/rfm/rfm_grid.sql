{#- The 5 x 5 recency x frequency grid of customer_rfm: every cell, with its segment name, customers and revenue
    (empty cells kept, so the grid is always whole). -#}

with rfm as (
    select * from {{ ref('customer_rfm') }}
),

segments as (
    select * from {{ ref('rfm_segments') }}
),

cells as (
    select
        r_score,
        f_score,
        count(*) as customers,
        sum(monetary_total) as revenue
    from rfm
    group by r_score, f_score
),

final as (
    select
        segments.r_score,
        segments.f_score,
        segments.segment,
        coalesce(cells.customers, 0) as customers,
        coalesce(cells.revenue, 0) as revenue,
        coalesce(cells.customers, 0) / sum(coalesce(cells.customers, 0)) over () as share_of_customers,
        {{ ratio("coalesce(cells.revenue, 0)", "sum(coalesce(cells.revenue, 0)) over ()") }} as share_of_revenue
    from segments
    left join cells using (r_score, f_score)
)

select * from final order by r_score desc, f_score desc
