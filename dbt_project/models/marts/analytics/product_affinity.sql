{#- Which categories (and subcategories) are bought together: per ordered pair, over purchase baskets (one
    completed receipt or web order each), support = share of baskets holding both, confidence = share of the
    antecedent's baskets that also hold the consequent, lift = confidence / the consequent's share of baskets.
    Pairs below var('affinity_min_baskets') baskets together or var('affinity_min_support') are left out. -#}

with lines as (
    select * from {{ ref('fct_order_lines') }} where is_purchase
),

items as (
    select distinct 'category' as level, order_key, category as item from lines
    union all
    select distinct 'subcategory', order_key, category || ' / ' || subcategory from lines
),

baskets as (
    select level, count(distinct order_key) as baskets from items group by level
),

item_baskets as (
    select level, item, count(*) as item_baskets from items group by all
),

pairs as (
    select a.level, a.item as antecedent, b.item as consequent, count(*) as pair_baskets
    from items as a
    inner join items as b on b.level = a.level and b.order_key = a.order_key and b.item <> a.item
    group by all
),

final as (
    select
        pairs.level,
        pairs.antecedent,
        pairs.consequent,
        pairs.pair_baskets,
        antecedents.item_baskets as antecedent_baskets,
        consequents.item_baskets as consequent_baskets,
        baskets.baskets,
        pairs.pair_baskets / baskets.baskets as support,
        pairs.pair_baskets / antecedents.item_baskets as confidence,
        (pairs.pair_baskets / antecedents.item_baskets) / (consequents.item_baskets / baskets.baskets) as lift
    from pairs
    inner join baskets using (level)
    inner join item_baskets as antecedents on antecedents.level = pairs.level and antecedents.item = pairs.antecedent
    inner join item_baskets as consequents on consequents.level = pairs.level and consequents.item = pairs.consequent
    where pairs.pair_baskets >= {{ var('affinity_min_baskets') }}
      and pairs.pair_baskets / baskets.baskets >= {{ var('affinity_min_support') }}
)

select * from final order by level, lift desc, antecedent, consequent
