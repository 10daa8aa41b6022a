{#- One row per POS receipt and web order, with the resolved customer where one is known.
    A purchase is a completed receipt or completed order; cancelled, returned and voided rows earn no revenue.
    Computed whole, written where it differs from the built table in a column its yml declares (declare every
    column it selects; macros/upsert.sql); the post-hook deletes the orders no longer staged.
    `dbt build --full-refresh` rebuilds it whole. -#}
{{ config(
    materialized=incremental_materialization(),
    meta={'log_changes': true},
    unique_key='order_key',
    incremental_strategy='delete+insert',
    on_schema_change='sync_all_columns',
    post_hook="{{ delete_stale_rows('order_key', staged_orders(), 'channel') }}"
) }}

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
        null::string as campaign_code,
        receipts.loyalty_id,
        null::string as account_id,
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

line_totals as (
    select
        {{ order_key_of_line('order_lines') }} as order_key,
        count(*) as lines,
        sum(line_amount) as lines_amount
    from {{ ref('stg_order_lines') }} as order_lines
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
        line_totals.lines,
        line_totals.lines_amount,
        amount - line_totals.lines_amount as lines_difference,
        -- null: no lines were delivered for the order
        case when line_totals.order_key is not null then abs(amount - line_totals.lines_amount) < 0.005 end as lines_reconciled
    from unioned
    left join line_totals using (order_key)
)

{{ rows_differing_from('final', 'order_key', comparable_build()) }}
