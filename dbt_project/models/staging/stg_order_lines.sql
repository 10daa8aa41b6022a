{#- Incremental (macros/rows.sql, latest_delivery): a build ranks only what the loads since the last one
    delivered against the built rows of the same lines. `dbt build --full-refresh` rebuilds it whole. -#}
{{ config(
    materialized=incremental_materialization(),
    unique_key=['order_id', 'channel', 'line_number'],
    incremental_strategy='delete+insert',
    on_schema_change='fail',
    pre_hook="{{ find_vanished_rows('order_lines', order_line_key()) }}",
    post_hook="{{ delete_vanished_rows('order_lines', order_line_key()) }}"
) }}

with source as (
    {{ passed_rows('order_lines') }}
),
{%- if is_incremental() %}

vanished as (
    select order_id, channel, line_number from {{ vanished_rows() }}
),
{%- endif %}

delivered as (
    {{ rows_to_rank('source', order_line_key(), 'vanished', 'order_lines') }}
),

renamed as (
    select
        {%- for column, staged in order_line_key().items() %}
        {{ staged }} as {{ column }},
        {%- endfor %}
        {{ standardise_text('sku') }} as sku,
        try_cast(quantity as integer) as quantity,
        try_cast(unit_price as decimal(14, 2)) as unit_price,
        coalesce(try_cast(discount as decimal(14, 2)), 0) as discount,
        try_cast(ordered_at as timestamp) as ordered_at,
        {{ landing_columns() }}
    from delivered
),

priced as (
    select
        *,
        quantity * unit_price - discount as line_amount
    from renamed
),

final as (
    {{ latest_delivery('priced', order_line_key(), 'vanished') }}
)

select * from final
