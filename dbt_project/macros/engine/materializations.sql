{#- The materialization of the event tables that are built incrementally on DuckDB (delete+insert on their key).
    On Spark they are rebuilt whole each run: delete+insert and merge need DELETE, which plain Parquet tables do
    not have (Delta or Iceberg, whose jars cannot be fetched here, would; docs/scale-out.md). -#}
{% macro incremental_materialization() %}{{ return(adapter.dispatch('incremental_materialization')()) }}{% endmacro %}
{% macro default__incremental_materialization() %}{{ return('incremental') }}{% endmacro %}
{% macro spark__incremental_materialization() %}{{ return('table') }}{% endmacro %}
