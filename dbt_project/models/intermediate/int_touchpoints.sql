{#- Every event of every feed, one row each, with the resolved customer where the event names one: what
    fct_touchpoints holds, computed afresh (a view; the fact persists it incrementally).
    Each feed joins the crosswalk on the record key it contributes to int_customer_records. -#}
{{ config(materialized='view') }}

with crosswalk as (
    select * from {{ source('identity', 'customer_crosswalk') }}
),

events as (
    select 'pos_transactions' as feed, receipt_id as event_id, transaction_at as occurred_at, 'store' as channel,
           'purchase_' || status as touchpoint_type, null::string as campaign_id, amount, loyalty_id as record_key
    from {{ ref('stg_pos_transactions') }}
    union all
    select 'ecommerce_orders', order_id, ordered_at, 'web', 'order_' || status, campaign_code, amount, order_id
    from {{ ref('stg_ecommerce_orders') }}
    union all
    select 'web_events', event_id, event_at, 'web', event_type, utm_campaign, null,
           case when account_id is not null or email is not null
                then coalesce(account_id, '') || '|' || coalesce(email, '') end
    from {{ ref('stg_web_events') }}
    union all
    select 'email_events', event_id, event_at, 'email', 'email_' || event_type, campaign_id, null, email
    from {{ ref('stg_email_events') }}
    union all
    select 'service_cases', case_id, opened_at, channel, 'case_' || category, null, null, case_id
    from {{ ref('stg_service_cases') }}
    union all
    select 'survey_responses', response_id, responded_at, 'survey', 'survey_response', null, null, email
    from {{ ref('stg_survey_responses') }}
    union all
    select 'sales_leads', lead_id, created_at, 'sales', 'lead_' || stage, campaign_id, null, lead_id
    from {{ ref('stg_sales_leads') }}
    union all
    select 'crm_contacts', contact_id || '@' || {{ timestamp_digits("updated_at") }}, updated_at,
           coalesce(signup_channel, 'crm'), 'contact_update', null, null, contact_id
    from {{ ref('stg_crm_contacts') }}
),

final as (
    select
        events.feed || ':' || events.event_id as touchpoint_key,
        events.feed,
        events.event_id,
        crosswalk.customer_id,
        events.occurred_at,
        cast(events.occurred_at as date) as occurred_date,
        events.channel,
        events.touchpoint_type,
        events.campaign_id,
        events.amount
    from events
    left join crosswalk
        on crosswalk.source = events.feed and crosswalk.source_record_id = events.record_key
)

select * from final
