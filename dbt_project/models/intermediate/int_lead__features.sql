{#- One row per sales lead with what a lead score may use, each as known when the lead was created (so a closed
    lead's features do not see its outcome): sales calls, source, campaign, the customer's email responses,
    logged-in web visit days and purchases before it, and the lead's age. -#}

with leads as (
    select * from {{ ref('stg_sales_leads') }}
),

crosswalk as (
    select * from {{ source('identity', 'customer_crosswalk') }} where source = 'sales_leads'
),

touchpoints as (
    select * from {{ ref('fct_touchpoints') }} where customer_id is not null
),

as_of as (
    select max(occurred_at) as as_of from {{ ref('fct_touchpoints') }}
),

identified as (
    select leads.*, crosswalk.customer_id
    from leads
    left join crosswalk on crosswalk.source_record_id = leads.lead_id
),

history as (
    select
        identified.lead_id,
        count(*) filter (where touchpoints.touchpoint_type in ('email_opened', 'email_clicked'))
            as email_responses_before,
        count(distinct touchpoints.occurred_date) filter (where touchpoints.feed = 'web_events')
            as web_visit_days_before,
        count(*) filter (where touchpoints.touchpoint_type in ('purchase_completed', 'order_completed'))
            as purchases_before
    from identified
    inner join touchpoints
        on touchpoints.customer_id = identified.customer_id and touchpoints.occurred_at < identified.created_at
    group by identified.lead_id
),

final as (
    select
        identified.lead_id,
        identified.customer_id,
        identified.created_at,
        identified.converted_at,
        identified.stage,
        identified.stage in ('won', 'lost') as is_closed,
        identified.stage = 'won' as is_converted,
        coalesce(identified.lead_source, 'unknown') as lead_source,
        identified.campaign_id is not null as has_campaign,
        coalesce(identified.sales_calls, 0) as sales_calls,
        coalesce(history.email_responses_before, 0) as email_responses_before,
        coalesce(history.web_visit_days_before, 0) as web_visit_days_before,
        coalesce(history.purchases_before, 0) > 0 as is_existing_customer,
        {{ days_between("identified.created_at", "as_of.as_of") }} as lead_age_days
    from identified
    cross join as_of
    left join history using (lead_id)
)

select * from final
