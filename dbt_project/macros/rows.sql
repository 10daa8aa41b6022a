{#- Rows of a raw feed that passed the quality gates: everything not in quarantine, and the facts an erasure
    kept without their person (raw.<feed>__anonymised, written by privacy/erasure.py beside the feed's table:
    no landing file holds them any more, so no reload replaces them). -#}
{% macro passed_rows(feed) -%}
    {%- set raw_table = source('raw', feed) -%}
    select raw_rows.*
    from {{ raw_table }} as raw_rows
    anti join {{ source('quarantine', feed) }} as quarantined
        on quarantined._source_file = raw_rows._source_file
        and quarantined._row_number = raw_rows._row_number
    union all
    select * from {{ raw_table.incorporate(path={"identifier": raw_table.identifier ~ "__anonymised"}) }}
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
