{#- Change logs. An incremental model whose config has meta `log_changes: true` records the key (its unique_key
    columns) of every row a build writes or deletes in audit.<model>__changes, each numbered from one sequence, so
    the publish copies the rows of the keys logged since it last published (serving/change_log.py) instead of
    comparing whole tables. A build that is not incremental (the first, a full refresh) is noted in
    audit.change_log_rebuilds instead: the publish then compares that table whole. -#}

{#- on-run-start: the sequence and the rebuild notes, before models build on two threads (creating them from
    two models at once is a write-write conflict). -#}
{% macro prepare_change_logs() %}{{ return(adapter.dispatch('prepare_change_logs')()) }}{% endmacro %}
{% macro default__prepare_change_logs() %}{% endmacro %}
{% macro duckdb__prepare_change_logs() -%}
    create schema if not exists audit;
    create sequence if not exists audit.change_seq;
    create table if not exists audit.change_log_rebuilds (model varchar, change_seq bigint)
{%- endmacro %}

{% macro logs_changes() -%}
    {{ return((config.get('meta') or {}).get('log_changes', false) and config.get('materialized') == 'incremental') }}
{%- endmacro %}

{% macro change_log() -%}
    {{ return(api.Relation.create(database=this.database, schema='audit', identifier=this.identifier ~ '__changes')) }}
{%- endmacro %}

{% macro change_key() -%}
    {%- set key = config.get('unique_key') -%}
    {{ return([key] if key is string else key) }}
{%- endmacro %}

{#- Statements that log the keys `keys` (a query selecting the model's unique_key columns) as changed. -#}
{% macro log_changed_keys(keys) -%}
    {%- set columns = change_key() | join(', ') -%}
    create table if not exists {{ change_log() }} as
        select {{ columns }}, 0::bigint as change_seq from ({{ keys }}) limit 0;
    insert into {{ change_log() }} select {{ columns }}, nextval('audit.change_seq') from ({{ keys }})
{%- endmacro %}

{#- dbt's delete+insert, logging the keys it replaces or adds (every key of the rows it inserts) first. -#}
{% macro duckdb__get_incremental_delete_insert_sql(arg_dict) -%}
    {%- if logs_changes() %}
    {{ log_changed_keys('select ' ~ change_key() | join(', ') ~ ' from ' ~ arg_dict['temp_relation']) }};
    {%- endif %}
    {{ get_delete_insert_merge_sql(arg_dict['target_relation'], arg_dict['temp_relation'], arg_dict['unique_key'],
                                   arg_dict['dest_columns'], arg_dict['incremental_predicates']) }}
{%- endmacro %}

{#- A post-hook's delete from the model, logging the keys of the rows it deletes (`condition` on them) first. -#}
{% macro delete_logged(condition) -%}
    {%- if logs_changes() %}
    {{ log_changed_keys('select ' ~ change_key() | join(', ') ~ ' from ' ~ this ~ ' as built where ' ~ condition) }};
    {%- endif %}
    delete from {{ this }} as built where {{ condition }}
{%- endmacro %}

{#- Post-hook (dbt_project.yml, every mart): a logged model built whole is noted, so the publish compares it. -#}
{% macro note_rebuild() -%}
    {%- if (config.get('meta') or {}).get('log_changes', false) and config.get('materialized') == 'incremental'
          and not is_incremental() %}
    insert into audit.change_log_rebuilds values ('{{ this.identifier }}', nextval('audit.change_seq'))
    {%- endif %}
{%- endmacro %}
