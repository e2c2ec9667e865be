"""The reference for `orderreport summary --date D --json`: one query, the same JSON line.

(%% is psycopg's escape of a literal %: format() sees %s.)

    BENCH_DSN=postgresql://... PGTZ=Europe/Moscow python bench/ref_summary.py 2026-08-19
"""

import os
import sys

import psycopg

SQL = """
SELECT format('{"date": "%%s", "time_zone": "%%s", "currency": null, "total_orders": %%s, '
              '"total_products": %%s, "total_value": %%s, "average_products_per_order": %%s, '
              '"average_order_value": %%s}',
              %(day)s::date, current_setting('TimeZone'), count(*), coalesce(sum(n), 0),
              round(coalesce(sum(total_amount), 0), 2), round(coalesce(avg(n), 0), 2),
              round(coalesce(avg(total_amount), 0), 2))
FROM (SELECT o.total_amount, (SELECT count(*) FROM order_items i WHERE i.order_id = o.id) AS n
      FROM orders o
      WHERE o.created_at >= %(day)s::date::timestamptz
        AND o.created_at < (%(day)s::date + 1)::timestamptz) t
"""

with psycopg.connect(os.environ["BENCH_DSN"]) as conn:
    row = conn.execute(SQL, {"day": sys.argv[1]}).fetchone()
assert row is not None
print(row[0])
