{#- Rows of a raw feed that passed the quality gates: everything not in quarantine. -#}
{% macro passed_rows(feed) -%}
    select raw_rows.*
    from {{ source('raw', feed) }} as raw_rows
    anti join {{ source('quarantine', feed) }} as quarantined
        on quarantined._source_file = raw_rows._source_file
        and quarantined._row_number = raw_rows._row_number
{%- endmacro %}

{#- Keep one row per natural key: a re-delivered record collapses to its latest delivery. -#}
{% macro latest_per_key(key) -%}
    qualify row_number() over (
        partition by {{ key }} order by _load_date desc, _source_file desc, _row_number desc
    ) = 1
{%- endmacro %}

{#- The lineage columns every staging model carries through from raw. -#}
{% macro landing_columns() -%}
    _source_file,
        _row_number,
        _load_date,
        _loaded_at
{%- endmacro %}
