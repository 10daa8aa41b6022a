{#- The scorecard in long form, one row per month and metric, with the change against the month before and the
    same month a year before. A comparison is made only between whole months: a month is whole when the days
    with purchases span it (the first and the last purchase day of the data bound the months we saw in full);
    otherwise the change is null and `history_note` says why. -#}

with scorecard as (
    select * from {{ ref('kpi_scorecard') }}
),

purchase_days as (
    select min(order_date) as first_day, max(order_date) as last_day
    from {{ ref('fct_orders') }}
    where is_purchase
),

metrics as (
    -- every metric of every month, null values included (a month always shows its seven)
    select month, metric, value
    from (
        select
            month,
            cast(active_customers as double) as active_customers,
            cast(new_customers as double) as new_customers,
            cast(revenue as double) as revenue,
            cast(capture_rate_revenue as double) as capture_rate_revenue,
            cast(retention_rate as double) as retention_rate,
            cast(repeat_rate as double) as repeat_rate,
            cast(nps as double) as nps
        from scorecard
    ) as as_doubles
    unpivot include nulls (value for metric in (
        active_customers, new_customers, revenue, capture_rate_revenue, retention_rate, repeat_rate, nps
    ))
),

labelled as (
    select
        metrics.month,
        metrics.metric,
        metrics.value,
        metrics.month >= purchase_days.first_day
            and last_day(metrics.month) <= purchase_days.last_day as is_whole_month
    from metrics
    cross join purchase_days
),

compared as (
    select
        current_month.month,
        current_month.metric,
        current_month.value,
        current_month.is_whole_month,
        previous_month.value as previous_month_value,
        previous_month.is_whole_month as previous_month_is_whole,
        last_year.value as last_year_value,
        last_year.is_whole_month as last_year_is_whole
    from labelled as current_month
    left join labelled as previous_month
        on previous_month.metric = current_month.metric
        and previous_month.month = current_month.month - interval 1 month
    left join labelled as last_year
        on last_year.metric = current_month.metric
        and last_year.month = current_month.month - interval 12 month
),

final as (
    select
        month,
        metric,
        case metric
            when 'active_customers' then 1 when 'new_customers' then 2 when 'revenue' then 3
            when 'capture_rate_revenue' then 4 when 'retention_rate' then 5 when 'repeat_rate' then 6
            when 'nps' then 7
        end as metric_order,
        value,
        is_whole_month,
        case when is_whole_month and previous_month_is_whole then previous_month_value end as previous_month_value,
        case when is_whole_month and previous_month_is_whole then value - previous_month_value end
            as change_vs_previous_month,
        case when is_whole_month and previous_month_is_whole and previous_month_value <> 0
            then (value - previous_month_value) / abs(previous_month_value) end as relative_change_vs_previous_month,
        case when is_whole_month and last_year_is_whole then last_year_value end as last_year_value,
        case when is_whole_month and last_year_is_whole then value - last_year_value end as change_vs_last_year,
        case when is_whole_month and last_year_is_whole and last_year_value <> 0
            then (value - last_year_value) / abs(last_year_value) end as relative_change_vs_last_year,
        concat_ws('; ',
            case when not is_whole_month then 'part of the month only' end,
            case when is_whole_month and not coalesce(previous_month_is_whole, false)
                then 'no whole month before' end,
            case when is_whole_month and not coalesce(last_year_is_whole, false)
                then 'no whole month a year before' end
        ) as history_note
    from compared
)

select * from final order by month, metric_order
