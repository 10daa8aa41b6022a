{#- Every consent statement any feed makes, one row per (source record, channel, time): what a person said,
    through which source, when. A CRM contact version states both flags as of its update; an email
    `unsubscribed` event withdraws email consent. A feed that carries another kind of statement (a web
    preference centre, say) adds a branch here. Statements attach to people through the record key each feed
    contributes to int_customer_records. -#}
{{ config(materialized='view') }}

with crosswalk as (
    select * from {{ source('identity', 'customer_crosswalk') }}
),

contacts as (
    select * from {{ ref('stg_crm_contacts') }}
),

unsubscribes as (
    select * from {{ ref('stg_email_events') }} where event_type = 'unsubscribed' and email is not null
),

statements as (
    select 'crm_contacts' as source, contact_id as record_key, 'email' as channel, email_opt_in as opted_in,
           updated_at as stated_at
    from contacts where email_opt_in is not null
    union all
    select 'crm_contacts', contact_id, 'sms', sms_opt_in, updated_at
    from contacts where sms_opt_in is not null
    union all
    select 'email_events', email, 'email', false, event_at
    from unsubscribes
),

final as (
    select
        crosswalk.customer_id,
        statements.channel,
        statements.opted_in,
        statements.source,
        statements.stated_at
    from statements
    inner join crosswalk
        on crosswalk.source = statements.source and crosswalk.source_record_id = statements.record_key
    where statements.stated_at is not null
)

select * from final
