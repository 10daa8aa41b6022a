with source as (
    {{ passed_rows('service_cases') }}
),

renamed as (
    select
        {{ standardise_text('case_id') }} as case_id,
        {{ standardise_email('email') }} as email,
        {{ standardise_phone('phone') }} as phone,
        {{ standardise_name('first_name') }} as first_name,
        {{ standardise_name('last_name') }} as last_name,
        lower({{ standardise_text('channel') }}) as channel,
        lower({{ standardise_text('category') }}) as category,
        {{ standardise_text('agent_id') }} as agent_id,
        try_cast(opened_at as timestamp) as opened_at,
        try_cast(first_response_at as timestamp) as first_response_at,
        try_cast(resolved_at as timestamp) as resolved_at,
        try_cast(contacts as integer) as contacts,
        try_cast(csat as integer) as csat,
        lower({{ standardise_text('renewal_outcome') }}) as renewal_outcome,
        {{ landing_columns() }}
    from source
),

final as (
    select * from renamed
    {{ latest_per_key('case_id') }}
)

select * from final
