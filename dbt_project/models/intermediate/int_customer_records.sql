{#- Every customer-bearing record of every feed in one layout, the input of identity resolution.
    Feeds whose rows carry a single identifier (POS loyalty id, web logins, email events, surveys) contribute
    one record per distinct identifier set rather than per event, so facts map back through that key.
    Computed whole; a build writes only the records that are new, changed or gone (the `sync` strategy,
    macros/upsert.sql). `dbt build --full-refresh` rebuilds it whole. -#}
{{ config(
    materialized=incremental_materialization(),
    unique_key=['source', 'source_record_id'],
    incremental_strategy='sync',
    on_schema_change='sync_all_columns'
) }}

with contacts as (
    select
        'crm_contacts' as source, contact_id as source_record_id,
        first_name, last_name, email, phone, birth_date, street, city, postcode, country,
        loyalty_id, null::string as account_id, updated_at as seen_at
    from {{ ref('stg_crm_contacts') }}
    qualify row_number() over (partition by contact_id order by updated_at desc) = 1
),

orders as (
    select
        'ecommerce_orders', order_id,
        first_name, last_name, email, phone, null::date, ship_street, ship_city, ship_postcode, ship_country,
        null, account_id, ordered_at
    from {{ ref('stg_ecommerce_orders') }}
),

pos_cards as (
    select
        'pos_transactions', loyalty_id,
        null, null, null, null, null::date, null, null, null, null,
        loyalty_id, null, max(transaction_at)
    from {{ ref('stg_pos_transactions') }}
    where loyalty_id is not null
    group by loyalty_id
),

web_logins as (
    select
        'web_events', coalesce(account_id, '') || '|' || coalesce(email, ''),
        null, null, email, null, null::date, null, null, null, null,
        null, account_id, max(event_at)
    from {{ ref('stg_web_events') }}
    where account_id is not null or email is not null
    group by account_id, email
),

email_recipients as (
    select
        'email_events', email,
        null, null, email, null, null::date, null, null, null, null,
        null, null, max(event_at)
    from {{ ref('stg_email_events') }}
    where email is not null
    group by email
),

cases as (
    select
        'service_cases', case_id,
        first_name, last_name, email, phone, null::date, null, null, null, null,
        null, null, opened_at
    from {{ ref('stg_service_cases') }}
),

surveys as (
    select
        'survey_responses', email,
        null, null, email, null, null::date, null, null, null, null,
        null, null, max(responded_at)
    from {{ ref('stg_survey_responses') }}
    where email is not null
    group by email
),

leads as (
    select
        'sales_leads', lead_id,
        first_name, last_name, email, phone, null::date, null, null, null, null,
        null, null, created_at
    from {{ ref('stg_sales_leads') }}
),

unioned as (
    select * from contacts
    union all select * from orders
    union all select * from pos_cards
    union all select * from web_logins
    union all select * from email_recipients
    union all select * from cases
    union all select * from surveys
    union all select * from leads
),

final as (
    select *
    from unioned
    where coalesce(email, phone, loyalty_id, account_id) is not null
       or (first_name is not null and last_name is not null)
)

select * from final
