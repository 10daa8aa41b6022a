with source as (
    {{ passed_rows('survey_responses') }}
),

renamed as (
    select
        {{ standardise_text('response_id') }} as response_id,
        {{ standardise_email('email') }} as email,
        try_cast(score as integer) as score,
        {{ standardise_text('comment') }} as comment,
        try_cast(responded_at as timestamp) as responded_at,
        {{ landing_columns() }}
    from source
),

final as (
    select * from renamed
    {{ latest_per_key('response_id') }}
)

select * from final
