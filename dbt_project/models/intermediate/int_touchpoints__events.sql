{#- Every event of every feed, one row each, keyed feed:event_id, with the record key it contributes to
    int_customer_records (a view; macros/touchpoints.sql). Counting it is cheap: fct_touchpoints' post-hook
    compares its rows per feed with the fact's to learn in which feeds an event vanished. -#}
{{ config(materialized='view') }}

{{ touchpoint_events() }}
