{#- Loyalty tiers month by month: each customer's tier at the month's end (the latest CRM contact version by then,
    across the customer's contacts), against their tier a month before, with the revenue of those customers in
    the month. Grain: month x previous_tier x tier. -#}

with contacts as (
    select * from {{ ref('stg_crm_contacts') }} where tier is not null
),

crosswalk as (
    select * from {{ source('identity', 'customer_crosswalk') }} where source = 'crm_contacts'
),

statements as (
    select crosswalk.customer_id, contacts.tier, contacts.updated_at
    from contacts
    inner join crosswalk on crosswalk.source_record_id = contacts.contact_id
),

purchases as (
    select customer_id, date_trunc('month', order_date)::date as month, sum(net_revenue) as revenue
    from {{ ref('fct_orders') }}
    where is_purchase and customer_id is not null
    group by all
),

months as (
    select {{ each_month(
        "(select date_trunc('month', min(updated_at)) from statements)",
        "greatest((select date_trunc('month', max(updated_at)) from statements), (select max(month) from purchases))")
    }} as month
),

instants as (
    -- one statement per customer and instant: a tie at the same instant goes to the higher tier
    select * from statements
    qualify row_number() over (
        partition by customer_id, updated_at
        order by {{ position_in(['bronze', 'silver', 'gold', 'platinum'], 'tier') }} desc nulls last
    ) = 1
),

spans as (
    -- each statement holds from its instant until the customer's next one
    select
        customer_id,
        tier,
        updated_at as valid_from,
        lead(updated_at) over (partition by customer_id order by updated_at) as valid_until
    from instants
),

tier_at_month_end as (
    -- the statement holding at the month's end: a range join, where ranking every earlier statement for every
    -- month sorted months x statements rows (0.7 s against 0.4 s at 100k customers)
    select months.month, spans.customer_id, spans.tier
    from months
    inner join spans
        on spans.valid_from < months.month + interval 1 month
       and coalesce(spans.valid_until, timestamp '9999-12-31') >= months.month + interval 1 month
),

moves as (
    select
        current_tier.month,
        previous.tier as previous_tier,
        current_tier.tier,
        current_tier.customer_id,
        coalesce(purchases.revenue, 0) as revenue
    from tier_at_month_end as current_tier
    left join tier_at_month_end as previous
        on previous.customer_id = current_tier.customer_id and previous.month = current_tier.month - interval 1 month
    left join purchases
        on purchases.customer_id = current_tier.customer_id and purchases.month = current_tier.month
),

final as (
    select
        month,
        previous_tier,
        tier,
        coalesce(previous_tier <> tier, false) as is_move,
        count(*) as customers,
        sum(revenue) as revenue
    from moves
    group by all
)

select * from final order by month, previous_tier nulls first, tier
