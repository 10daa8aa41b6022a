{% macro rfm_scores(partition_by=none) -%}
    {#- R, F and M scores 1-5 by quintile, 5 = best (recency reversed), with ties kept together: equal values
        always get the same score, 1 + floor(5 * (rank - 1) / count) (DESIGN.md). A plain ntile(5) would split
        a tie by row order, giving two customers with the same frequency different scores. partition_by scores
        within each group (e.g. each monthly snapshot). -#}
    {%- set window = ("partition by " ~ partition_by ~ " ") if partition_by else "" -%}
    {%- set scored = [("recency_days desc", "r_score"), ("frequency", "f_score"), ("monetary_mean", "m_score")] -%}
    {%- for order, name in scored %}
    1 + floor(5 * (rank() over ({{ window }}order by {{ order }}) - 1)
              / count(*) over ({{ window | trim }}))::bigint as {{ name }}{{ "," if not loop.last }}
    {%- endfor %}
{%- endmacro %}
