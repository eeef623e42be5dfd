-- Revenue per day, built incrementally: a run only recomputes the last loaded day and newer ones.
{{
    config(
        materialized='incremental',
        unique_key='order_date',
        incremental_strategy='delete+insert'
    )
}}

select
    order_date,
    count(*) as order_count,
    sum(order_total) as revenue
from {{ ref('fct_orders') }}
where status <> 'cancelled'
{% if is_incremental() %}
    and order_date >= (select max(order_date) from {{ this }})
{% endif %}
group by order_date
