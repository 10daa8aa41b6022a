{#- Every event of every feed with its resolved customer, persisted from int_touchpoints incrementally: a run
    writes only the events that are new or differ from the built row (a re-delivered record, a customer_id
    that identity resolution changed) and the post-hook deletes the events no longer staged (re-delivered
    without them, quarantined by a re-validation, erased). `dbt build --full-refresh` rebuilds it whole. -#}
{{ config(
    materialized=incremental_materialization(),
    unique_key='touchpoint_key',
    incremental_strategy='delete+insert',
    on_schema_change='fail',
    post_hook="{{ delete_stale_rows('touchpoint_key', ref('int_touchpoints__events'), 'feed') }}"
) }}

{%- set compared_columns = ['feed', 'event_id', 'customer_id', 'occurred_at', 'occurred_date', 'channel',
                            'touchpoint_type', 'campaign_id', 'amount'] %}

with touchpoints as (
    select * from {{ ref('int_touchpoints') }}
),

{% if is_incremental() %}
built as (
    select * from {{ this }}
),
{% endif %}

final as (
    select touchpoints.*
    from touchpoints
    {%- if is_incremental() %}
    left join built on built.touchpoint_key = touchpoints.touchpoint_key
    where built.touchpoint_key is null
    {%- for column in compared_columns %}
       or touchpoints.{{ column }} is distinct from built.{{ column }}
    {%- endfor %}
    {%- endif %}
)

select * from final
