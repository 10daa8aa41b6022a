{#- Monthly service KPIs (cases by the month they were opened, surveys by the month of the response):
    cases and service calls, cases per agent, complaint time to resolution (median, p90, hours),
    first-contact resolution, CSAT (share of 4-5 among rated cases), NPS (% promoters - % detractors),
    service renewal rate (renewed / up for renewal). -#}

with cases as (
    select
        *,
        date_trunc('month', opened_at)::date as month,
        -- the exact elapsed time: date_diff('minute', ...) counts minute boundaries, up to a minute off per case
        {{ hours_between("opened_at", "resolved_at") }} as hours_to_resolution
    from {{ ref('stg_service_cases') }}
),

case_kpis as (
    select
        month,
        count(*) as cases,
        count(*) filter (where channel = 'phone') as service_calls,
        count(distinct agent_id) as agents,
        count(*) / nullif(count(distinct agent_id), 0) as cases_per_agent,
        count(*) filter (where category = 'complaint') as complaints,
        median(hours_to_resolution) filter (where category = 'complaint') as complaint_hours_to_resolution_median,
        {{ quantile_continuous("hours_to_resolution", 0.9) }} filter (where category = 'complaint')
            as complaint_hours_to_resolution_p90,
        count(*) filter (where resolved_at is not null) as resolved_cases,
        count(*) filter (where resolved_at is not null and contacts = 1) as resolved_on_first_contact,
        count(*) filter (where resolved_at is not null and contacts = 1)
            / nullif(count(*) filter (where resolved_at is not null), 0) as first_contact_resolution_rate,
        count(csat) as rated_cases,
        count(*) filter (where csat >= 4) / nullif(count(csat), 0) as csat,
        count(*) filter (where renewal_outcome is not null) as up_for_renewal,
        count(*) filter (where renewal_outcome = 'renewed') as renewed,
        count(*) filter (where renewal_outcome = 'renewed')
            / nullif(count(*) filter (where renewal_outcome is not null), 0) as renewal_rate
    from cases
    group by month
),

survey_kpis as (
    select
        date_trunc('month', responded_at)::date as month,
        count(*) as survey_responses,
        count(*) filter (where score >= 9) as promoters,
        count(*) filter (where score <= 6) as detractors,
        100 * (count(*) filter (where score >= 9) - count(*) filter (where score <= 6)) / count(*) as nps
    from {{ ref('stg_survey_responses') }}
    group by 1
),

final as (
    select
        coalesce(case_kpis.month, survey_kpis.month) as month,
        coalesce(case_kpis.cases, 0) as cases,
        coalesce(case_kpis.service_calls, 0) as service_calls,
        case_kpis.agents,
        case_kpis.cases_per_agent,
        coalesce(case_kpis.complaints, 0) as complaints,
        case_kpis.complaint_hours_to_resolution_median,
        case_kpis.complaint_hours_to_resolution_p90,
        case_kpis.resolved_cases,
        case_kpis.resolved_on_first_contact,
        case_kpis.first_contact_resolution_rate,
        case_kpis.rated_cases,
        case_kpis.csat,
        case_kpis.up_for_renewal,
        case_kpis.renewed,
        case_kpis.renewal_rate,
        coalesce(survey_kpis.survey_responses, 0) as survey_responses,
        survey_kpis.promoters,
        survey_kpis.detractors,
        survey_kpis.nps
    from case_kpis
    full outer join survey_kpis using (month)
)

select * from final order by month
