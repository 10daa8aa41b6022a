{#- Incremental models built by period (a day, a month): the pre-hook fingerprints the model's input per period,
    the model computes only the periods whose fingerprint differs from the one kept at its last build
    (audit.<model>__periods, not published), and the post-hooks delete the periods the input no longer has and
    keep the new fingerprints. A fingerprint is the period's rows and the sum of their hashes over the columns
    the model reads, so a new, late, re-delivered, quarantined, erased or re-assigned row changes its period's.
    On Spark, where these models are tables built whole, the hooks do nothing and every period is computed. -#}

{% macro period_state() -%}
    {{ return(api.Relation.create(database=this.database, schema='audit', identifier=this.identifier ~ '__periods')) }}
{%- endmacro %}

{% macro input_periods() -%}
    {{ this.identifier }}__input_periods
{%- endmacro %}

{#- Pre-hook: the fingerprint of each period of `inputs` (a relation or a parenthesised query; `period` an
    expression over it) over `columns`, into a temporary table the model and its post-hooks read. -#}
{% macro fingerprint_periods(inputs, period, columns) -%}
    {%- if config.get('materialized') == 'incremental' %}
    create or replace temporary table {{ input_periods() }} as
    select {{ period }} as period, count(*) as input_rows, sum(hash({{ columns | join(', ') }}))::varchar as fingerprint
    from {{ inputs }}
    group by all
    {%- endif %}
{%- endmacro %}

{#- The periods to compute, as a query: those whose fingerprint differs from the kept one. None, meaning every
    period, on a first or full build, where none was kept, and where the model is built whole (Spark). -#}
{% macro changed_periods() -%}
    {%- set kept = load_relation(period_state())
            if execute and is_incremental() and config.get('materialized') == 'incremental' else none -%}
    {%- if kept is none -%}{{ return(none) }}{%- endif -%}
    {{ return('select coalesce(now.period, kept.period) as period from ' ~ input_periods() ~ ' as now'
              ~ ' full join ' ~ kept ~ ' as kept on kept.period = now.period'
              ~ ' where now.input_rows is distinct from kept.input_rows'
              ~ ' or now.fingerprint is distinct from kept.fingerprint') }}
{%- endmacro %}

{#- A filter keeping the rows whose period (`column`, an expression) is to be computed. -#}
{% macro in_changed_periods(column) -%}
    {%- set periods = changed_periods() -%}
    {%- if periods is none %}true{% else %}{{ column }} in ({{ periods }}){% endif -%}
{%- endmacro %}

{#- Post-hooks: delete the rows of the periods the input no longer has (`column`: the table's period, as an
    expression), then keep this build's fingerprints for the next. -#}
{% macro delete_vanished_periods(column) -%}
    {%- if config.get('materialized') == 'incremental' -%}
    delete from {{ this }} where {{ column }} not in (select period from {{ input_periods() }})
    {%- endif -%}
{%- endmacro %}

{% macro keep_period_fingerprints() -%}
    {%- if config.get('materialized') == 'incremental' -%}
    create schema if not exists {{ period_state().include(identifier=false) }};
    create or replace table {{ period_state() }} as select * from {{ input_periods() }}
    {%- endif -%}
{%- endmacro %}
