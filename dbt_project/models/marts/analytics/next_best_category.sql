{#- Per customer, the categories to offer next: those not bought yet, scored by the strongest affinity from a
    category they bought (the confidence of bought -> candidate, lift above 1), with the reason. The top
    var('next_best_categories') per customer. -#}

with bought as (
    select distinct customer_id, category
    from {{ ref('fct_order_lines') }}
    where is_purchase and customer_id is not null and category <> 'unknown'
),

affinity as (
    select * from {{ ref('product_affinity') }} where level = 'category' and lift > 1
),

candidates as (
    select
        bought.customer_id,
        affinity.consequent as category,
        affinity.confidence as score,
        affinity.lift,
        affinity.antecedent as because_of
    from bought
    inner join affinity on affinity.antecedent = bought.category
    anti join bought as owned on owned.customer_id = bought.customer_id and owned.category = affinity.consequent
    -- a candidate reached from several bought categories keeps the strongest
    qualify row_number() over (partition by bought.customer_id, affinity.consequent
                               order by affinity.confidence desc, affinity.lift desc, affinity.antecedent) = 1
),

final as (
    select
        customer_id,
        row_number() over (partition by customer_id order by score desc, lift desc, category) as rank,
        category,
        score,
        lift,
        because_of,
        'bought ' || because_of || ': ' || round(100 * score, 1) || '% of its baskets also hold ' || category
            || ' (lift ' || round(lift, 2) || ')' as reason
    from candidates
    qualify rank <= {{ var('next_best_categories') }}
)

select * from final order by customer_id, rank
