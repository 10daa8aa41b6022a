{#- Monthly sales KPIs: prospects (leads open at the month's end), leads created, sales calls on them,
    leads converted, lead-to-customer conversion of the month's leads, and new and retained customers
    (from kpi_customers_monthly). -#}

with leads as (
    select *, date_trunc('month', created_at)::date as created_month
    from {{ ref('stg_sales_leads') }}
),

customers as (
    select month, new_customers, retained_customers from {{ ref('kpi_customers_monthly') }}
),

months as (
    select distinct created_month as month from leads
    union
    select month from customers
),

open_at_month_end as (
    -- open: created by the month's end, not converted by then, and not (yet) marked lost
    select months.month, count(leads.lead_id) as prospects
    from months
    left join leads
        on leads.created_at < months.month + interval 1 month
       and (leads.converted_at is null or leads.converted_at >= months.month + interval 1 month)
       and leads.stage <> 'lost'
    group by months.month
),

created as (
    select
        created_month as month,
        count(*) as leads_created,
        coalesce(sum(sales_calls), 0) as sales_calls,
        count(*) filter (where converted_at is not null) as leads_won,
        count(*) filter (where converted_at is not null) / count(*) as lead_to_customer_conversion_rate
    from leads
    group by created_month
),

converted as (
    select date_trunc('month', converted_at)::date as month, count(*) as leads_converted
    from leads
    where converted_at is not null
    group by 1
),

final as (
    select
        months.month,
        open_at_month_end.prospects,
        coalesce(created.leads_created, 0) as leads_created,
        coalesce(created.sales_calls, 0) as sales_calls,
        coalesce(converted.leads_converted, 0) as leads_converted,
        created.leads_won as leads_created_then_won,
        created.lead_to_customer_conversion_rate,
        coalesce(customers.new_customers, 0) as new_customers,
        coalesce(customers.retained_customers, 0) as retained_customers
    from months
    left join open_at_month_end using (month)
    left join created using (month)
    left join converted using (month)
    left join customers using (month)
)

select * from final order by month
