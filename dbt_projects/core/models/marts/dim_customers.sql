-- One row per customer with their order history summarised (cancelled orders do not count).
with orders as (
    select
        customer_id,
        count(*) as order_count,
        min(ordered_at) as first_order_at,
        max(ordered_at) as last_order_at,
        sum(order_total) as lifetime_revenue
    from {{ ref('fct_orders') }}
    where status <> 'cancelled'
    group by customer_id
)

select
    c.customer_id,
    c.full_name,
    c.email,
    c.country,
    c.city,
    c.segment,
    c.signup_date,
    o.first_order_at,
    o.last_order_at,
    coalesce(o.order_count, 0) as order_count,
    coalesce(o.lifetime_revenue, 0) as lifetime_revenue
from {{ ref('stg_customers') }} as c
left join orders as o on o.customer_id = c.customer_id
