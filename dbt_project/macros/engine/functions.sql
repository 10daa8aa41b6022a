{#- The SQL that DuckDB and Spark spell differently, one macro each, dispatched on the adapter (duckdb__ / spark__).
    Everything else in the models is SQL both engines read alike (QUALIFY needs Spark 4.2+, see docs/scale-out.md). -#}

{#- A text as an SQL string literal: quotes doubled on both; Spark also reads a backslash as an escape ('\s' is
    's' there), so its backslashes are doubled. Regular expressions go through this, never as bare literals. -#}
{% macro sql_string(text) %}{{ return(adapter.dispatch('sql_string')(text)) }}{% endmacro %}
{% macro duckdb__sql_string(text) %}'{{ text | replace("'", "''") }}'{% endmacro %}
{% macro spark__sql_string(text) %}'{{ text | replace("\\", "\\\\") | replace("'", "''") }}'{% endmacro %}

{#- Does the whole value match the regular expression? -#}
{% macro full_match(value, pattern) %}{{ return(adapter.dispatch('full_match')(value, pattern)) }}{% endmacro %}
{% macro duckdb__full_match(value, pattern) %}regexp_full_match({{ value }}, {{ sql_string(pattern) }}){% endmacro %}
{% macro spark__full_match(value, pattern) %}({{ value }} rlike {{ sql_string('^(?:' ~ pattern ~ ')$') }}){% endmacro %}

{#- Every match of the pattern replaced (DuckDB replaces the first unless told 'g'). -#}
{% macro replace_all(value, pattern, replacement) %}{{ return(adapter.dispatch('replace_all')(value, pattern, replacement)) }}{% endmacro %}
{% macro duckdb__replace_all(value, pattern, replacement) %}regexp_replace({{ value }}, {{ sql_string(pattern) }}, {{ sql_string(replacement) }}, 'g'){% endmacro %}
{% macro spark__replace_all(value, pattern, replacement) %}regexp_replace({{ value }}, {{ sql_string(pattern) }}, {{ sql_string(replacement) }}){% endmacro %}

{#- Accents removed from Latin letters. Spark has no such function: the letters of Latin-1 and Latin Extended A/B
    that decompose into an ASCII letter and combining marks (Unicode NFD, as DuckDB's strip_accents) are mapped. -#}
{% macro strip_accents(value) %}{{ return(adapter.dispatch('strip_accents')(value)) }}{% endmacro %}
{% macro duckdb__strip_accents(value) %}strip_accents({{ value }}){% endmacro %}
{% macro spark__strip_accents(value) -%}
    translate({{ value }},
        'ÀÁÂÃÄÅÇÈÉÊËÌÍÎÏÑÒÓÔÕÖÙÚÛÜÝàáâãäåçèéêëìíîïñòóôõöùúûüýÿĀāĂăĄąĆćĈĉĊċČčĎďĒēĔĕĖėĘęĚěĜĝĞğĠġĢģĤĥĨĩĪīĬĭĮįİĴĵĶķĹĺĻļĽľŃńŅņŇňŌōŎŏŐőŔŕŖŗŘřŚśŜŝŞşŠšŢţŤťŨũŪūŬŭŮůŰűŲųŴŵŶŷŸŹźŻżŽžƠơƯưǍǎǏǐǑǒǓǔǕǖǗǘǙǚǛǜǞǟǠǡǦǧǨǩǪǫǬǭǰǴǵǸǹǺǻȀȁȂȃȄȅȆȇȈȉȊȋȌȍȎȏȐȑȒȓȔȕȖȗȘșȚțȞȟȦȧȨȩȪȫȬȭȮȯȰȱȲȳ',
        'AAAAAACEEEEIIIINOOOOOUUUUYaaaaaaceeeeiiiinooooouuuuyyAaAaAaCcCcCcCcDdEeEeEeEeEeGgGgGgGgHhIiIiIiIiIJjKkLlLlLlNnNnNnOoOoOoRrRrRrSsSsSsSsTtTtUuUuUuUuUuUuWwYyYZzZzZzOoUuAaIiOoUuUuUuUuUuAaAaGgKkOoOojGgNnAaAaAaEeEeIiIiOoOoRrRrUuUuSsTtHhAaEeOoOoOoOoYy')
{%- endmacro %}

{#- Each space-separated word with its first letter in upper case, the rest as it was. -#}
{% macro capitalise_words(value) %}{{ return(adapter.dispatch('capitalise_words')(value)) }}{% endmacro %}
{% macro duckdb__capitalise_words(value) %}array_to_string(list_transform(string_split({{ value }}, ' '), w -> upper(w[1]) || w[2:]), ' '){% endmacro %}
{% macro spark__capitalise_words(value) %}array_join(transform(split({{ value }}, ' '), w -> upper(substr(w, 1, 1)) || substr(w, 2)), ' '){% endmacro %}

{#- The distinct non-null values of a group, sorted, null when there are none; `where` filters the rows first. -#}
{% macro sorted_set(value, where=none) %}{{ return(adapter.dispatch('sorted_set')(value, where)) }}{% endmacro %}
{% macro duckdb__sorted_set(value, where) -%}
    list(distinct {{ value }} order by {{ value }}) filter (where {{ value }} is not null{{ " and (" ~ where ~ ")" if where }})
{%- endmacro %}
{% macro spark__sorted_set(value, where) -%}
    {%- set values = "collect_set(" ~ value ~ ")" ~ (" filter (where " ~ where ~ ")" if where else "") -%}
    case when size({{ values }}) > 0 then array_sort({{ values }}) end
{%- endmacro %}

{#- The values of a group (with repeats, in no set order): e.g. the nulled columns of one row. -#}
{% macro collect(value) %}{{ return(adapter.dispatch('collect')(value)) }}{% endmacro %}
{% macro duckdb__collect(value) %}list({{ value }}){% endmacro %}
{% macro spark__collect(value) %}collect_list({{ value }}){% endmacro %}

{#- The n-th value (1-based) of a group in the order of `order_by`. -#}
{% macro nth_value_by(value, order_by, n) %}{{ return(adapter.dispatch('nth_value_by')(value, order_by, n)) }}{% endmacro %}
{% macro duckdb__nth_value_by(value, order_by, n) %}(list({{ value }} order by {{ order_by }}))[{{ n }}]{% endmacro %}
{% macro spark__nth_value_by(value, order_by, n) -%}
    element_at(array_sort(collect_list(named_struct('k', {{ order_by }}, 'v', {{ value }}))), {{ n }}).v
{%- endmacro %}

{#- An array literal of the non-null values among `values` (a list of SQL expressions). -#}
{% macro array_of_present(values) %}{{ return(adapter.dispatch('array_of_present')(values)) }}{% endmacro %}
{% macro duckdb__array_of_present(values) %}list_filter(list_value({{ values | join(', ') }}), item -> item is not null){% endmacro %}
{% macro spark__array_of_present(values) %}filter(array({{ values | join(', ') }}), item -> item is not null){% endmacro %}

{#- Does the array hold the value? -#}
{% macro array_has(array, value) %}array_contains({{ array }}, {{ value }}){% endmacro %}

{#- An array of text literals. -#}
{% macro array_literal(items) %}{{ return(adapter.dispatch('array_literal')(items)) }}{% endmacro %}
{% macro duckdb__array_literal(items) %}[{% for item in items %}{{ sql_string(item) }}{{ ", " if not loop.last }}{% endfor %}]{% endmacro %}
{% macro spark__array_literal(items) %}array({% for item in items %}{{ sql_string(item) }}{{ ", " if not loop.last }}{% endfor %}){% endmacro %}

{#- The n-th (1-based) element of an array, null past its end. -#}
{% macro element(array, n) %}{{ return(adapter.dispatch('element')(array, n)) }}{% endmacro %}
{% macro duckdb__element(array, n) %}({{ array }})[{{ n }}]{% endmacro %}
{% macro spark__element(array, n) %}element_at({{ array }}, cast({{ n }} as int)){% endmacro %}

{#- The text split at each `delimiter` (one character) into an array. -#}
{% macro split_text(value, delimiter) %}{{ return(adapter.dispatch('split_text')(value, delimiter)) }}{% endmacro %}
{% macro duckdb__split_text(value, delimiter) %}string_split({{ value }}, {{ sql_string(delimiter) }}){% endmacro %}
{% macro spark__split_text(value, delimiter) %}split({{ value }}, {{ sql_string('[' ~ delimiter ~ ']') }}){% endmacro %}

{#- The 1-based position of `value` among the text literals `items`, null when absent. -#}
{% macro position_in(items, value) %}{{ return(adapter.dispatch('position_in')(items, value)) }}{% endmacro %}
{% macro duckdb__position_in(items, value) %}list_position({{ array_literal(items) }}, {{ value }}){% endmacro %}
{% macro spark__position_in(items, value) %}nullif(array_position({{ array_literal(items) }}, {{ value }}), 0){% endmacro %}

{#- Calendar days from `start` to `end` (day boundaries crossed, as dates). -#}
{% macro days_between(start, end) %}{{ return(adapter.dispatch('days_between')(start, end)) }}{% endmacro %}
{% macro duckdb__days_between(start, end) %}date_diff('day', {{ start }}, {{ end }}){% endmacro %}
{% macro spark__days_between(start, end) %}datediff(cast({{ end }} as date), cast({{ start }} as date)){% endmacro %}

{#- Calendar months from `start` to `end` (month boundaries crossed). -#}
{% macro months_between_dates(start, end) %}{{ return(adapter.dispatch('months_between_dates')(start, end)) }}{% endmacro %}
{% macro duckdb__months_between_dates(start, end) %}date_diff('month', {{ start }}, {{ end }}){% endmacro %}
{% macro spark__months_between_dates(start, end) -%}
    ((year({{ end }}) * 12 + month({{ end }})) - (year({{ start }}) * 12 + month({{ start }})))
{%- endmacro %}

{#- Exact hours from `start` to `end`, with fractions. -#}
{% macro hours_between(start, end) %}{{ return(adapter.dispatch('hours_between')(start, end)) }}{% endmacro %}
{% macro duckdb__hours_between(start, end) %}(epoch({{ end }} - {{ start }}) / 3600.0){% endmacro %}
{% macro spark__hours_between(start, end) %}(cast(timestampdiff(MICROSECOND, {{ start }}, {{ end }}) as double) / 3600000000){% endmacro %}

{#- The timestamp as yyyymmddhhmmss text. -#}
{% macro timestamp_digits(value) %}{{ return(adapter.dispatch('timestamp_digits')(value)) }}{% endmacro %}
{% macro duckdb__timestamp_digits(value) %}strftime({{ value }}, '%Y%m%d%H%M%S'){% endmacro %}
{% macro spark__timestamp_digits(value) %}date_format({{ value }}, 'yyyyMMddHHmmss'){% endmacro %}

{#- The first day of the value's month, as a date. -#}
{% macro month_start(value) %}{{ return(adapter.dispatch('month_start')(value)) }}{% endmacro %}
{% macro duckdb__month_start(value) %}date_trunc('month', {{ value }})::date{% endmacro %}
{% macro spark__month_start(value) %}trunc(cast({{ value }} as date), 'MM'){% endmacro %}

{#- One row per month start from `first` to `last` (both month starts), as a select-list expression. -#}
{% macro each_month(first, last) %}{{ return(adapter.dispatch('each_month')(first, last)) }}{% endmacro %}
{% macro duckdb__each_month(first, last) %}unnest(generate_series({{ first }}, {{ last }}, interval 1 month))::date{% endmacro %}
{% macro spark__each_month(first, last) %}explode(sequence(cast({{ first }} as date), cast({{ last }} as date), interval 1 month)){% endmacro %}

{#- One row per integer from `first` to `last`, as a select-list expression. -#}
{% macro each_integer(first, last) %}{{ return(adapter.dispatch('each_integer')(first, last)) }}{% endmacro %}
{% macro duckdb__each_integer(first, last) %}unnest(range({{ first }}, {{ last }} + 1)){% endmacro %}
{% macro spark__each_integer(first, last) %}explode(sequence({{ first }}, {{ last }})){% endmacro %}

{#- One row per element of the array `value`, as a select-list expression. -#}
{% macro each_element(value) %}{{ return(adapter.dispatch('each_element')(value)) }}{% endmacro %}
{% macro duckdb__each_element(value) %}unnest({{ value }}){% endmacro %}
{% macro spark__each_element(value) %}explode({{ value }}){% endmacro %}

{#- Continuous and discrete quantiles (linear interpolation / the first value at or above the fraction). -#}
{% macro quantile_continuous(value, fraction) %}{{ return(adapter.dispatch('quantile_continuous')(value, fraction)) }}{% endmacro %}
{% macro duckdb__quantile_continuous(value, fraction) %}quantile_cont({{ value }}, {{ fraction }}){% endmacro %}
{% macro spark__quantile_continuous(value, fraction) %}percentile({{ value }}, {{ fraction }}){% endmacro %}
{% macro quantile_discrete(value, fraction) %}{{ return(adapter.dispatch('quantile_discrete')(value, fraction)) }}{% endmacro %}
{% macro duckdb__quantile_discrete(value, fraction) %}quantile_disc({{ value }}, {{ fraction }}){% endmacro %}
{% macro spark__quantile_discrete(value, fraction) %}percentile_disc({{ fraction }}) within group (order by {{ value }}){% endmacro %}

{#- md5 of the text as an unsigned 128-bit little-endian integer (DuckDB's md5_number), modulo `modulus`
    (at most 10^6). Spark has no 128-bit integers: the two 64-bit halves, hi * 2^64 + lo, are reduced apart. -#}
{% macro md5_modulo(value, modulus) %}{{ return(adapter.dispatch('md5_modulo')(value, modulus)) }}{% endmacro %}
{% macro duckdb__md5_modulo(value, modulus) %}(md5_number({{ value }}) % {{ modulus }}){% endmacro %}
{% macro spark__md5_modulo(value, modulus) -%}
    {%- set digest = "md5(" ~ value ~ ")" -%}
    {%- set halves = [] -%}
    {%- for first_byte in [8, 0] -%}
        {%- set pairs = [] -%}
        {%- for byte in range(first_byte + 7, first_byte - 1, -1) -%}
            {%- do pairs.append("substr(" ~ digest ~ ", " ~ (2 * byte + 1) ~ ", 2)") -%}
        {%- endfor -%}
        {%- do halves.append("pmod(cast(conv(concat(" ~ pairs | join(", ") ~ "), 16, 10) as decimal(20, 0)), " ~ modulus ~ ")") -%}
    {%- endfor -%}
    cast(pmod({{ halves[0] }} * {{ 18446744073709551616 % modulus }} + {{ halves[1] }}, {{ modulus }}) as bigint)
{%- endmacro %}

{#- Statements a build runs first: DuckDB's memory limit; nothing on Spark, whose settings are its cluster's. -#}
{% macro session_settings() %}{{ return(adapter.dispatch('session_settings')()) }}{% endmacro %}
{% macro duckdb__session_settings() %}{{ apply_memory_limit() }}{% endmacro %}
{% macro default__session_settings() %}{% endmacro %}

{#- The timestamp `hours` (a whole number) later. -#}
{% macro add_hours(value, hours) %}{{ return(adapter.dispatch('add_hours')(value, hours)) }}{% endmacro %}
{% macro duckdb__add_hours(value, hours) %}({{ value }} + to_hours({{ hours }})){% endmacro %}
{% macro spark__add_hours(value, hours) %}timestampadd(HOUR, {{ hours }}, {{ value }}){% endmacro %}

{#- Division and mean of money (decimals) as doubles on both engines: DuckDB returns a double, Spark a decimal
    whose scale its precision rules can cut to 6 digits (a share of revenue of 0.078855 instead of 0.0788549...). -#}
{% macro ratio(numerator, denominator) %}{{ return(adapter.dispatch('ratio')(numerator, denominator)) }}{% endmacro %}
{% macro duckdb__ratio(numerator, denominator) %}({{ numerator }}) / ({{ denominator }}){% endmacro %}
{% macro spark__ratio(numerator, denominator) %}cast({{ numerator }} as double) / ({{ denominator }}){% endmacro %}
{% macro mean(value) %}{{ return(adapter.dispatch('mean')(value)) }}{% endmacro %}
{% macro duckdb__mean(value) %}avg({{ value }}){% endmacro %}
{% macro spark__mean(value) %}avg(cast({{ value }} as double)){% endmacro %}

{#- A 64-bit hash of the values of one row (the expressions in `values`), to compare sets of rows by their sum. -#}
{% macro row_hash(values) %}{{ return(adapter.dispatch('row_hash')(values)) }}{% endmacro %}
{% macro duckdb__row_hash(values) %}hash({{ values | join(', ') }}){% endmacro %}
{% macro spark__row_hash(values) %}xxhash64({{ values | join(', ') }}){% endmacro %}
