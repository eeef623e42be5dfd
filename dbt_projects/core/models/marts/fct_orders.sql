-- One row per order with its basket size, total and what was paid for it.
with items as (
    select
        order_id,
        count(*) as item_count,
        sum(quantity) as units,
        sum(line_revenue) as order_total
    from {{ ref('stg_order_items') }}
    group by order_id
),

payments as (
    select order_id, sum(amount) as amount_paid
    from {{ ref('stg_payments') }}
    group by order_id
)

select
    o.order_id,
    o.customer_id,
    o.ordered_at,
    o.order_date,
    o.status,
    o.channel,
    o.shipping_country,
    coalesce(i.item_count, 0) as item_count,
    coalesce(i.units, 0) as units,
    coalesce(i.order_total, 0) as order_total,
    coalesce(p.amount_paid, 0) as amount_paid
from {{ ref('stg_orders') }} as o
left join items as i on i.order_id = o.order_id
left join payments as p on p.order_id = o.order_id
