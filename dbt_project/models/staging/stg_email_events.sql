with source as (
    {{ passed_rows('email_events') }}
),

renamed as (
    select
        {{ standardise_text('event_id') }} as event_id,
        {{ standardise_text('campaign_id') }} as campaign_id,
        {{ standardise_email('email') }} as email,
        lower({{ standardise_text('event_type') }}) as event_type,
        try_cast(event_at as timestamp) as event_at,
        {{ landing_columns() }}
    from source
),

final as (
    select * from renamed
    {{ latest_per_key('event_id') }}
)

select * from final
