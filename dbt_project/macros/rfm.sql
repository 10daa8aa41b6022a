{% macro rfm_scores(partition_by=none) -%}
    {#- R, F and M scores 1-5 by ntile(5), 5 = best (recency reversed). customer_id breaks ties so that scores
        are the same on every run. partition_by scores within each group (e.g. each monthly snapshot). -#}
    {%- set window = ("partition by " ~ partition_by ~ " ") if partition_by else "" -%}
    ntile(5) over ({{ window }}order by recency_days desc, customer_id) as r_score,
    ntile(5) over ({{ window }}order by frequency, customer_id) as f_score,
    ntile(5) over ({{ window }}order by monetary_mean, customer_id) as m_score
{%- endmacro %}
