{#- One row per POS receipt and web order, with the resolved customer where one is known.
    A purchase is a completed receipt or completed order; cancelled, returned and voided rows earn no revenue. -#}

with crosswalk as (
    select * from {{ source('identity', 'customer_crosswalk') }}
),

pos as (
    select
        'pos-' || receipts.receipt_id as order_key,
        'store' as channel,
        receipts.receipt_id as source_order_id,
        receipts.store_id,
        receipts.transaction_at as ordered_at,
        receipts.status,
        receipts.amount,
        receipts.items,
        null::varchar as campaign_code,
        receipts.loyalty_id,
        null::varchar as account_id,
        crosswalk.customer_id
    from {{ ref('stg_pos_transactions') }} as receipts
    left join crosswalk
        on crosswalk.source = 'pos_transactions' and crosswalk.source_record_id = receipts.loyalty_id
),

web as (
    select
        'web-' || orders.order_id,
        'web',
        orders.order_id,
        'WEB',
        orders.ordered_at,
        orders.status,
        orders.amount,
        orders.items,
        orders.campaign_code,
        null,
        orders.account_id,
        crosswalk.customer_id
    from {{ ref('stg_ecommerce_orders') }} as orders
    left join crosswalk
        on crosswalk.source = 'ecommerce_orders' and crosswalk.source_record_id = orders.order_id
),

unioned as (
    select * from pos
    union all
    select * from web
),

lines as (
    select
        case channel when 'store' then 'pos-' else 'web-' end || order_id as order_key,
        count(*) as lines,
        sum(line_amount) as lines_amount
    from {{ ref('stg_order_lines') }}
    group by all
),

final as (
    select
        order_key,
        channel,
        source_order_id,
        store_id,
        customer_id,
        customer_id is not null as is_identified,
        ordered_at,
        cast(ordered_at as date) as order_date,
        status,
        status = 'completed' as is_purchase,
        amount,
        case when status = 'completed' then amount else 0 end as net_revenue,
        items,
        campaign_code,
        loyalty_id,
        account_id,
        lines.lines,
        lines.lines_amount,
        amount - lines.lines_amount as lines_difference,
        -- null: no lines were delivered for the order
        case when lines.order_key is not null then abs(amount - lines.lines_amount) < 0.005 end as lines_reconciled
    from unioned
    left join lines using (order_key)
)

select * from final
