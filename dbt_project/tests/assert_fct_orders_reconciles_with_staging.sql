{#- Rows, purchases and revenue in fct_orders equal those of the staging feeds they come from.
    Returns one row per measure that differs; any row fails the build and blocks what depends on fct_orders. -#}
{{ config(severity='error', meta={'dagster': {'ref': {'name': 'fct_orders'}}}) }}

with staged as (
    select status, amount from {{ ref('stg_pos_transactions') }}
    union all
    select status, amount from {{ ref('stg_ecommerce_orders') }}
),

expected as (
    select
        count(*) as orders,
        count(*) filter (where status = 'completed') as purchases,
        coalesce(sum(amount) filter (where status = 'completed'), 0) as revenue
    from staged
),

actual as (
    select
        count(*) as orders,
        count(*) filter (where is_purchase) as purchases,
        coalesce(sum(net_revenue), 0) as revenue
    from {{ ref('fct_orders') }}
)

select 'orders' as measure, expected.orders::double as expected, actual.orders::double as actual
from expected, actual where expected.orders <> actual.orders
union all
select 'purchases', expected.purchases, actual.purchases
from expected, actual where expected.purchases <> actual.purchases
union all
select 'revenue', expected.revenue, actual.revenue
from expected, actual where abs(expected.revenue - actual.revenue) > 0.005
