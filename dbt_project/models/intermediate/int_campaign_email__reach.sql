{#- Per campaign, the distinct email recipients of each event type (kpi_campaign_performance's email metrics).
    Distinct counts do not add up across days, so the period is the campaign: a run counts again only the
    campaigns whose email events changed since the last build (macros/periods.sql). At 1M customers the
    fingerprints take 0.4 s where counting every campaign's 20.8M events took 3.8 s. -#}
{{ config(
    materialized=incremental_materialization(),
    unique_key='campaign_id',
    incremental_strategy='delete+insert',
    on_schema_change='fail',
    pre_hook="{{ fingerprint_periods(ref('stg_email_events'), 'campaign_id', ['email', 'event_type']) }}",
    post_hook=["{{ delete_vanished_periods('campaign_id') }}", "{{ keep_period_fingerprints() }}"]
) }}

with email_events as (
    select campaign_id, email, event_type
    from {{ ref('stg_email_events') }}
    where {{ in_changed_periods('campaign_id') }}
),

final as (
    select
        campaign_id,
        count(distinct email) filter (where event_type = 'sent') as recipients_sent,
        count(distinct email) filter (where event_type = 'delivered') as recipients_delivered,
        count(distinct email) filter (where event_type = 'opened') as recipients_opened,
        count(distinct email) filter (where event_type = 'clicked') as recipients_clicked,
        count(distinct email) filter (where event_type in ('opened', 'clicked')) as responders,
        count(distinct email) filter (where event_type = 'bounced') as recipients_bounced,
        count(distinct email) filter (where event_type = 'unsubscribed') as unsubscribes
    from email_events
    group by campaign_id
)

select * from final
