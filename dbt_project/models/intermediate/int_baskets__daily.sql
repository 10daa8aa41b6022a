{#- Per purchase day, the basket counts product_affinity adds up: the day's baskets (one completed receipt or web
    order each), the baskets holding each item, and those holding each ordered pair of items, at the category and
    the subcategory level. A basket is one order on one day, so the days add up, and a run computes only the days
    whose purchase lines changed since (macros/periods.sql). -#}
{{ config(
    materialized=incremental_materialization(),
    unique_key='order_date',
    incremental_strategy='delete+insert',
    on_schema_change='fail',
    pre_hook="{{ fingerprint_periods(purchase_lines(), 'order_date', ['order_key', 'category', 'subcategory']) }}",
    post_hook=["{{ delete_vanished_periods('order_date') }}", "{{ keep_period_fingerprints() }}"]
) }}

with lines as (
    select order_date, order_key, category, subcategory
    from {{ purchase_lines() }}
    where {{ in_changed_periods('order_date') }}
),

items as (
    select distinct order_date, 'category' as level, order_key, category as item from lines
    union all
    select distinct order_date, 'subcategory', order_key, category || ' / ' || subcategory from lines
),

baskets as (
    select order_date, level, 'baskets' as count_of, null as antecedent, null as consequent,
           count(distinct order_key) as baskets
    from items
    group by all
),

item_baskets as (
    select order_date, level, 'item' as count_of, item as antecedent, null as consequent, count(*) as baskets
    from items
    group by all
),

pair_baskets as (
    select a.order_date, a.level, 'pair' as count_of, a.item as antecedent, b.item as consequent, count(*) as baskets
    from items as a
    inner join items as b on b.level = a.level and b.order_key = a.order_key and b.item <> a.item
    group by all
),

final as (
    select * from baskets
    union all
    select * from item_baskets
    union all
    select * from pair_baskets
)

select * from final
