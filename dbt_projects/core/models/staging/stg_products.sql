-- One row per product with its list price, cost and unit margin.
select
    product_id,
    product_name,
    category,
    unit_price,
    cost,
    unit_price - cost as unit_margin,
    is_active
from {{ ref('raw_products') }}
