{#- Every event of every feed, one row each, keyed feed:event_id, with the record key it contributes to
    int_customer_records and the landing columns of its staged row (int_touchpoints__events).
    With `built` (fct_touchpoints, incrementally), each feed keeps only the events that can differ from the built
    fact (`changed_events_only`). -#}
{% macro touchpoint_events(built=none) -%}
{%- set since = {'loaded': newest_loaded_at(built), 'resolved': newest_loaded_at(built, '_resolved_at')}
        if built is not none else none %}
with events as (
    {% call feed_events('pos_transactions', 'stg_pos_transactions', built, since) -%}
        receipt_id as event_id, transaction_at as occurred_at, 'store' as channel,
        'purchase_' || status as touchpoint_type, null::string as campaign_id, amount, loyalty_id as record_key
    {%- endcall %}
    union all
    {% call feed_events('ecommerce_orders', 'stg_ecommerce_orders', built, since) -%}
        order_id as event_id, ordered_at as occurred_at, 'web' as channel,
        'order_' || status as touchpoint_type, campaign_code as campaign_id, amount, order_id as record_key
    {%- endcall %}
    union all
    {% call feed_events('web_events', 'stg_web_events', built, since) -%}
        event_id, event_at as occurred_at, 'web' as channel, event_type as touchpoint_type,
        utm_campaign as campaign_id, null as amount,
        case when account_id is not null or email is not null
             then coalesce(account_id, '') || '|' || coalesce(email, '') end as record_key
    {%- endcall %}
    union all
    {% call feed_events('email_events', 'stg_email_events', built, since) -%}
        event_id, event_at as occurred_at, 'email' as channel,
        'email_' || event_type as touchpoint_type, campaign_id, null as amount, email as record_key
    {%- endcall %}
    union all
    {% call feed_events('service_cases', 'stg_service_cases', built, since) -%}
        case_id as event_id, opened_at as occurred_at, channel,
        'case_' || category as touchpoint_type, null as campaign_id, null as amount, case_id as record_key
    {%- endcall %}
    union all
    {% call feed_events('survey_responses', 'stg_survey_responses', built, since) -%}
        response_id as event_id, responded_at as occurred_at, 'survey' as channel,
        'survey_response' as touchpoint_type, null as campaign_id, null as amount, email as record_key
    {%- endcall %}
    union all
    {% call feed_events('sales_leads', 'stg_sales_leads', built, since) -%}
        lead_id as event_id, created_at as occurred_at, 'sales' as channel,
        'lead_' || stage as touchpoint_type, campaign_id, null as amount, lead_id as record_key
    {%- endcall %}
    union all
    {% call feed_events('crm_contacts', 'stg_crm_contacts', built, since) -%}
        contact_id || '@' || {{ timestamp_digits("updated_at") }} as event_id,
        updated_at as occurred_at, coalesce(signup_channel, 'crm') as channel, 'contact_update' as touchpoint_type,
        null as campaign_id, null as amount, contact_id as record_key
    {%- endcall %}
)

select
    feed || ':' || event_id as touchpoint_key,
    feed,
    event_id,
    occurred_at,
    channel,
    touchpoint_type,
    campaign_id,
    amount,
    record_key,
    _load_date,
    _loaded_at
from events
{%- endmacro %}

{#- The events of `events` (touchpoint_events' columns) with the customer their record resolved to. -#}
{% macro resolve_touchpoints(events) -%}
select
    events.touchpoint_key,
    events.feed,
    events.event_id,
    crosswalk.customer_id,
    events.occurred_at,
    cast(events.occurred_at as date) as occurred_date,
    events.channel,
    events.touchpoint_type,
    events.campaign_id,
    events.amount,
    events._load_date,
    events._loaded_at,
    crosswalk.changed_at as _resolved_at
from {{ events }} as events
left join {{ source('identity', 'customer_crosswalk') }} as crosswalk
    on crosswalk.source = events.feed and crosswalk.source_record_id = events.record_key
{%- endmacro %}

{#- One feed's branch of touchpoint_events: the columns the caller selects (event_id, occurred_at, channel,
    touchpoint_type, campaign_id, amount, record_key, each named: the filter reads them) from the feed's staging
    model, with the feed and the landing columns, kept to the changed events when there is a `built` fact. -#}
{% macro feed_events(feed, model, built, since) -%}
    select * from (
        select '{{ feed }}' as feed, {{ caller() }}, _load_date, _loaded_at
        from {{ ref(model) }}
    ) {{ changed_events_only(feed, built, since) }}
{%- endmacro %}

{#- The filter on one feed's staged events that keeps those that can differ from the `built` fact, whose newest
    `_loaded_at` and `_resolved_at` are `since.loaded` and `since.resolved` (newest_loaded_at). A staged event is
    its key's latest passed delivery (staging's latest_per_key), so it changes only when
    - a load delivered its key again: the winning row is then loaded after the newest delivery the fact holds
      (every written event carries its staged `_loaded_at`, which the fact compares);
    - a re-validation or an erasure changed a landing day it was, or now is, delivered on (audit.raw_changes: the
      staged row's day, or the built row's, is a changed day);
    - identity gave its record another customer: the crosswalk row is stamped (`changed_at`) after the newest
      stamp the fact holds. Every written event carries its record's stamp (`_resolved_at`), so the fact's newest
      is the last change it took in; the newest load would not do, as identity runs after the loads of its run
      and the next run would compare every record it stamped again (after a full build, every event).
    Every one of those is compared with its built row; the rest is skipped unread where the tables allow. -#}
{% macro changed_events_only(feed, built, since) -%}
    {%- if built is not none -%}
    {%- set days = changed_landing_days(feed, since.loaded) %}
    where _loaded_at > {{ since.loaded }}
       or {{ on_days('_load_date', days) }}
       or event_id in (select event_id from {{ built }} where feed = '{{ feed }}' and {{ on_days('_load_date', days) }})
       or record_key in (select source_record_id from {{ source('identity', 'customer_crosswalk') }}
                         where source = '{{ feed }}' and changed_at > {{ since.resolved }})
    {%- endif -%}
{%- endmacro %}
