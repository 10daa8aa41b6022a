{#- The order key (fct_orders.order_key) an order line (stg_order_lines, as `lines`) belongs to. -#}
{% macro order_key_of_line(lines) -%}
    case {{ lines }}.channel when 'store' then 'pos-' else 'web-' end || {{ lines }}.order_id
{%- endmacro %}

{#- Every staged order's key and channel, as fct_orders keys them: what its post-hook keeps. -#}
{% macro staged_orders() -%}
    (select 'pos-' || receipt_id as order_key, 'store' as channel from {{ ref('stg_pos_transactions') }}
     union all
     select 'web-' || order_id, 'web' from {{ ref('stg_ecommerce_orders') }})
{%- endmacro %}

{#- Every staged order line whose order is in fct_orders, keyed as fct_order_lines keys it: what its post-hook
    keeps. -#}
{% macro staged_order_lines() -%}
    (select orders.order_key, lines.line_number, orders.channel
     from {{ ref('stg_order_lines') }} as lines
     inner join {{ ref('fct_orders') }} as orders on orders.order_key = {{ order_key_of_line('lines') }})
{%- endmacro %}

{#- The order lines of purchases (completed receipts and web orders): the baskets. -#}
{% macro purchase_lines() -%}
    (select * from {{ ref('fct_order_lines') }} where is_purchase)
{%- endmacro %}
