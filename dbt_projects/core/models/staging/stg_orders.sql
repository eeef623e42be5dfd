-- One row per order; the timestamp keeps its name as ordered_at and order_date is its day.
select
    order_id,
    customer_id,
    order_date as ordered_at,
    cast(order_date as date) as order_date,
    status,
    shipping_country,
    channel
from {{ ref('raw_orders') }}
