{#- Every candidate value of every golden-record attribute, ranked by the survivorship rules:
    most trusted source (the source_trust seed), then most recently seen (by day), then most frequent.
    rank 1 is the value that survives; the source it came from is kept. The last keys (value, time seen, source,
    record) make the order total, so the same files always give the same golden record. -#}

with crosswalk as (
    select * from {{ source('identity', 'customer_crosswalk') }}
),

records as (
    select crosswalk.customer_id, records.*
    from {{ ref('int_customer_records') }} as records
    inner join crosswalk using (source, source_record_id)
),

candidates as (
    {%- set attributes = {
        'first_name': 'first_name',
        'last_name': 'last_name',
        'email': 'email',
        'phone': 'phone',
        'birth_date': 'cast(birth_date as string)',
        'address': "case when postcode is not null then concat_ws('|', coalesce(street, ''), coalesce(city, ''), postcode, coalesce(country, '')) end",
    } %}
    {%- for attribute, expression in attributes.items() %}
    select customer_id, '{{ attribute }}' as attribute, {{ expression }} as value, source, source_record_id, seen_at
    from records
    where {{ expression }} is not null
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
),

with_frequency as (
    select
        candidates.*,
        coalesce(trust.trust_rank, 99) as trust_rank,
        count(*) over (partition by customer_id, attribute, value) as frequency
    from candidates
    left join {{ ref('source_trust') }} as trust using (source)
),

final as (
    select
        customer_id,
        attribute,
        value,
        source,
        source_record_id,
        trust_rank,
        seen_at,
        frequency,
        row_number() over (
            partition by customer_id, attribute
            order by trust_rank, cast(seen_at as date) desc nulls last, frequency desc, value,
                seen_at desc nulls last, source, source_record_id
        ) as survivorship_rank
    from with_frequency
)

select * from final
