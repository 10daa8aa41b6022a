with source as (
    {{ passed_rows('sales_leads') }}
),

renamed as (
    select
        {{ standardise_text('lead_id') }} as lead_id,
        {{ standardise_name('first_name') }} as first_name,
        {{ standardise_name('last_name') }} as last_name,
        {{ standardise_email('email') }} as email,
        {{ standardise_phone('phone') }} as phone,
        lower({{ standardise_text('lead_source') }}) as lead_source,
        {{ standardise_text('campaign_id') }} as campaign_id,
        lower({{ standardise_text('stage') }}) as stage,
        {{ standardise_text('owner_id') }} as owner_id,
        try_cast(sales_calls as integer) as sales_calls,
        try_cast(created_at as timestamp) as created_at,
        try_cast(converted_at as timestamp) as converted_at,
        {{ landing_columns() }}
    from source
),

final as (
    select * from renamed
    {{ latest_per_key('lead_id') }}
)

select * from final
