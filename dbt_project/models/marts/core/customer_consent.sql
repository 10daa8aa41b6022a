{#- Consent per customer and channel: the latest statement from any source. At the same instant, a withdrawal
    wins over a grant (the cautious reading of a conflict). A customer with no statement for a channel has no
    row: unknown consent is unknown, never yes.
    Computed whole, written where it differs (the `sync` strategy, macros/upsert.sql). -#}
{{ config(
    materialized=incremental_materialization(),
    meta={'log_changes': true},
    unique_key=['customer_id', 'channel'],
    incremental_strategy='sync',
    on_schema_change='sync_all_columns'
) }}

with statements as (
    select * from {{ ref('int_consent__statements') }}
),

final as (
    select customer_id, channel, opted_in, source, stated_at
    from statements
    qualify row_number() over (
        partition by customer_id, channel
        order by stated_at desc, opted_in asc, source
    ) = 1
)

select * from final
