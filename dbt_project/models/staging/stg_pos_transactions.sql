with source as (
    {{ passed_rows('pos_transactions') }}
),

renamed as (
    select
        {{ standardise_text('receipt_id') }} as receipt_id,
        {{ standardise_text('store_id') }} as store_id,
        {{ standardise_text('loyalty_id') }} as loyalty_id,
        try_cast(transaction_at as timestamp) as transaction_at,
        lower({{ standardise_text('status') }}) as status,
        try_cast(amount as decimal(14, 2)) as amount,
        try_cast(items as integer) as items,
        upper({{ standardise_text('currency') }}) as currency,
        lower({{ standardise_text('payment_method') }}) as payment_method,
        {{ landing_columns() }}
    from source
),

final as (
    select * from renamed
    {{ latest_per_key('receipt_id') }}
)

select * from final
