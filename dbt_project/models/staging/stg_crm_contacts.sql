with source as (
    {{ passed_rows('crm_contacts') }}
),

renamed as (
    select
        {{ standardise_text('contact_id') }} as contact_id,
        {{ standardise_text('loyalty_id') }} as loyalty_id,
        {{ standardise_name('first_name') }} as first_name,
        {{ standardise_name('last_name') }} as last_name,
        {{ standardise_email('email') }} as email,
        {{ standardise_phone('phone') }} as phone,
        try_cast(birth_date as date) as birth_date,
        {{ standardise_text('street') }} as street,
        {{ standardise_text('city') }} as city,
        {{ standardise_postcode('postcode') }} as postcode,
        upper({{ standardise_text('country') }}) as country,
        try_cast(signup_date as date) as signup_date,
        lower({{ standardise_text('signup_channel') }}) as signup_channel,
        lower({{ standardise_text('tier') }}) as tier,
        try_cast(email_opt_in as boolean) as email_opt_in,
        try_cast(sms_opt_in as boolean) as sms_opt_in,
        try_cast(updated_at as timestamp) as updated_at,
        {{ landing_columns() }}
    from source
),

final as (
    select * from renamed
    {{ latest_per_key('contact_id, updated_at') }}
)

select * from final
