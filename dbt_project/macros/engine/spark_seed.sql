{#- dbt-spark's seed binds each value with `sql % values` in its session method, which does not escape quotes, so
    "Can't Lose Them" (rfm_segments.csv) ends its literal early. Here each value is rendered as a literal with
    sql_string (macros/engine/functions.sql); the seeds are a few dozen rows. -#}
{% macro spark__load_csv_rows(model, agate_table) %}
    {%- set column_override = model['config'].get('column_types', {}) -%}
    {%- set statements = [] -%}
    {%- for chunk in agate_table.rows | batch(get_batch_size()) -%}
        {%- set sql -%}
            insert into {{ this.render() }} values
            {%- for row in chunk %}
            ({%- for col_name in agate_table.column_names -%}
                {%- set type = column_override.get(col_name, adapter.convert_type(agate_table, loop.index0)) -%}
                {%- set value = row[loop.index0] -%}
                {%- if value is none -%}cast(null as {{ type }})
                {%- else -%}cast({{ sql_string(value | string) }} as {{ type }})
                {%- endif -%}{{ "," if not loop.last }}
            {%- endfor -%}){{ "," if not loop.last }}
            {%- endfor %}
        {%- endset -%}
        {%- do adapter.add_query(sql, abridge_sql_log=True) -%}
        {%- do statements.append(sql) -%}
    {%- endfor -%}
    {{ return(statements[0]) }}
{% endmacro %}
