{#- Incremental models that compute their rows whole but write only those that differ from the built table.
    In DuckDB, writing a table costs more than computing it: at 100k customers fct_order_lines (956k rows)
    computes in 0.35 s and writes in 0.74 s, and dbt's rebuild then drops the old table. -#}

{#- The built table to compare with: `this` when the model is built incrementally and the table has every column
    the model's yml declares; none for a first or full build, and for a table built before one of its declared
    columns existed (it is then compared with nothing: every row is written again, and `sync_all_columns` adds
    the column, so adding a column needs no full refresh). -#}
{% macro comparable_build() -%}
    {%- if not is_incremental() -%}{{ return(none) }}{%- endif -%}
    {%- set built_columns = adapter.get_columns_in_relation(this) | map(attribute='name') | list -%}
    {{ return(this if model.columns.keys() | reject('in', built_columns) | list | length == 0 else none) }}
{%- endmacro %}

{#- The rows of the CTE `relation` that are new or differ from their `built` row (comparable_build) in any
    column the model's yml declares; every row when there is nothing to compare with. `key`: the columns that
    name a row. -#}
{% macro rows_differing_from(relation, key, built) -%}
    {%- set key = [key] if key is string else key %}
    select {{ relation }}.*
    from {{ relation }}
    {%- if built is not none %}
    left join {{ built }} as built
        on {% for column in key %}built.{{ column }} = {{ relation }}.{{ column }}{{ " and " if not loop.last }}{% endfor %}
    where built.{{ key[0] }} is null
    {%- for column in model.columns.keys() if column not in key %}
       or {{ relation }}.{{ column }} is distinct from built.{{ column }}
    {%- endfor %}
    {%- endif %}
{%- endmacro %}

{#- Incremental strategy `sync` (`incremental_strategy='sync'`): the model selects every row it should hold, as a
    table model would, and the build brings the table to equal them, writing only what changed: rows whose key
    left or whose values changed are deleted, and the rows the table then lacks are inserted. For models whose
    rows mostly stay as they were from one day to the next (int_customer_records: 2.5 s rebuilt whole at 100k
    customers, of which 1.6 s writing a table that barely changed). -#}
{% macro get_incremental_sync_sql(arg_dict) -%}
    {%- set built, now = arg_dict['target_relation'], arg_dict['temp_relation'] -%}
    {%- set key = arg_dict['unique_key'] -%}
    {%- set key = [key] if key is string else key -%}
    {%- set columns = arg_dict['dest_columns'] | map(attribute='quoted') | list -%}
    {%- set differs %}
    not exists (
        select 1 from {{ now }} as now
        where {% for column in columns %}now.{{ column }} is not distinct from built.{{ column }}{{ " and " if not loop.last }}{% endfor %}
    )
    {%- endset %}
    {%- if logs_changes() %}
    {#- the keys of the rows that go (changed or gone) and of those that are new -#}
    {{ log_changed_keys('select ' ~ key | join(', ') ~ ' from ' ~ built ~ ' as built where ' ~ differs
                        ~ ' union select ' ~ key | join(', ') ~ ' from ' ~ now ~ ' as now where not exists (select 1 from '
                        ~ built ~ ' as built where ' ~ key_matches(key) ~ ')') }};
    {%- endif %}
    delete from {{ built }} as built
    where {{ differs }};
    insert into {{ built }} ({{ columns | join(', ') }})
    select {% for column in columns %}now.{{ column }}{{ ", " if not loop.last }}{% endfor %}
    from {{ now }} as now
    where not exists (select 1 from {{ built }} as built where {{ key_matches(key) }})
{%- endmacro %}

{% macro key_matches(key) -%}
    {% for column in key %}built.{{ column }} = now.{{ column }}{{ " and " if not loop.last }}{% endfor %}
{%- endmacro %}
