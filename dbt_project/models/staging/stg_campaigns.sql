with source as (
    {{ passed_rows('campaigns') }}
),

renamed as (
    select
        {{ standardise_text('campaign_id') }} as campaign_id,
        {{ standardise_text('campaign_name') }} as campaign_name,
        lower({{ standardise_text('channel') }}) as channel,
        upper({{ standardise_text('campaign_code') }}) as campaign_code,
        try_cast(start_date as date) as start_date,
        try_cast(end_date as date) as end_date,
        try_cast(cost as decimal(14, 2)) as cost,
        {{ standardise_text('target_segment') }} as target_segment,
        {{ standardise_text('audience') }} as audience,
        {{ landing_columns() }}
    from source
),

final as (
    select * from renamed
    {{ latest_per_key('campaign_id') }}
)

select * from final
