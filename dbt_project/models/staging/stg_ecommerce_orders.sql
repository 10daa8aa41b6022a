with source as (
    {{ passed_rows('ecommerce_orders') }}
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
    from source
),

final as (
    select * from renamed
    {{ latest_per_key('order_id') }}
)

select * from final
