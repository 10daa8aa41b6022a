{#- Cohort retention matrix: customers by first-purchase month, and the share purchasing again in each
    later month (months_since = 0 is the cohort month itself, always 1.0). -#}

with occasions as (
    select distinct customer_id, date_trunc('month', order_date)::date as month
    from {{ ref('fct_orders') }}
    where is_purchase and customer_id is not null
),

cohorts as (
    select customer_id, min(month) as cohort_month
    from occasions
    group by customer_id
),

cohort_sizes as (
    select cohort_month, count(*) as cohort_customers
    from cohorts
    group by cohort_month
),

last_month as (
    select max(month) as last_month from occasions
),

months as (
    select {{ each_month('first_cohort.cohort_month', 'last_month.last_month') }} as month
    from (select min(cohort_month) as cohort_month from cohort_sizes) as first_cohort
    cross join last_month
),

grid as (
    -- every cohort × every month from the cohort month to the last month of data, so a zero shows as 0
    select cohort_sizes.cohort_month, cohort_sizes.cohort_customers, months.month
    from cohort_sizes
    inner join months on months.month >= cohort_sizes.cohort_month
),

active as (
    select cohorts.cohort_month, occasions.month, count(*) as active_customers
    from occasions
    inner join cohorts using (customer_id)
    group by cohorts.cohort_month, occasions.month
),

final as (
    select
        grid.cohort_month,
        {{ months_between_dates("grid.cohort_month", "grid.month") }} as months_since,
        grid.month,
        grid.cohort_customers,
        coalesce(active.active_customers, 0) as active_customers,
        coalesce(active.active_customers, 0) / grid.cohort_customers as retention_share
    from grid
    left join active using (cohort_month, month)
)

select * from final order by cohort_month, months_since
