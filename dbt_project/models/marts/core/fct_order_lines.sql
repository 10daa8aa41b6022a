{#- Every order line with its product and its order's customer, day and purchase flag: the baskets of the
    cross-sell and up-sell marts. -#}

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
        on orders.order_key = case lines.channel when 'store' then 'pos-' else 'web-' end || lines.order_id
    left join products using (sku)
)

select * from final
