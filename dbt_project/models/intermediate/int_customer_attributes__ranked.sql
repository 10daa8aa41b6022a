{#- Every candidate value of every golden-record attribute, ranked by the survivorship rules:
    most trusted source (the source_trust seed), then most recently seen (by day), then most frequent.
    rank 1 is the value that survives; the source it came from is kept. The last keys (value, time seen, source,
    record) make the order total, so the same files always give the same golden record.
    A customer's ranking depends on its own candidates alone, so the model is incremental: its pre-hooks
    (macros/survivorship.sql) find the customers whose candidates differ from the built rows and delete their
    rows, and the build appends their ranking again. `dbt build --full-refresh` ranks everyone. -#}
{{ config(
    materialized=incremental_materialization(),
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook=["{{ find_customers_to_rank() }}", "{{ delete_customers_to_rank() }}"]
) }}

with crosswalk as (
    select * from {{ source('identity', 'customer_crosswalk') }}
),

records as (
    select crosswalk.customer_id, records.*
    from {{ ref('int_customer_records') }} as records
    inner join crosswalk using (source, source_record_id)
    {%- if is_incremental() %}
    where crosswalk.customer_id in (select customer_id from customers_to_rank)
    {%- endif %}
),

candidates as (
    {{- customer_attribute_candidates('records') }}
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
