{#- Monthly RFM snapshots: customer_rfm's definitions as of the last day of every month with purchases,
    so a model can show how customers move between segments. Scores are quintiles within each snapshot.
    Computed whole, written where it differs (the `sync` strategy, macros/upsert.sql): identity moves old
    purchases between customers every day, so most snapshots change a little and few rows change. -#}
{{ config(
    materialized=incremental_materialization(),
    meta={'log_changes': true},
    unique_key=['snapshot_date', 'customer_id'],
    incremental_strategy='sync',
    on_schema_change='sync_all_columns'
) }}

with occasions as (
    select customer_id, order_date, sum(net_revenue) as revenue
    from {{ ref('fct_orders') }}
    where is_purchase and customer_id is not null
    group by customer_id, order_date
),

snapshots as (
    select distinct (date_trunc('month', order_date) + interval 1 month - interval 1 day)::date as snapshot_date
    from occasions
),

summary as (
    select
        snapshots.snapshot_date,
        occasions.customer_id,
        {{ days_between("max(occasions.order_date)", "snapshots.snapshot_date") }} as recency_days,
        count(*) as frequency,
        sum(occasions.revenue) as monetary_total,
        {{ ratio("sum(occasions.revenue)", "count(*)") }} as monetary_mean
    from snapshots
    inner join occasions on occasions.order_date <= snapshots.snapshot_date
    group by snapshots.snapshot_date, occasions.customer_id
),

scored as (
    select
        *,
        {{ rfm_scores(partition_by='snapshot_date') }}
    from summary
),

final as (
    select
        scored.snapshot_date,
        scored.customer_id,
        scored.recency_days,
        scored.frequency,
        scored.monetary_total,
        scored.monetary_mean,
        scored.r_score,
        scored.f_score,
        scored.m_score,
        segments.segment,
        lag(segments.segment) over (partition by scored.customer_id order by scored.snapshot_date) as previous_segment
    from scored
    left join {{ ref('rfm_segments') }} as segments
        on segments.r_score = scored.r_score and segments.f_score = scored.f_score
)

select * from final
