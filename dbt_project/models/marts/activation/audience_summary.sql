{#- Per audience: the customers its criteria select, how many each contact rule kept out (the first rule that
    did), and the members, treated and held out. selected = members + every exclusion. -#}
{{ config(tags=['after_clv']) }}

with decisions as (
    select * from {{ ref('int_audience__decisions') }}
),

audiences as (
    select * from {{ ref('audiences') }}
),

counts as (
    select
        audience,
        count(*) as selected,
        count(*) filter (where exclusion in ('no email consent', 'no SMS consent')) as excluded_no_consent,
        count(*) filter (where exclusion in ('no email address', 'no phone number')) as excluded_no_address,
        count(*) filter (where exclusion = 'open complaint') as excluded_open_complaint,
        count(*) filter (where exclusion = 'contact-pressure cap') as excluded_pressure_cap,
        count(*) filter (where exclusion is null) as members,
        count(*) filter (where exclusion is null and not is_holdout) as treated,
        count(*) filter (where exclusion is null and is_holdout) as holdout
    from decisions
    group by audience
),

final as (
    select
        audiences.audience,
        audiences.priority,
        audiences.channel,
        audiences.offer,
        audiences.description,
        audiences.holdout_share,
        coalesce(counts.selected, 0) as selected,
        coalesce(counts.excluded_no_consent, 0) as excluded_no_consent,
        coalesce(counts.excluded_no_address, 0) as excluded_no_address,
        coalesce(counts.excluded_open_complaint, 0) as excluded_open_complaint,
        coalesce(counts.excluded_pressure_cap, 0) as excluded_pressure_cap,
        coalesce(counts.members, 0) as members,
        coalesce(counts.treated, 0) as treated,
        coalesce(counts.holdout, 0) as holdout
    from audiences
    left join counts using (audience)
)

select * from final order by priority
