{#- RFM as of a reference date (var rfm_reference_date, default the last day with a purchase).
    recency = days since the last occasion; frequency = occasions (distinct purchase days);
    monetary = mean net revenue per occasion (and the total). Scores are ntile(5), 5 = best. -#}

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

summary as (
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
),

scored as (
    select
        *,
        {{ rfm_scores() }}
    from summary
),

final as (
    select
        scored.customer_id,
        scored.reference_date,
        scored.first_purchase_date,
        scored.last_purchase_date,
        scored.recency_days,
        scored.frequency,
        scored.monetary_total,
        scored.monetary_mean,
        scored.r_score,
        scored.f_score,
        scored.m_score,
        scored.r_score::varchar || scored.f_score::varchar || scored.m_score::varchar as rfm_cell,
        segments.segment
    from scored
    left join {{ ref('rfm_segments') }} as segments
        on segments.r_score = scored.r_score and segments.f_score = scored.f_score
)

select * from final
