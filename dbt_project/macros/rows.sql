{#- Rows of a raw feed that passed the quality gates: everything whose row is not quarantined, with the
    attributes a rule nulled (outcome attribute_nulled: a CSAT of 7 loses its CSAT, not its case), and the facts an
    erasure kept without their person (raw.<feed>__anonymised, written by privacy/erasure.py beside the feed's
    table: no landing file holds them any more, so no reload replaces them). -#}
{% macro passed_rows(feed) -%}
    {%- set raw_table = source('raw', feed) -%}
    {%- set quarantine = source('quarantine', feed) -%}
    {%- set nulled = nulled_columns(quarantine) -%}
    {%- if nulled %}
    select
        {%- for column in adapter.get_columns_in_relation(raw_table) | map(attribute='name') %}
        {% if column in nulled -%}
        case when {{ array_has('faults.columns', "'" ~ column ~ "'") }} then null else raw_rows.{{ adapter.quote(column) }} end
            as {{ adapter.quote(column) }}
        {%- else -%}
        raw_rows.{{ adapter.quote(column) }}
        {%- endif %}{{ "," if not loop.last }}
        {%- endfor %}
    {%- else %}
    select raw_rows.*
    {%- endif %}
    from {{ raw_table }} as raw_rows
    anti join (select * from {{ quarantine }} where outcome = 'row_quarantined') as quarantined
        on quarantined._source_file = raw_rows._source_file
        and quarantined._row_number = raw_rows._row_number
    {%- if nulled %}
    left join (
        select _source_file, _row_number, {{ collect('column_name') }} as columns
        from {{ quarantine }} where outcome = 'attribute_nulled' group by all
    ) as faults
        on faults._source_file = raw_rows._source_file and faults._row_number = raw_rows._row_number
    {%- endif %}
    union all
    select * from {{ raw_table.incorporate(path={"identifier": raw_table.identifier ~ "__anonymised"}) }}
{%- endmacro %}

{#- The columns that some passed row of the feed has nulled, read when the model runs (none at parse time). -#}
{% macro nulled_columns(quarantine) -%}
    {%- if not execute -%}{{ return([]) }}{%- endif -%}
    {%- set found = run_query("select distinct column_name from " ~ quarantine
                              ~ " where outcome = 'attribute_nulled' order by 1") -%}
    {{ return(found.columns[0].values() | list) }}
{%- endmacro %}

{#- Keep one row per natural key: a re-delivered record collapses to its latest delivery. -#}
{% macro latest_per_key(key) -%}
    qualify row_number() over (
        partition by {{ key }} order by _load_date desc, _source_file desc, _row_number desc, _loaded_at desc
    ) = 1
{%- endmacro %}

{#- The lineage columns every staging model carries through from raw. -#}
{% macro landing_columns() -%}
    _source_file,
        _row_number,
        _load_date,
        _loaded_at
{%- endmacro %}

{#- An incremental event staging table ranks only what a load since its last build delivered (a new day, a late
    file, a re-delivery: a load writes its rows with a new _loaded_at), and the rows of the days a re-validation
    or an erasure changed since (audit.raw_changes), against its own built row for the same key, the latest
    delivery among every earlier one. Where a built row lost its raw row (quarantined by a
    re-validation, erased) or now holds another event (an erasure renumbers the rows after those it removes
    from a file), every delivery of its key is ranked again. So a build gives what a full build gives.
    The pre-hook finds those built rows once, into a temporary table the model and its post-hook read
    (`vanished_rows()`). -#}
{% macro find_vanished_rows(feed, key) -%}
    {%- if config.get('materialized') == 'incremental' %}
    create or replace temporary table {{ vanished_rows() }} as
    {%- if is_incremental() %}
    {#- by file, row and key: an erasure renumbers the rows after the ones it removes from a file. The raw key,
        not its standard form, is compared with the built one as text (half the time): a key typed with spaces
        or in capitals only gets ranked again.
        Only on the landing days changed since the last build: every other built row still has its raw row. #}
    {%- set changed = changed_landing_days(feed) %}
    select built._source_file, built._row_number{% for column in staged_key(key) %}, built.{{ column }}{% endfor %}
    from {{ this }} as built
    anti join (select * from ({{ passed_rows(feed) }}) where {{ on_days('_load_date', changed) }}) as passed
        on passed._source_file = built._source_file and passed._row_number = built._row_number
        {%- for column in staged_key(key) %}
        and passed.{{ column }} = built.{{ column }}::varchar
        {%- endfor %}
    where {{ on_days('built._load_date', changed) }}
    {%- else %}
    select null as _source_file, null as _row_number
        {%- for column in staged_key(key) %}, null as {{ column }}{% endfor %} where false  {#- a first or full build #}
    {%- endif %}
    {%- endif %}
{%- endmacro %}

{#- The landing days of `feed` that a load, a re-validation or an erasure changed (audit.raw_changes, written by
    ingestion/warehouse.py `log_raw_changes`) since the newest delivery this model holds: a change stamped at or
    before it was there when the model was last built. A change with no day or no feed (the log's first row, on
    a warehouse older than the log) is every day: none in the list. `since`: that newest delivery, when the caller
    has read it already (newest_loaded_at). -#}
{% macro changed_landing_days(feed, since=none) -%}
    {{ return(run_query(
        "select distinct load_date from " ~ raw_changes_log() ~ " where coalesce(feed, '" ~ feed ~ "') = '" ~ feed ~ "'"
        ~ " and changed_at > " ~ (since or newest_loaded_at(this))
    ).columns[0].values() | list) }}
{%- endmacro %}

{#- Whether audit.raw_changes logged a change to a landing day other than a load (a re-validation, an erasure)
    after `since` (a literal), in any feed. -#}
{% macro landing_revised_since(since) -%}
    {%- if not execute -%}{{ return(false) }}{%- endif -%}
    {{ return(run_query("select count(*) from " ~ raw_changes_log() ~ " where change <> 'load' and changed_at > "
                        ~ since).columns[0].values()[0] > 0) }}
{%- endmacro %}

{#- The newest change audit.raw_changes logged, as a literal (minus infinity when none). -#}
{% macro newest_raw_change() -%}
    {{ return(newest_loaded_at(raw_changes_log(), 'changed_at')) }}
{%- endmacro %}

{#- audit.raw_changes: every change to a landing day of a feed (ingestion/warehouse.py `log_raw_changes`). -#}
{% macro raw_changes_log() -%}
    {{ return(api.Relation.create(database=this.database, schema='audit', identifier='raw_changes')) }}
{%- endmacro %}

{#- The newest `_loaded_at` (or other timestamp `column`) of `relation`, as a literal (it prunes by the tables'
    zone maps, a subquery does not); minus infinity when it has none. -#}
{% macro newest_loaded_at(relation, column='_loaded_at') -%}
    {%- if not execute -%}{{ return("'-infinity'::timestamp") }}{%- endif -%}
    {%- set newest = run_query("select max(" ~ column ~ ") from " ~ relation).columns[0].values()[0] -%}
    {{ return("'-infinity'::timestamp" if newest is none else "timestamp '" ~ newest ~ "'") }}
{%- endmacro %}

{#- A filter on a landing-day column keeping `days` (changed_landing_days), as literals: a filter on them prunes
    the day-ordered raw tables, where a join to the log would read them whole. -#}
{% macro on_days(column, days) -%}
    {%- if none in days -%} true
    {%- elif days -%} {{ column }} in ({% for day in days | sort %}date '{{ day }}'{{ ", " if not loop.last }}{% endfor %})
    {%- else -%} false
    {%- endif -%}
{%- endmacro %}

{#- The natural key of an incremental staging table as its model stages it from the raw columns (column ->
    expression). `key`: one text column, put in standard form by standardise_text, or this mapping itself (a
    composite key, or a key staged otherwise: stg_order_lines' order_line_key). -#}
{% macro staged_key(key) -%}
    {{ return({key: standardise_text(key)} if key is string else key) }}
{%- endmacro %}

{#- stg_order_lines' key: an order's lines are numbered within its channel's order id. -#}
{% macro order_line_key() -%}
    {{ return({
        'order_id': standardise_text('order_id'),
        'channel': 'lower(' ~ standardise_text('channel') ~ ')',
        'line_number': 'try_cast(line_number as integer)'}) }}
{%- endmacro %}

{% macro vanished_rows() -%}
    {{ this.identifier }}__vanished
{%- endmacro %}

{% macro rows_to_rank(relation, key, vanished, feed) -%}
    {%- if is_incremental() %}
    {#- every row of a changed day, not only the newly loaded ones: a re-validation releases rows from quarantine
        that keep their old _loaded_at; ranking a day's rows again against their built rows changes nothing else #}
    select * from {{ relation }}
    where _loaded_at > (select coalesce(max(_loaded_at), '-infinity'::timestamp) from {{ this }})
       or {{ on_days('_load_date', changed_landing_days(feed)) }}
    union all
    {%- set staged = staged_key(key) %}
    select * from {{ relation }}
    where ({{ staged.values() | join(', ') }}) in (select {{ staged.keys() | join(', ') }} from {{ vanished }})
    {%- else %}
    select * from {{ relation }}
    {%- endif %}
{%- endmacro %}

{% macro latest_delivery(relation, key, vanished) -%}
    {%- set columns = staged_key(key).keys() | join(', ') %}
    select * from (
        select * from {{ relation }}
        {%- if is_incremental() %}
        union all by name
        select * from {{ this }}
        where ({{ columns }}) in (select {{ columns }} from {{ relation }})
          and ({{ columns }}) not in (select {{ columns }} from {{ vanished }})
        {%- endif %}
    )
    {{ latest_per_key(columns) }}
{%- endmacro %}

{#- Post-hook of an incremental staging table: drop the vanished rows whose raw row is gone and that no other
    delivery replaced (delete+insert only replaces the keys it inserts). Here the key is compared in its standard
    form: a key typed with spaces was ranked again, not lost. Most builds find no vanished row and skip this. -#}
{% macro delete_vanished_rows(feed, key) -%}
    {%- if config.get('materialized') == 'incremental' and execute
          and run_query('select count(*) from ' ~ vanished_rows()).rows[0][0] > 0 -%}
    {%- set staged = staged_key(key) %}
    delete from {{ this }} where (_source_file, _row_number, {{ staged.keys() | join(', ') }}) in (
        select (vanished._source_file, vanished._row_number
                {%- for column in staged %}, vanished.{{ column }}{% endfor %})
        from {{ vanished_rows() }} as vanished
        anti join (
            select _source_file, _row_number
                {%- for column, expression in staged.items() %}, {{ expression }} as {{ column }}{% endfor %}
            from ({{ passed_rows(feed) }})
        ) as passed
            on passed._source_file = vanished._source_file and passed._row_number = vanished._row_number
            {%- for column in staged %}
            and passed.{{ column }} = vanished.{{ column }}
            {%- endfor %})
    {%- endif -%}
{%- endmacro %}

{#- Post-hook of an incremental model upserted from `current` (a relation or a parenthesised query, one row per key;
    `key` one column or a list): after the upsert every current key is in the table, so a part (a value of
    `part`: for fct_touchpoints, a feed) holds rows whose key is gone exactly when it has more rows in the table
    than in `current`. Only those parts are searched: at 100k customers the counts cost 0.1-0.2 s and the search
    of the one part a day usually changes (crm_contacts, whose key carries the update time) 0.05 s, where an
    anti-join over every row of fct_touchpoints cost 1.5 s. -#}
{% macro delete_stale_rows(key, current, part) -%}
    {%- if config.get('materialized') == 'incremental' and execute -%}
    {%- set columns = key if key is string else key | join(', ') -%}
    {%- set differing = run_query(
        'select coalesce(built.' ~ part ~ ', now.' ~ part ~ ') as part'
        ~ ' from (select ' ~ part ~ ', count(*) as n from ' ~ this ~ ' group by all) as built'
        ~ ' full join (select ' ~ part ~ ', count(*) as n from ' ~ current ~ ' group by all) as now'
        ~ ' on now.' ~ part ~ ' = built.' ~ part ~ ' where built.n is distinct from now.n'
    ).columns[0].values() | list -%}
    {%- if differing -%}
    {%- set parts = "'" ~ differing | join("', '") ~ "'" -%}
    {{ delete_logged(part ~ ' in (' ~ parts ~ ') and (' ~ columns ~ ') not in (select ' ~ columns ~ ' from '
                     ~ current ~ ' where ' ~ part ~ ' in (' ~ parts ~ '))') }}
    {%- endif -%}
    {%- endif -%}
{%- endmacro %}
