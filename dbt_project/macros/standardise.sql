{#- Identifier standardisation shared by every staging model. Each returns null for blank or invalid input. -#}

{% macro standardise_email(column) -%}
    case when {{ full_match('lower(trim(' ~ column ~ '))', '[^@\\s]+@[^@\\s]+\\.[a-z]{2,}') }}
         then lower(trim({{ column }})) end
{%- endmacro %}

{% macro standardise_phone(column) -%}
    {#- To E.164. `+` or `00` start an international number; a leading 0 is a national number in the
        default country (var default_phone_country_code); a "(0)" after the country code is dropped. -#}
    {%- set digits = replace_all(column, '[^0-9]', '') -%}
    {%- set cc = var('default_phone_country_code') -%}
    nullif(regexp_extract(
        case
            when trim({{ column }}) like '+%' then '+' || regexp_replace({{ digits }}, '^{{ cc }}0', '{{ cc }}')
            when {{ digits }} like '00%' then '+' || regexp_replace(substr({{ digits }}, 3), '^{{ cc }}0', '{{ cc }}')
            when {{ digits }} like '0%' then '+{{ cc }}' || substr({{ digits }}, 2)
            when {{ digits }} like '{{ cc }}%' and length({{ digits }}) >= 11 then '+' || {{ digits }}
        end,
        {{ sql_string('^\\+[1-9][0-9]{7,14}$') }}, 0), '')
{%- endmacro %}

{% macro standardise_name(column) -%}
    {#- Matching form: accents stripped, lower case, single spaces, letters, spaces, hyphens, apostrophes. -#}
    {%- set letters = replace_all('lower(' ~ strip_accents(column) ~ ')', "[^a-z\\s'-]", '') -%}
    nullif(trim({{ replace_all(letters, '\\s+', ' ') }}), '')
{%- endmacro %}

{% macro proper_case(column) -%}
    {#- Display form of a standardised name: each word capitalised. -#}
    {{ capitalise_words(column) }}
{%- endmacro %}

{% macro standardise_postcode(column) -%}
    {#- UK style: upper case, one space before the inward code (last three characters). -#}
    {%- set compact = "upper(" ~ replace_all(column, '[^A-Za-z0-9]', '') ~ ")" -%}
    case when length({{ compact }}) between 5 and 7
         then left({{ compact }}, length({{ compact }}) - 3) || ' ' || right({{ compact }}, 3)
         else nullif({{ compact }}, '') end
{%- endmacro %}

{% macro standardise_text(column) -%}
    nullif(trim({{ column }}), '')
{%- endmacro %}
