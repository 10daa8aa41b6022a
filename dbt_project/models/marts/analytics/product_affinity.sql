{#- Which categories (and subcategories) are bought together: per ordered pair, over purchase baskets (one
    completed receipt or web order each), support = share of baskets holding both, confidence = share of the
    antecedent's baskets that also hold the consequent, lift = confidence / the consequent's share of baskets.
    Pairs below var('affinity_min_baskets') baskets together or var('affinity_min_support') are left out. -#}

with daily as (
    select * from {{ ref('int_baskets__daily') }}
),

baskets as (
    select level, sum(baskets)::bigint as baskets from daily where count_of = 'baskets' group by level
),

item_baskets as (
    select level, antecedent as item, sum(baskets)::bigint as item_baskets from daily where count_of = 'item' group by all
),

pairs as (
    select level, antecedent, consequent, sum(baskets)::bigint as pair_baskets from daily where count_of = 'pair' group by all
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
