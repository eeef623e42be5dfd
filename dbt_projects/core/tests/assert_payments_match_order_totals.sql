-- Every order that was not cancelled is paid in full: payments add up to the order's total.
-- Returns the orders that break the rule (the test fails when any row comes back).
select order_id, order_total, amount_paid
from {{ ref('fct_orders') }}
where status <> 'cancelled'
  and abs(amount_paid - order_total) >= 0.01
