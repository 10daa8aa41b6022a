{#- Who each audience contacts, through which channel and address, and why; the holdout is listed too (flagged)
    so that response can be measured against it. Restricted: the BI copy pseudonymises the contact columns. -#}
{{ config(tags=['after_clv']) }}

with decisions as (
    select * from {{ ref('int_audience__decisions') }} where exclusion is null
),

customers as (
    select customer_id, first_name, last_name, email, phone from {{ ref('dim_customers') }}
),

final as (
    select
        decisions.audience,
        decisions.customer_id,
        decisions.channel,
        decisions.reason,
        decisions.offer,
        decisions.is_holdout,
        case decisions.channel when 'email' then customers.email when 'sms' then customers.phone end
            as contact_address,
        customers.first_name,
        customers.last_name
    from decisions
    inner join customers using (customer_id)
)

select * from final order by audience, customer_id
