{#- A filter keeping the customers a customer-level model computes again this run (its `touched` CTE), or every
    customer where there is no `built` table to start from. -#}
{% macro is_touched(column, built) -%}
    {%- if built is not none -%} {{ column }} in (select customer_id from touched) {%- else -%} true {%- endif -%}
{%- endmacro %}

{#- Post-hook of dim_customers built incrementally: delete the customers identity no longer has (merged away,
    erased); delete+insert only replaces the customers it computed. -#}
{% macro delete_departed_customers() -%}
    {%- if config.get('materialized') == 'incremental' %}
    {{ delete_logged('not exists (select 1 from ' ~ source('identity', 'customer_crosswalk')
                     ~ ' as crosswalk where crosswalk.customer_id = built.customer_id)') }}
    {%- endif %}
{%- endmacro %}

{#- preferred_channel counts the responses of the 180 days up to the newest touchpoint (anyone's): those after
    the day this selects. -#}
{% macro response_window() -%}
    select cast(max(occurred_date) - interval 180 day as date) as responses_after from {{ ref('fct_touchpoints') }}
{%- endmacro %}

{#- What dim_customers was last computed with, kept in the audit schema (neither published nor a mart) by its
    post-hook: the response window, and the newest change to the landing days it had taken in. -#}
{% macro customer_state() -%}
    {{ return(api.Relation.create(database=this.database, schema='audit', identifier=this.identifier ~ '__state')) }}
{%- endmacro %}

{% macro keep_customer_state() -%}
    {%- if config.get('materialized') == 'incremental' -%}
    create or replace table {{ customer_state() }} as
    select (select responses_after from ({{ response_window() }})) as responses_after,
           {{ newest_raw_change() }} as changes_seen_at
    {%- endif -%}
{%- endmacro %}

{#- That state as literals ({'responses_after': ..., 'changes_seen_at': ...}), or none where it was not kept (a
    table built before it was). -#}
{% macro previous_customer_state() -%}
    {%- set state = load_relation(customer_state()) if execute else none -%}
    {%- if state is none -%}{{ return(none) }}{%- endif -%}
    {%- set row = run_query('select responses_after, changes_seen_at from ' ~ state).rows[0] -%}
    {{ return({'responses_after': "null::date" if row[0] is none else "date '" ~ row[0] ~ "'",
               'changes_seen_at': "'-infinity'::timestamp" if row[1] is none else "timestamp '" ~ row[1] ~ "'"}) }}
{%- endmacro %}
