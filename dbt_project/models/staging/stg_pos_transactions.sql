{#- Incremental (macros/rows.sql, latest_delivery): a build ranks only what the loads since the last one
    delivered against the built rows of the same receipts. `dbt build --full-refresh` rebuilds it whole. -#}
{{ config(
    materialized=incremental_materialization(),
    unique_key='receipt_id',
    incremental_strategy='delete+insert',
    on_schema_change='fail',
    pre_hook="{{ find_vanished_rows('pos_transactions', 'receipt_id') }}",
    post_hook="{{ delete_vanished_rows('pos_transactions', 'receipt_id') }}"
) }}

with source as (
    {{ passed_rows('pos_transactions') }}
),
{%- if is_incremental() %}

vanished as (
    select receipt_id from {{ vanished_rows() }}
),
{%- endif %}

delivered as (
    {{ rows_to_rank('source', 'receipt_id', 'vanished', 'pos_transactions') }}
),

renamed as (
    select
        {{ standardise_text('receipt_id') }} as receipt_id,
        {{ standardise_text('store_id') }} as store_id,
        {{ standardise_text('loyalty_id') }} as loyalty_id,
        try_cast(transaction_at as timestamp) as transaction_at,
        lower({{ standardise_text('status') }}) as status,
        try_cast(amount as decimal(14, 2)) as amount,
        try_cast(items as integer) as items,
        upper({{ standardise_text('currency') }}) as currency,
        lower({{ standardise_text('payment_method') }}) as payment_method,
        {{ landing_columns() }}
    from delivered
),

final as (
    {{ latest_delivery('renamed', 'receipt_id', 'vanished') }}
)

select * from final
