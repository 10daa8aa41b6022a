with source as (
    {{ passed_rows('web_events') }}
),

renamed as (
    select
        {{ standardise_text('event_id') }} as event_id,
        {{ standardise_text('cookie_id') }} as cookie_id,
        {{ standardise_text('account_id') }} as account_id,
        {{ standardise_email('email') }} as email,
        lower({{ standardise_text('event_type') }}) as event_type,
        {{ standardise_text('page_url') }} as page_url,
        {{ standardise_text('utm_campaign') }} as utm_campaign,
        try_cast(event_at as timestamp) as event_at,
        {{ landing_columns() }}
    from source
),

final as (
    select * from renamed
    {{ latest_per_key('event_id') }}
)

select * from final
