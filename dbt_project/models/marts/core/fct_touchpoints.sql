{#- Every event of every feed with its resolved customer, persisted incrementally: a run compares with the built
    rows only the events that can have changed since (macros/touchpoints.sql, changed_events_only), writes those
    that are new or differ, and the post-hook deletes the events no longer staged (re-delivered without them,
    quarantined by a re-validation, erased). `dbt build --full-refresh` rebuilds it whole. -#}
{{ config(
    materialized=incremental_materialization(),
    unique_key='touchpoint_key',
    incremental_strategy='delete+insert',
    on_schema_change='sync_all_columns',
    post_hook="{{ delete_stale_rows('touchpoint_key', ref('int_touchpoints__events'), 'feed') }}"
) }}

{%- set compared_columns = ['feed', 'event_id', 'customer_id', 'occurred_at', 'occurred_date', 'channel',
                            'touchpoint_type', 'campaign_id', 'amount', '_load_date', '_loaded_at'] %}
{#- a fact built before it carried the landing columns is compared with nothing: every event is written again -#}
{%- set built = this if is_incremental() and '_loaded_at' in adapter.get_columns_in_relation(this)
                                                              | map(attribute='name') else none %}

with events as (
    {{ touchpoint_events(built) }}
),

touchpoints as (
    {{ resolve_touchpoints('events') }}
),

{% if built is not none %}
built as (
    select * from {{ this }}
),
{% endif %}

final as (
    select touchpoints.*
    from touchpoints
    {%- if built is not none %}
    left join built on built.touchpoint_key = touchpoints.touchpoint_key
    where built.touchpoint_key is null
    {%- for column in compared_columns %}
       or touchpoints.{{ column }} is distinct from built.{{ column }}
    {%- endfor %}
    {%- endif %}
)

select * from final
