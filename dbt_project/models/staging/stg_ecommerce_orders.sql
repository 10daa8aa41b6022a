{#- Incremental (macros/rows.sql, latest_delivery): a build ranks only what the loads since the last one
    delivered against the built rows of the same orders. `dbt build --full-refresh` rebuilds it whole. -#}
{{ config(
    materialized=incremental_materialization(),
    unique_key='order_id',
    incremental_strategy='delete+insert',
    on_schema_change='fail',
    pre_hook="{{ find_vanished_rows('ecommerce_orders', 'order_id') }}",
    post_hook="{{ delete_vanished_rows('ecommerce_orders', 'order_id') }}"
) }}

with source as (
    {{ passed_rows('ecommerce_orders') }}
),
{%- if is_incremental() %}

vanished as (
    select order_id from {{ vanished_rows() }}
),
{%- endif %}

delivered as (
    {{ rows_to_rank('source', 'order_id', 'vanished', 'ecommerce_orders') }}
),

renamed as (
    select
        {{ standardise_text('order_id') }} as order_id,
        {{ standardise_text('account_id') }} as account_id,
        {{ standardise_email('email') }} as email,
        {{ standardise_name('first_name') }} as first_name,
        {{ standardise_name('last_name') }} as last_name,
        {{ standardise_phone('phone') }} as phone,
        {{ standardise_text('ship_street') }} as ship_street,
        {{ standardise_text('ship_city') }} as ship_city,
        {{ standardise_postcode('ship_postcode') }} as ship_postcode,
        upper({{ standardise_text('ship_country') }}) as ship_country,
        try_cast(ordered_at as timestamp) as ordered_at,
        lower({{ standardise_text('status') }}) as status,
        try_cast(amount as decimal(14, 2)) as amount,
        try_cast(items as integer) as items,
        upper({{ standardise_text('currency') }}) as currency,
        upper({{ standardise_text('campaign_code') }}) as campaign_code,
        {{ landing_columns() }}
    from delivered
),

final as (
    {{ latest_delivery('renamed', 'order_id', 'vanished') }}
)

select * from final
