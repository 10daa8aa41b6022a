{#- Customers who buy a category in a lower price band than their peers (customers of the same RFM segment
    buying that category): the customer's highest band in the category against the peers' median highest band. -#}

with lines as (
    select * from {{ ref('fct_order_lines') }}
    where is_purchase and customer_id is not null and price_band is not null
),

rfm as (
    select customer_id, segment from {{ ref('customer_rfm') }}
),

highest as (
    select
        lines.customer_id,
        rfm.segment,
        lines.category,
        max({{ position_in(['budget', 'mid', 'premium'], 'lines.price_band') }}) as band_rank
    from lines
    inner join rfm using (customer_id)
    group by all
),

peers as (
    select
        segment,
        category,
        count(*) as peer_customers,
        {{ quantile_discrete("band_rank", 0.5) }} as peer_band_rank
    from highest
    group by all
),

peers_at_target as (
    select highest.segment, highest.category,
           count(*) filter (where highest.band_rank >= peers.peer_band_rank) / count(*) as share
    from highest
    inner join peers using (segment, category)
    group by all
),

final as (
    select
        highest.customer_id,
        highest.segment,
        highest.category,
        {{ element(array_literal(['budget', 'mid', 'premium']), 'highest.band_rank') }} as current_band,
        {{ element(array_literal(['budget', 'mid', 'premium']), 'peers.peer_band_rank') }} as target_band,
        peers.peer_customers,
        peers_at_target.share as peers_at_target_share
    from highest
    inner join peers using (segment, category)
    inner join peers_at_target using (segment, category)
    where highest.band_rank < peers.peer_band_rank
)

select * from final order by customer_id, category
