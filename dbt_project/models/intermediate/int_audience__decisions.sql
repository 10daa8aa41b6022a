{#- Every customer that an audience's criteria select, with the first contact rule that keeps them out
    (exclusion null: a member) and, for members, whether they are held out as the control group.
    The rules, in order: consent for the channel (the latest statement; unknown is no), an address for it, no
    open complaint, the contact-pressure cap (sends in the last 7 days plus the audiences of higher priority
    that keep the customer, at most var('contact_pressure_cap_7d')). Holdout members count against the cap like
    the treated, so that both groups face the same rules. -#}
{{ config(tags=['after_clv']) }}
-- depends_on: {{ ref('audiences') }}

{%- set audiences = [] %}
{%- if execute %}
    {%- set audiences = run_query("select audience, priority, channel, holdout_share, offer, description, criteria from "
                                  ~ ref('audiences') ~ " order by priority").rows %}
{%- endif %}

with candidates as (
    select * from {{ ref('int_audience__candidates') }}
),

qualified as (
    {%- for audience in audiences %}
    select
        '{{ audience[0] }}' as audience,
        {{ audience[1] }} as priority,
        '{{ audience[2] }}' as channel,
        {{ audience[3] }}::double as holdout_share,
        {{ sql_string(audience[4]) if audience[4] else "null" }}::string as offer,
        {{ sql_string(audience[5]) }} as reason,
        candidates.*
    from candidates
    where ({{ audience[6] }})
    {{ "union all" if not loop.last }}
    {%- else %}
    select null::string as audience, null::integer as priority, null::string as channel,
           null::double as holdout_share, null::string as offer, null::string as reason, candidates.*
    from candidates where false
    {%- endfor %}
),

checked as (
    select
        *,
        case
            when channel = 'email' and email_opt_in is not true then 'no email consent'
            when channel = 'sms' and sms_opt_in is not true then 'no SMS consent'
            when channel = 'email' and email is null then 'no email address'
            when channel = 'sms' and phone is null then 'no phone number'
            when has_open_complaint then 'open complaint'
        end as rule_exclusion
    from qualified
),

planned as (
    select
        *,
        -- the audiences before this one (by priority) that keep this customer, each a planned message
        count(*) filter (where rule_exclusion is null) over (
            partition by customer_id order by priority rows between unbounded preceding and 1 preceding
        ) as planned_before
    from checked
),

final as (
    select
        audience,
        priority,
        channel,
        customer_id,
        reason,
        offer,
        case
            when rule_exclusion is not null then rule_exclusion
            when sends_last_7_days + planned_before + 1 > {{ var('contact_pressure_cap_7d') }}
                then 'contact-pressure cap'
        end as exclusion,
        sends_last_7_days,
        planned_before as planned_messages_before,
        -- a stable draw per customer and audience: the same customer stays in or out of the control group
        {{ md5_modulo("customer_id || '|' || audience", 1000000) }} / 1000000.0 < holdout_share as is_holdout
    from planned
)

select * from final
