{#- CRM_DUCKDB_MEMORY_LIMIT (e.g. 8GB) caps this dbt process's DuckDB, as it caps the Dagster process's
    (orchestration/defs/resources.py): the two run on one machine and each would default to 80% of RAM. -#}
{% macro apply_memory_limit() -%}
    {%- set limit = env_var('CRM_DUCKDB_MEMORY_LIMIT', '') -%}
    {%- if limit -%}
        set memory_limit = '{{ limit }}'
    {%- endif -%}
{%- endmacro %}
