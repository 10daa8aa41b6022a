{#- RFM scores and segments on int_customer_rfm__summary (recency = days since the last occasion, frequency =
    occasions, monetary = mean net revenue per occasion, as of the reference date). Scores are quintiles,
    5 = best, ties kept together (macros/rfm.sql). -#}

with summary as (
    select * from {{ ref('int_customer_rfm__summary') }}
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
        scored.r_score::string || scored.f_score::string || scored.m_score::string as rfm_cell,
        segments.segment
    from scored
    left join {{ ref('rfm_segments') }} as segments
        on segments.r_score = scored.r_score and segments.f_score = scored.f_score
)

select * from final
