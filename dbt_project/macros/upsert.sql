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
