{#- The customer single view: one row per resolved person with a golden record.
    Survivorship per attribute: most trusted source first, then the most recently seen value. -#}

with crosswalk as (
    select * from {{ source('identity', 'customer_crosswalk') }}
),

records as (
    select
        crosswalk.customer_id,
        records.*,
        case records.source
            when 'crm_contacts' then 1
            when 'ecommerce_orders' then 2
            when 'sales_leads' then 3
            when 'service_cases' then 4
            when 'web_events' then 5
            when 'survey_responses' then 6
            when 'email_events' then 7
            else 8
        end as source_priority
    from {{ ref('int_customer_records') }} as records
    inner join crosswalk using (source, source_record_id)
),

golden as (
    select
        customer_id,
        first(first_name order by source_priority, seen_at desc) filter (where first_name is not null) as first_name,
        first(source order by source_priority, seen_at desc) filter (where first_name is not null) as first_name_source,
        first(last_name order by source_priority, seen_at desc) filter (where last_name is not null) as last_name,
        first(email order by source_priority, seen_at desc) filter (where email is not null) as email,
        first(source order by source_priority, seen_at desc) filter (where email is not null) as email_source,
        first(phone order by source_priority, seen_at desc) filter (where phone is not null) as phone,
        first(source order by source_priority, seen_at desc) filter (where phone is not null) as phone_source,
        first(birth_date order by source_priority, seen_at desc) filter (where birth_date is not null) as birth_date,
        first(street order by source_priority, seen_at desc) filter (where postcode is not null) as street,
        first(city order by source_priority, seen_at desc) filter (where postcode is not null) as city,
        first(postcode order by source_priority, seen_at desc) filter (where postcode is not null) as postcode,
        first(country order by source_priority, seen_at desc) filter (where postcode is not null) as country,
        first(source order by source_priority, seen_at desc) filter (where postcode is not null) as address_source,
        list(distinct loyalty_id) filter (where loyalty_id is not null) as loyalty_ids,
        list(distinct account_id) filter (where account_id is not null) as account_ids,
        list(distinct source || ':' || source_record_id order by source || ':' || source_record_id) as source_ids,
        list(distinct source order by source) as sources,
        min(seen_at) as first_seen_at,
        max(seen_at) as last_seen_at,
        count(*) as record_count
    from records
    group by customer_id
),

consent as (
    select
        crosswalk.customer_id,
        first(contacts.email_opt_in order by contacts.updated_at desc) as email_opt_in,
        first(contacts.sms_opt_in order by contacts.updated_at desc) as sms_opt_in,
        min(contacts.signup_date) as signup_date
    from {{ ref('stg_crm_contacts') }} as contacts
    inner join crosswalk
        on crosswalk.source = 'crm_contacts' and crosswalk.source_record_id = contacts.contact_id
    group by crosswalk.customer_id
),

purchases as (
    select
        customer_id,
        count(*) filter (where is_purchase) as orders,
        count(distinct order_date) filter (where is_purchase) as purchase_occasions,
        coalesce(sum(net_revenue), 0) as revenue_to_date,
        min(order_date) filter (where is_purchase) as first_purchase_date,
        max(order_date) filter (where is_purchase) as last_purchase_date,
        list(distinct channel order by channel) filter (where is_purchase) as purchase_channels
    from {{ ref('fct_orders') }}
    where customer_id is not null
    group by customer_id
),

final as (
    select
        golden.customer_id,
        {{ proper_case('golden.first_name') }} as first_name,
        {{ proper_case('golden.last_name') }} as last_name,
        golden.email,
        golden.phone,
        golden.birth_date,
        golden.street,
        golden.city,
        golden.postcode,
        golden.country,
        consent.email_opt_in,
        consent.sms_opt_in,
        consent.signup_date,
        golden.first_name_source,
        golden.email_source,
        golden.phone_source,
        golden.address_source,
        golden.loyalty_ids,
        golden.account_ids,
        golden.source_ids,
        golden.sources,
        golden.record_count,
        golden.first_seen_at,
        golden.last_seen_at,
        coalesce(purchases.orders, 0) as orders,
        coalesce(purchases.purchase_occasions, 0) as purchase_occasions,
        coalesce(purchases.revenue_to_date, 0) as revenue_to_date,
        purchases.first_purchase_date,
        purchases.last_purchase_date,
        purchases.purchase_channels
    from golden
    left join consent using (customer_id)
    left join purchases using (customer_id)
)

select * from final
