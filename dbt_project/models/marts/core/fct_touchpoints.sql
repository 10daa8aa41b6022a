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

{#- Every column declared in fct_touchpoints.yml is compared (declare each one the model selects). A fact built
    before one of them existed is compared with nothing: every event is written again, with the new column
    (`sync_all_columns`), so adding a column needs no full refresh. -#}
{%- set declared = model.columns.keys() | list %}
{%- set built_columns = adapter.get_columns_in_relation(this) | map(attribute='name') | list if is_incremental() else [] %}
{%- set built = this if is_incremental() and declared | reject('in', built_columns) | list | length == 0 else none %}

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
    {%- for column in declared if column != 'touchpoint_key' %}
       or touchpoints.{{ column }} is distinct from built.{{ column }}
    {%- endfor %}
    {%- endif %}
)

select * from final
