{#- Every open service case (no resolution yet), for the service team's queue: its age and SLA as of the newest
    time the service feed shows, whether the customer complains repeatedly, and what the customer is worth. -#}

with cases as (
    select * from {{ ref('stg_service_cases') }}
),

crosswalk as (
    select * from {{ source('identity', 'customer_crosswalk') }} where source = 'service_cases'
),

as_of as (
    -- the newest time the feed shows, not the clock: a rebuild of the same files gives the same ages
    select greatest(max(opened_at), max(first_response_at), max(resolved_at)) as as_of from cases
),

identified as (
    select cases.*, crosswalk.customer_id
    from cases
    left join crosswalk on crosswalk.source_record_id = cases.case_id
),

recent_cases as (
    select identified.customer_id, count(*) as cases_in_90_days
    from identified
    cross join as_of
    where identified.customer_id is not null
      and identified.opened_at > as_of.as_of - interval 90 day and identified.opened_at <= as_of.as_of
    group by identified.customer_id
),

customers as (
    select customer_id, revenue_to_date from {{ ref('dim_customers') }}
),

clv as (
    select customer_id, predicted_clv_12m from {{ source('clv', 'customer_clv') }}
),

final as (
    select
        identified.case_id,
        identified.customer_id,
        identified.category,
        identified.channel,
        identified.agent_id,
        identified.opened_at,
        as_of.as_of,
        {{ hours_between("identified.opened_at", "as_of.as_of") }} as age_hours,
        sla.sla_hours,
        {{ add_hours("identified.opened_at", "sla.sla_hours") }} as sla_due_at,
        coalesce({{ hours_between("identified.opened_at", "as_of.as_of") }} > sla.sla_hours, false) as is_sla_breached,
        greatest({{ hours_between("identified.opened_at", "as_of.as_of") }} - sla.sla_hours, 0) as hours_past_sla,
        coalesce(recent_cases.cases_in_90_days, 0) as customer_cases_in_90_days,
        coalesce(recent_cases.cases_in_90_days, 0) >= {{ var('repeat_complainer_cases') }} as is_repeat_complainer,
        customers.revenue_to_date,
        clv.predicted_clv_12m
    from identified
    cross join as_of
    left join {{ ref('service_sla') }} as sla using (category)
    left join recent_cases using (customer_id)
    left join customers using (customer_id)
    left join clv using (customer_id)
    where identified.resolved_at is null
)

select * from final
