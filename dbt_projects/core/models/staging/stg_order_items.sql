-- One row per order line, with the revenue rule of the sample data's README.
select
    order_item_id,
    order_id,
    product_id,
    quantity,
    unit_price,
    discount,
    round(quantity * unit_price * (1 - discount), 2) as line_revenue
from {{ ref('raw_order_items') }}
