{#- The customer single view: one row per resolved person.
    Golden attributes come from int_customer_attributes__ranked (most trusted source, then most recent, then most
    frequent), each with the source it came from; activity counts come from fct_touchpoints and fct_orders.
    Built incrementally: a run computes again only the customers whose row can have changed (`touched`, below)
    and replaces their rows; the post-hook deletes the customers identity no longer has (merged away, erased).
    `dbt build --full-refresh` computes everyone. -#}
{{ config(
    materialized=incremental_materialization(),
    meta={'log_changes': true},
    unique_key='customer_id',
    incremental_strategy='delete+insert',
    on_schema_change='sync_all_columns',
    post_hook=["{{ delete_departed_customers() }}", "{{ keep_customer_state() }}"]
) }}

{#- A table built before one of the declared columns existed is computed whole (macros/upsert.sql). -#}
{%- set built = comparable_build() %}

with crosswalk as (
    select * from {{ source('identity', 'customer_crosswalk') }}
),

response_window as (
    {{ response_window() }}
),

purchases as (
    select
        customer_id,
        count(*) filter (where is_purchase) as orders,
        count(distinct order_date) filter (where is_purchase) as purchase_occasions,
        coalesce(sum(net_revenue), 0) as revenue_to_date,
        min(order_date) filter (where is_purchase) as first_purchase_date,
        max(order_date) filter (where is_purchase) as last_purchase_date,
        {{ sorted_set('channel', where='is_purchase') }} as purchase_channels
    from {{ ref('fct_orders') }}
    where customer_id is not null
    group by customer_id
),

consent as (
    select
        customer_id,
        max(opted_in) filter (where channel = 'email') as email_opt_in,
        max(source) filter (where channel = 'email') as email_consent_source,
        max(stated_at) filter (where channel = 'email') as email_consent_at,
        max(opted_in) filter (where channel = 'sms') as sms_opt_in,
        max(source) filter (where channel = 'sms') as sms_consent_source,
        max(stated_at) filter (where channel = 'sms') as sms_consent_at
    from {{ ref('customer_consent') }}
    group by customer_id
),

{% if built is not none %}
{#- The customers whose row can differ from the built one. Every record of a customer has touchpoints (each feed
    that gives records gives events), so a record that changed content has an event delivered again; orders and
    consent are cheap enough to compare whole. `_touchpoints`, `_loaded_at` and `_resolved_at` are what the built
    rows took in; the response window and the landing changes they were computed with are kept beside the table
    (macros/customers.sql, keep_customer_state). -#}
{%- set previous = previous_customer_state() %}
touched as (
    {%- if previous is none or landing_revised_since(previous.changes_seen_at) %}
    -- that state is not known, or a re-validation or an erasure changed a landing day since (it can change a
    -- touchpoint without a new load stamp): everyone
    select distinct customer_id from crosswalk
    {%- else %}
    -- records identity gave the customer since the newest change the table took in (new, moved in)
    select customer_id from crosswalk where changed_at > {{ newest_loaded_at(built, '_resolved_at') }}
    union
    -- records that left the customer (moved to another, or gone)
    select held.customer_id
    from (select customer_id, {{ each_element('source_ids') }} as source_id from {{ built }}) as held
    left join crosswalk on crosswalk.source || ':' || crosswalk.source_record_id = held.source_id
    where crosswalk.customer_id is distinct from held.customer_id
    union
    -- a touchpoint gained or lost (the count), or delivered again (a newer load stamp)
    select coalesce(taken.customer_id, built.customer_id)
    from (
        select customer_id, count(*) as events, max(_loaded_at) as loaded_at
        from {{ ref('fct_touchpoints') }}
        where customer_id is not null
        group by customer_id
    ) as taken
    full join {{ built }} as built on built.customer_id = taken.customer_id
    where coalesce(taken.events, 0) is distinct from built._touchpoints
       or taken.loaded_at is distinct from built._loaded_at
    union
    -- orders (a re-delivered order line changes revenue, not the order's touchpoint) and consent
    select coalesce(purchases.customer_id, consent.customer_id, built.customer_id)
    from {{ built }} as built
    full join purchases on purchases.customer_id = built.customer_id
    full join consent on consent.customer_id = coalesce(built.customer_id, purchases.customer_id)
    where coalesce(purchases.orders, 0) is distinct from built.orders
       or coalesce(purchases.purchase_occasions, 0) is distinct from built.purchase_occasions
       or coalesce(purchases.revenue_to_date, 0) is distinct from built.revenue_to_date
       or purchases.first_purchase_date is distinct from built.first_purchase_date
       or purchases.last_purchase_date is distinct from built.last_purchase_date
       or purchases.purchase_channels is distinct from built.purchase_channels
       {%- for column in ['email_opt_in', 'email_consent_source', 'email_consent_at', 'sms_opt_in', 'sms_consent_source', 'sms_consent_at'] %}
       or consent.{{ column }} is distinct from built.{{ column }}
       {%- endfor %}
    union
    -- the response window moved: the customers with touchpoints that left it or entered it
    select customer_id
    from {{ ref('fct_touchpoints') }}
    where customer_id is not null
      and occurred_date > least({{ previous.responses_after }}, (select responses_after from response_window))
      and occurred_date <= greatest({{ previous.responses_after }}, (select responses_after from response_window))
    {%- endif %}
),
{% endif %}

survivors as (
    select * from {{ ref('int_customer_attributes__ranked') }}
    where survivorship_rank = 1 and {{ is_touched('customer_id', built) }}
),

golden as (
    select
        customer_id,
        max(value) filter (where attribute = 'first_name') as first_name,
        max(source) filter (where attribute = 'first_name') as first_name_source,
        max(value) filter (where attribute = 'last_name') as last_name,
        max(source) filter (where attribute = 'last_name') as last_name_source,
        max(value) filter (where attribute = 'email') as email,
        max(source) filter (where attribute = 'email') as email_source,
        max(value) filter (where attribute = 'phone') as phone,
        max(source) filter (where attribute = 'phone') as phone_source,
        cast(max(value) filter (where attribute = 'birth_date') as date) as birth_date,
        max(source) filter (where attribute = 'birth_date') as birth_date_source,
        {{ split_text("max(value) filter (where attribute = 'address')", '|') }} as address_parts,
        max(source) filter (where attribute = 'address') as address_source
    from survivors
    group by customer_id
),

records as (
    select
        crosswalk.customer_id,
        -- sorted: an unsorted set comes out in whatever order the threads met the values
        {{ sorted_set('records.loyalty_id') }} as loyalty_ids,
        {{ sorted_set('records.account_id') }} as account_ids,
        {{ sorted_set("records.source || ':' || records.source_record_id") }} as source_ids,
        {{ sorted_set('records.source') }} as sources,
        count(*) as record_count,
        min(records.seen_at) as first_seen_at,
        max(records.seen_at) as last_seen_at,
        max(crosswalk.changed_at) as resolved_at
    from {{ ref('int_customer_records') }} as records
    inner join crosswalk using (source, source_record_id)
    where {{ is_touched('crosswalk.customer_id', built) }}
    group by crosswalk.customer_id
),

signups as (
    select crosswalk.customer_id, min(contacts.signup_date) as signup_date
    from {{ ref('stg_crm_contacts') }} as contacts
    inner join crosswalk
        on crosswalk.source = 'crm_contacts' and crosswalk.source_record_id = contacts.contact_id
    where {{ is_touched('crosswalk.customer_id', built) }}
    group by crosswalk.customer_id
),

activity as (
    select
        customer_id,
        {{ sorted_set('channel') }} as channels_used,
        count(distinct occurred_date) filter (where feed = 'web_events') as web_visit_days,
        count(*) filter (where feed = 'email_events') as email_events,
        count(*) filter (where feed = 'service_cases') as service_cases,
        count(*) filter (where feed = 'survey_responses') as survey_responses,
        count(*) filter (where feed = 'sales_leads') as sales_leads,
        count(*) as touchpoints,
        max(_loaded_at) as loaded_at
    from {{ ref('fct_touchpoints') }}
    where customer_id is not null and {{ is_touched('customer_id', built) }}
    group by customer_id
),

channel_responses as (
    -- responses in the 180 days up to the newest touchpoint: email opens and clicks, web visits (a day with web
    -- events counts once) and web orders, store purchases
    select
        customer_id,
        case when touchpoint_type in ('email_opened', 'email_clicked') then 'email'
             when feed = 'web_events' or touchpoint_type = 'order_completed' then 'web'
             when touchpoint_type = 'purchase_completed' then 'store' end as response_channel,
        case when feed = 'web_events' then occurred_date::string else touchpoint_key end as response,
        occurred_at
    from {{ ref('fct_touchpoints') }}
    where customer_id is not null
      and occurred_date > (select responses_after from response_window)
      and {{ is_touched('customer_id', built) }}
),

responses as (
    select customer_id, response_channel, count(distinct response) as responses, max(occurred_at) as last_response_at
    from channel_responses
    where response_channel is not null
    group by customer_id, response_channel
),

preferred as (
    -- most responses; a tie goes to the channel responded to last, then email before web before store
    select customer_id, response_channel as preferred_channel
    from responses
    qualify row_number() over (
        partition by customer_id
        order by responses desc, last_response_at desc,
                 {{ position_in(['email', 'web', 'store'], 'response_channel') }}
    ) = 1
),

final as (
    select
        records.customer_id,
        {{ proper_case('golden.first_name') }} as first_name,
        {{ proper_case('golden.last_name') }} as last_name,
        golden.email,
        golden.phone,
        golden.birth_date,
        nullif({{ element('golden.address_parts', 1) }}, '') as street,
        nullif({{ element('golden.address_parts', 2) }}, '') as city,
        {{ element('golden.address_parts', 3) }} as postcode,
        nullif({{ element('golden.address_parts', 4) }}, '') as country,
        consent.email_opt_in,
        consent.email_consent_source,
        consent.email_consent_at,
        consent.sms_opt_in,
        consent.sms_consent_source,
        consent.sms_consent_at,
        preferred.preferred_channel,
        {{ array_of_present([
            "case when consent.email_opt_in and golden.email is not null then 'email' end",
            "case when consent.sms_opt_in and golden.phone is not null then 'sms' end"]) }} as reachable_channels,
        signups.signup_date,
        golden.first_name_source,
        golden.last_name_source,
        golden.email_source,
        golden.phone_source,
        golden.birth_date_source,
        golden.address_source,
        records.loyalty_ids,
        records.account_ids,
        records.source_ids,
        records.sources,
        records.record_count,
        records.first_seen_at,
        records.last_seen_at,
        activity.channels_used,
        coalesce(purchases.orders, 0) as orders,
        coalesce(purchases.purchase_occasions, 0) as purchase_occasions,
        coalesce(activity.web_visit_days, 0) as web_visit_days,
        coalesce(activity.email_events, 0) as email_events,
        coalesce(activity.service_cases, 0) as service_cases,
        coalesce(activity.survey_responses, 0) as survey_responses,
        coalesce(activity.sales_leads, 0) as sales_leads,
        coalesce(purchases.revenue_to_date, 0) as revenue_to_date,
        purchases.first_purchase_date,
        purchases.last_purchase_date,
        purchases.purchase_channels,
        coalesce(activity.touchpoints, 0) as _touchpoints,
        activity.loaded_at as _loaded_at,
        records.resolved_at as _resolved_at
    from records
    left join golden using (customer_id)
    left join consent using (customer_id)
    left join signups using (customer_id)
    left join activity using (customer_id)
    left join purchases using (customer_id)
    left join preferred using (customer_id)
)

select * from final
