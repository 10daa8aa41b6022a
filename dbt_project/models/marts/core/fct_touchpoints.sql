{#- Every event of every feed with its resolved customer, persisted incrementally: a run compares with the built
    rows only the events that can have changed since (macros/touchpoints.sql, changed_events_only), writes those
    that are new or differ, and the post-hook deletes the events no longer staged (re-delivered without them,
    quarantined by a re-validation, erased). `dbt build --full-refresh` rebuilds it whole. -#}
{{ config(
    materialized=incremental_materialization(),
    meta={'log_changes': true},
    unique_key='touchpoint_key',
    incremental_strategy='delete+insert',
    on_schema_change='sync_all_columns',
    post_hook="{{ delete_stale_rows('touchpoint_key', ref('int_touchpoints__events'), 'feed') }}"
) }}

{#- Every column declared in fct_touchpoints.yml is compared (declare each one the model selects; macros/upsert.sql). -#}
{%- set built = comparable_build() %}

with events as (
    {{ touchpoint_events(built) }}
),

touchpoints as (
    {{ resolve_touchpoints('events') }}
),

final as (
    {{ rows_differing_from('touchpoints', 'touchpoint_key', built) }}
)

select * from final
