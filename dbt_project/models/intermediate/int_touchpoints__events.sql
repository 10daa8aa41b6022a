{#- Every event of every feed, one row each, keyed feed:event_id, with the record key it contributes to
    int_customer_records (a view). Counting it is cheap: fct_touchpoints' post-hook compares its rows per feed
    with the fact's to learn in which feeds an event vanished. -#}
{{ config(materialized='view') }}

with events as (
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
        feed || ':' || event_id as touchpoint_key,
        feed,
        event_id,
        occurred_at,
        channel,
        touchpoint_type,
        campaign_id,
        amount,
        record_key
    from events
)

select * from final
