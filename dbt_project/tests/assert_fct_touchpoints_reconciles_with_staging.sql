{#- Events and identified events per feed in the incremental fct_touchpoints equal those computed afresh
    from staging and the crosswalk (int_touchpoints). Returns one row per feed and measure that differs. -#}
{{ config(severity='error', meta={'dagster': {'ref': {'name': 'fct_touchpoints'}}}) }}

with expected as (
    select feed, count(*) as events, count(customer_id) as identified
    from {{ ref('int_touchpoints') }}
    group by feed
),

actual as (
    select feed, count(*) as events, count(customer_id) as identified
    from {{ ref('fct_touchpoints') }}
    group by feed
)

select
    coalesce(expected.feed, actual.feed) as feed,
    expected.events as expected_events, actual.events as actual_events,
    expected.identified as expected_identified, actual.identified as actual_identified
from expected
full join actual on actual.feed = expected.feed
where expected.events is distinct from actual.events
   or expected.identified is distinct from actual.identified
