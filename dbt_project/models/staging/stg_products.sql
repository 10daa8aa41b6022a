with source as (
    {{ passed_rows('products') }}
),

renamed as (
    select
        {{ standardise_text('sku') }} as sku,
        {{ standardise_text('name') }} as product_name,
        lower({{ standardise_text('category') }}) as category,
        lower({{ standardise_text('subcategory') }}) as subcategory,
        {{ standardise_text('brand') }} as brand,
        lower({{ standardise_text('price_band') }}) as price_band,
        try_cast(launch_date as date) as launch_date,
        {{ landing_columns() }}
    from source
),

final as (
    select * from renamed
    {{ latest_per_key('sku') }}
)

select * from final
