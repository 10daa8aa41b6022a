{#- Incremental (macros/rows.sql, latest_delivery): a build ranks only what the loads since the last one
    delivered against the built rows of the same events. `dbt build --full-refresh` rebuilds it whole. -#}
{{ config(
    materialized=incremental_materialization(),
    unique_key='event_id',
    incremental_strategy='delete+insert',
    on_schema_change='fail',
    pre_hook="{{ find_vanished_rows('web_events', 'event_id') }}",
    post_hook="{{ delete_vanished_rows('web_events', 'event_id') }}"
) }}

with source as (
    {{ passed_rows('web_events') }}
),
{%- if is_incremental() %}

vanished as (
    select event_id from {{ vanished_rows() }}
),
{%- endif %}

delivered as (
    {{ rows_to_rank('source', 'event_id', 'vanished', 'web_events') }}
),

renamed as (
    select
        {{ standardise_text('event_id') }} as event_id,
        {{ standardise_text('cookie_id') }} as cookie_id,
        {{ standardise_text('account_id') }} as account_id,
        {{ standardise_email('email') }} as email,
        lower({{ standardise_text('event_type') }}) as event_type,
        {{ standardise_text('page_url') }} as page_url,
        {{ standardise_text('utm_campaign') }} as utm_campaign,
        try_cast(event_at as timestamp) as event_at,
        {{ landing_columns() }}
    from delivered
),

final as (
    {{ latest_delivery('renamed', 'event_id', 'vanished') }}
)

select * from final
