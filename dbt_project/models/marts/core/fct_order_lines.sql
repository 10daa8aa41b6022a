{#- Every order line with its product and its order's customer, day and purchase flag: the baskets of the
    cross-sell and up-sell marts. Computed whole, written where it differs from the built table in a column its
    yml declares (declare every column it selects; macros/upsert.sql); the post-hook deletes the lines no longer
    staged. -#}
{{ config(
    materialized=incremental_materialization(),
    meta={'log_changes': true},
    unique_key=['order_key', 'line_number'],
    incremental_strategy='delete+insert',
    on_schema_change='sync_all_columns',
    post_hook="{{ delete_stale_rows(['order_key', 'line_number'], staged_order_lines(), 'channel') }}"
) }}

with lines as (
    select * from {{ ref('stg_order_lines') }}
),

orders as (
    select * from {{ ref('fct_orders') }}
),

products as (
    select * from {{ ref('stg_products') }}
),

final as (
    select
        orders.order_key,
        lines.line_number,
        orders.channel,
        orders.customer_id,
        orders.order_date,
        orders.is_purchase,
        lines.sku,
        coalesce(products.category, 'unknown') as category,
        coalesce(products.subcategory, 'unknown') as subcategory,
        products.brand,
        products.price_band,
        lines.quantity,
        lines.unit_price,
        lines.discount,
        lines.line_amount
    from lines
    inner join orders
        on orders.order_key = {{ order_key_of_line('lines') }}
    left join products using (sku)
)

{{ rows_differing_from('final', ['order_key', 'line_number'], comparable_build()) }}
