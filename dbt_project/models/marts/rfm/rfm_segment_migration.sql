{#- Segment migration between consecutive monthly snapshots of customer_rfm_history: how many customers moved
    from each segment to each other one. A customer's first snapshot has no from_segment. -#}

with history as (
    select * from {{ ref('customer_rfm_history') }}
),

moves as (
    select
        snapshot_date,
        previous_segment as from_segment,
        segment as to_segment,
        count(*) as customers
    from history
    group by all
),

final as (
    select
        snapshot_date,
        from_segment,
        to_segment,
        customers,
        customers / sum(customers) over (partition by snapshot_date, from_segment) as share_of_from_segment
    from moves
)

select * from final order by snapshot_date, from_segment nulls first, to_segment
