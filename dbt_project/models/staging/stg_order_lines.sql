{#- A table, not a view: a million order lines per 100k customers, read by fct_orders, fct_order_lines and four
    tests, each of which would run the ranking again. -#}
{{ config(materialized='table') }}

with source as (
    {{ passed_rows('order_lines') }}
),

renamed as (
    select
        {{ standardise_text('order_id') }} as order_id,
        lower({{ standardise_text('channel') }}) as channel,
        try_cast(line_number as integer) as line_number,
        {{ standardise_text('sku') }} as sku,
        try_cast(quantity as integer) as quantity,
        try_cast(unit_price as decimal(14, 2)) as unit_price,
        coalesce(try_cast(discount as decimal(14, 2)), 0) as discount,
        try_cast(ordered_at as timestamp) as ordered_at,
        {{ landing_columns() }}
    from source
),

final as (
    select
        *,
        quantity * unit_price - discount as line_amount
    from renamed
    {{ latest_per_key('channel, order_id, line_number') }}
)

select * from final
