-- One row per payment (a split order has two).
select
    payment_id,
    order_id,
    payment_method,
    amount,
    paid_at
from {{ ref('raw_payments') }}
