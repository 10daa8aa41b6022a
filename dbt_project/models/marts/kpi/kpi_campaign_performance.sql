{#- Campaign performance. Email metrics count distinct recipients per event type; an email responder opened or
    clicked; a web visitor arrived with the campaign in utm_campaign; responses = email responders + web visitors.
    Purchases are attributed to a campaign by the explicit campaign code on the order first, else to the
    campaign of the customer's last email open/click or campaign-tagged web visit within
    var('attribution_window_days') days before the purchase.
    A campaign sent to an audience also holds out part of it (email events `held_out`): its lift compares the
    customers it was sent to with those held out, on purchases from its start to var('attribution_window_days')
    days after its end. -#}

{%- set window_days = var('attribution_window_days') %}

with campaigns as (
    select * from {{ ref('stg_campaigns') }}
),

campaign_keys as (
    -- a campaign is named by its id or its code; one row per name keeps the joins below equi-joins
    -- (an `in (id, code)` join condition is a nested loop over millions of events)
    select campaign_id, campaign_id as campaign_key from campaigns
    union
    select campaign_id, campaign_code from campaigns where campaign_code is not null
),

email as (
    select * from {{ ref('int_campaign_email__reach') }}
),

web_visitors as (
    select campaigns.campaign_id, count(distinct web.cookie_id) as web_visitors
    from {{ ref('stg_web_events') }} as web
    inner join campaign_keys as campaigns on web.utm_campaign = campaigns.campaign_key
    group by campaigns.campaign_id
),

responses as (
    -- what can earn a purchase: an email open or click, or a web visit tagged with the campaign (id or code)
    select touchpoints.customer_id, touchpoints.occurred_at, campaigns.campaign_id
    from {{ ref('fct_touchpoints') }} as touchpoints
    inner join campaign_keys as campaigns on touchpoints.campaign_id = campaigns.campaign_key
    where touchpoints.customer_id is not null
      and (touchpoints.touchpoint_type in ('email_opened', 'email_clicked') or touchpoints.feed = 'web_events')
),

purchases as (
    select orders.*, coded.campaign_id as coded_campaign_id
    from {{ ref('fct_orders') }} as orders
    left join campaign_keys as coded on orders.campaign_code = coded.campaign_key
    where orders.is_purchase
),

last_touch as (
    select purchases.order_key, responses.campaign_id
    from purchases
    inner join responses
        on responses.customer_id = purchases.customer_id
       and responses.occurred_at <= purchases.ordered_at
       and responses.occurred_at > purchases.ordered_at - interval {{ window_days }} day
    where purchases.coded_campaign_id is null
    qualify row_number() over (partition by purchases.order_key
                               order by responses.occurred_at desc, responses.campaign_id) = 1
),

attributed as (
    select
        purchases.order_key,
        purchases.customer_id,
        purchases.order_date,
        purchases.net_revenue,
        coalesce(purchases.coded_campaign_id, last_touch.campaign_id) as campaign_id,
        case when purchases.coded_campaign_id is not null then 'campaign_code' else 'last_touch' end as attribution
    from purchases
    left join last_touch using (order_key)
    where coalesce(purchases.coded_campaign_id, last_touch.campaign_id) is not null
),

first_purchases as (
    select customer_id, min(order_date) as first_purchase_date
    from {{ ref('fct_orders') }}
    where is_purchase and customer_id is not null
    group by customer_id
),

first_attributions as (
    -- a customer is acquired by the campaign their very first purchase is attributed to
    select attributed.campaign_id, attributed.customer_id
    from attributed
    inner join first_purchases
        on first_purchases.customer_id = attributed.customer_id
       and first_purchases.first_purchase_date = attributed.order_date
    qualify row_number() over (partition by attributed.customer_id order by attributed.order_key) = 1
),

acquired as (
    select campaign_id, count(*) as new_customers_acquired
    from first_attributions
    group by campaign_id
),

campaign_groups as (
    -- the customers a campaign was sent to (treated) and held out from (control); a customer in both is neither
    select email_events.campaign_id, crosswalk.customer_id, bool_and(email_events.event_type = 'held_out') as is_control
    from {{ ref('stg_email_events') }} as email_events
    inner join {{ source('identity', 'customer_crosswalk') }} as crosswalk
        on crosswalk.source = 'email_events' and crosswalk.source_record_id = email_events.email
    where email_events.event_type in ('sent', 'held_out')
    group by email_events.campaign_id, crosswalk.customer_id
    -- exactly one of the two types (min = max: 2.4 s at 1M customers, 4.1 s for count(distinct) = 1)
    having min(email_events.event_type) = max(email_events.event_type)
),

group_outcomes as (
    select
        campaign_groups.campaign_id,
        campaign_groups.customer_id,
        campaign_groups.is_control,
        count(purchases.order_key) > 0 as responded,
        coalesce(sum(purchases.net_revenue), 0) as revenue
    from campaign_groups
    inner join campaigns using (campaign_id)
    left join purchases
        on purchases.customer_id = campaign_groups.customer_id
       and purchases.order_date >= campaigns.start_date
       and purchases.order_date <= coalesce(campaigns.end_date, campaigns.start_date) + interval {{ window_days }} day
    group by all
),

lift as (
    select
        campaign_id,
        count(*) filter (where not is_control) as treated_customers,
        count(*) filter (where is_control) as control_customers,
        avg(responded::int) filter (where not is_control) as treated_response_rate,
        avg(responded::int) filter (where is_control) as control_response_rate,
        {{ mean('revenue') }} filter (where not is_control) as treated_revenue_per_member,
        {{ mean('revenue') }} filter (where is_control) as control_revenue_per_member
    from group_outcomes
    group by campaign_id
    having count(*) filter (where is_control) > 0 and count(*) filter (where not is_control) > 0
),

sales as (
    select
        campaign_id,
        count(*) as attributed_purchases,
        count(*) filter (where attribution = 'campaign_code') as purchases_by_code,
        count(*) filter (where attribution = 'last_touch') as purchases_by_last_touch,
        sum(net_revenue) as attributed_revenue
    from attributed
    group by campaign_id
),

final as (
    select
        campaigns.campaign_id,
        campaigns.campaign_name,
        campaigns.channel,
        campaigns.campaign_code,
        campaigns.start_date,
        campaigns.end_date,
        campaigns.cost,
        coalesce(email.recipients_sent, 0) as sends,
        coalesce(email.recipients_delivered, 0) as deliveries,
        coalesce(email.recipients_opened, 0) as opens,
        coalesce(email.recipients_clicked, 0) as clicks,
        coalesce(email.responders, 0) as email_responders,
        email.responders / nullif(email.recipients_delivered, 0) as response_rate,
        coalesce(web_visitors.web_visitors, 0) as web_visitors,
        coalesce(email.responders, 0) + coalesce(web_visitors.web_visitors, 0) as responses,
        coalesce(email.recipients_bounced, 0) as bounces,
        coalesce(email.unsubscribes, 0) as unsubscribes,
        coalesce(sales.attributed_purchases, 0) as attributed_purchases,
        coalesce(sales.purchases_by_code, 0) as purchases_by_code,
        coalesce(sales.purchases_by_last_touch, 0) as purchases_by_last_touch,
        coalesce(sales.attributed_revenue, 0) as attributed_revenue,
        {{ ratio("campaigns.cost", "nullif(coalesce(email.responders, 0) + coalesce(web_visitors.web_visitors, 0), 0)") }}
            as cost_per_response,
        coalesce(acquired.new_customers_acquired, 0) as new_customers_acquired,
        campaigns.audience,
        lift.treated_customers,
        lift.control_customers,
        lift.treated_response_rate,
        lift.control_response_rate,
        lift.treated_response_rate - lift.control_response_rate as lift_response_rate,
        lift.treated_response_rate / nullif(lift.control_response_rate, 0) - 1 as lift_response_relative,
        lift.treated_revenue_per_member,
        lift.control_revenue_per_member,
        lift.treated_revenue_per_member - lift.control_revenue_per_member as lift_revenue_per_member
    from campaigns
    left join email using (campaign_id)
    left join web_visitors using (campaign_id)
    left join sales using (campaign_id)
    left join acquired using (campaign_id)
    left join lift using (campaign_id)
)

select * from final order by start_date, campaign_id
