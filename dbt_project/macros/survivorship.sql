{#- The candidate values of the golden-record attributes, one row per record and attribute that has a value, from
    `records` (int_customer_records with each record's customer_id). -#}
{% macro customer_attribute_candidates(records) -%}
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
    from {{ records }}
    where {{ expression }} is not null
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
{%- endmacro %}

{#- Pre-hooks of int_customer_attributes__ranked built incrementally. The first keeps, in the temporary table
    customers_to_rank, every customer whose candidates (with their trust rank) differ from its built rows, compared
    per customer as a sum of row hashes: new customers, changed or moved records, customers merged away or left
    without any value. The second deletes their built rows; the model then appends their ranking again. -#}
{% macro find_customers_to_rank() -%}
    {%- if config.get('materialized') == 'incremental' and is_incremental() %}
    create or replace temp table customers_to_rank as
    with records as (
        select crosswalk.customer_id, records.*
        from {{ ref('int_customer_records') }} as records
        inner join {{ source('identity', 'customer_crosswalk') }} as crosswalk using (source, source_record_id)
    ),

    candidates as (
        {{- customer_attribute_candidates('records') }}
    ),

    current_state as (
        select customer_id, sum({{ row_hash(['attribute', 'value', 'source', 'source_record_id', 'seen_at',
                                             'coalesce(trust.trust_rank, 99)']) }}) as state
        from candidates
        left join {{ ref('source_trust') }} as trust using (source)
        group by customer_id
    ),

    built_state as (
        select customer_id, sum({{ row_hash(['attribute', 'value', 'source', 'source_record_id', 'seen_at',
                                             'trust_rank']) }}) as state
        from {{ this }}
        group by customer_id
    )

    select customer_id
    from current_state
    full join built_state using (customer_id)
    where current_state.state is distinct from built_state.state
    {%- endif %}
{%- endmacro %}

{% macro delete_customers_to_rank() -%}
    {%- if config.get('materialized') == 'incremental' and is_incremental() %}
    delete from {{ this }} where customer_id in (select customer_id from customers_to_rank)
    {%- endif %}
{%- endmacro %}
