{#- Every customer with what audience criteria may read: the single view, RFM, predicted CLV, channel
    preference, loyalty tier, region, email response history, open complaints and recent sends. -#}
{{ config(materialized='view', tags=['after_clv']) }}

with customers as (
    select * from {{ ref('dim_customers') }}
),

rfm as (
    select * from {{ ref('customer_rfm') }}
),

clv as (
    select * from {{ source('clv', 'customer_clv') }}
),

as_of as (
    -- the newest touchpoint: "the last 7 days" and "since" count back from the data, not the clock
    select max(occurred_at) as as_of from {{ ref('fct_touchpoints') }}
),

email_history as (
    select
        customer_id,
        count(*) filter (where touchpoint_type = 'email_sent' and occurred_at > as_of - interval 7 day)
            as sends_last_7_days,
        max(occurred_at) filter (where touchpoint_type in ('email_opened', 'email_clicked')) as last_email_response_at
    from {{ ref('fct_touchpoints') }}
    cross join as_of
    where customer_id is not null and feed = 'email_events'
    group by customer_id
),

tiers as (
    select crosswalk.customer_id, contacts.tier
    from {{ ref('stg_crm_contacts') }} as contacts
    inner join {{ source('identity', 'customer_crosswalk') }} as crosswalk
        on crosswalk.source = 'crm_contacts' and crosswalk.source_record_id = contacts.contact_id
    where contacts.tier is not null
    qualify row_number() over (partition by crosswalk.customer_id order by contacts.updated_at desc,
        {{ position_in(['bronze', 'silver', 'gold', 'platinum'], 'contacts.tier') }} desc) = 1
),

complaints as (
    select distinct customer_id from {{ ref('open_complaints') }}
    where category = 'complaint' and customer_id is not null
),

final as (
    select
        customers.customer_id,
        customers.first_name,
        customers.last_name,
        customers.email,
        customers.phone,
        customers.city,
        customers.country,
        customers.email_opt_in,
        customers.sms_opt_in,
        customers.preferred_channel,
        customers.reachable_channels,
        tiers.tier,
        rfm.segment,
        rfm.r_score,
        rfm.f_score,
        rfm.m_score,
        rfm.recency_days,
        rfm.frequency,
        rfm.monetary_total,
        clv.predicted_clv_12m,
        clv.probability_alive,
        -- deciles of predicted CLV among customers with a prediction, 10 = highest, ties kept together
        case when clv.predicted_clv_12m is not null then 1 + floor(10 * (rank() over (
            partition by clv.predicted_clv_12m is not null order by clv.predicted_clv_12m) - 1)
            / count(*) over (partition by clv.predicted_clv_12m is not null))::bigint end as predicted_clv_decile,
        coalesce(email_history.sends_last_7_days, 0) as sends_last_7_days,
        {{ days_between("email_history.last_email_response_at", "as_of.as_of") }} as days_since_email_response,
        complaints.customer_id is not null as has_open_complaint
    from customers
    cross join as_of
    left join rfm using (customer_id)
    left join clv using (customer_id)
    left join email_history using (customer_id)
    left join tiers using (customer_id)
    left join complaints using (customer_id)
)

select * from final
