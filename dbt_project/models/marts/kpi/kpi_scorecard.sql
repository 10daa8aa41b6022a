{#- The headline scorecard: seven metrics per month, the ones `make demo` prints. -#}

with customers as (
    select * from {{ ref('kpi_customers_monthly') }}
),

service as (
    select month, nps from {{ ref('kpi_service') }}
),

final as (
    select
        customers.month,
        customers.active_customers,
        -- left out while the data is too short to tell a new customer from one who bought before it began
        case when customers.history_complete then customers.new_customers end as new_customers,
        customers.revenue,
        customers.capture_rate_revenue,
        customers.retention_rate,
        customers.repeat_rate,
        service.nps
    from customers
    left join service using (month)
)

select * from final order by month
