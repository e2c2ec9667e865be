"""Measure orderreport against the best hand-written SQL on a million-order shop.

    uv run python bench/bench.py                 # embedded server in $TMPDIR/orderreport-bench
    ORDERREPORT_BENCH_DATABASE_URL=postgresql://... uv run python bench/bench.py

The shop is `orderreport demo --days 365 --orders-per-day 2740` (1,000,100 orders, about two
lines each), loaded once and kept. Each case runs ours and the hand-written SQL alternately,
`--repeat` times, and reports medians and the ratio ours/hand from that one run: the machines
are shared and noisy, so compare ratios, not absolute times across runs. The hand-written
side computes the day's bounds in Python and filters orders.created_at directly: what a
careful person would write in psql.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg
from sqlalchemy import text

from orderreport import daily, db, output, queries
from orderreport.config import Settings, load_settings

TZ = "Europe/Moscow"
DAYS, PER_DAY = 365, 2740

HAND_DAY_SUMMARY = """
SELECT count(*), coalesce(sum(n), 0), round(coalesce(sum(total_amount), 0), 2),
       round(coalesce(avg(n), 0), 2), round(coalesce(avg(total_amount), 0), 2)
FROM (SELECT o.total_amount, (SELECT count(*) FROM order_items i WHERE i.order_id = o.id) AS n
      FROM orders o WHERE o.created_at >= %(lo)s AND o.created_at < %(hi)s) t
"""
HAND_DAY_REPORT = """
SELECT %(day)s::date, o.id, (SELECT count(*) FROM order_items i WHERE i.order_id = o.id),
       o.total_amount
FROM orders o WHERE o.created_at >= %(lo)s AND o.created_at < %(hi)s ORDER BY o.id
"""
HAND_RANGE = """
SELECT d::date, count(t.total_amount), coalesce(sum(t.n), 0),
       round(coalesce(sum(t.total_amount), 0), 2), round(coalesce(avg(t.n), 0), 2),
       round(coalesce(avg(t.total_amount), 0), 2)
FROM generate_series(%(first)s::date, %(last)s::date, interval '1 day') d
LEFT JOIN (SELECT o.created_at::date AS day, o.total_amount,
                  (SELECT count(*) FROM order_items i WHERE i.order_id = o.id) AS n
           FROM orders o WHERE o.created_at >= %(lo)s AND o.created_at < %(hi)s) t
       ON t.day = d::date
GROUP BY d ORDER BY d
"""
HAND_STORE = """
INSERT INTO orderreport.daily_reports (report_date, time_zone, total_orders, total_products,
       total_value, average_products_per_order, average_order_value, generated_at)
SELECT d::date, 'bench-hand', count(t.total_amount), coalesce(sum(t.n), 0),
       round(coalesce(sum(t.total_amount), 0), 2), round(coalesce(avg(t.n), 0), 2),
       round(coalesce(avg(t.total_amount), 0), 2), now()
FROM generate_series(%(first)s::date, %(last)s::date, interval '1 day') d
LEFT JOIN (SELECT o.created_at::date AS day, o.total_amount,
                  (SELECT count(*) FROM order_items i WHERE i.order_id = o.id) AS n
           FROM orders o WHERE o.created_at >= %(lo)s AND o.created_at < %(hi)s) t
       ON t.day = d::date
GROUP BY d
ON CONFLICT (time_zone, report_date) DO UPDATE SET total_orders = excluded.total_orders,
    total_products = excluded.total_products, total_value = excluded.total_value,
    average_products_per_order = excluded.average_products_per_order,
    average_order_value = excluded.average_order_value, generated_at = excluded.generated_at
"""
HAND_ALL = """
COPY (SELECT o.created_at::date, o.id, count(i.id), o.total_amount
      FROM orders o LEFT JOIN order_items i ON i.order_id = o.id
      GROUP BY o.id ORDER BY 1 DESC, 2) TO STDOUT
"""


class Null(io.StringIO):
    """A stdout that keeps nothing: we measure producing the text, not storing it."""

    def write(self, s: str) -> int:
        return len(s)


def bounds(first: date, last: date) -> dict[str, object]:
    zone = ZoneInfo(TZ)
    return {
        "first": first,
        "last": last,
        "day": first,
        "lo": datetime.combine(first, dtime(), zone),
        "hi": datetime.combine(last + timedelta(days=1), dtime(), zone),
    }


def median_ms(fn: Callable[[], object], samples: list[float]) -> None:
    started = time.perf_counter()
    fn()
    samples.append((time.perf_counter() - started) * 1000)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=9)
    args = parser.parse_args()

    env = dict(os.environ)
    url = env.get("ORDERREPORT_BENCH_DATABASE_URL")
    if url:
        env["ORDERREPORT_DATABASE_URL"] = url
    else:
        home = Path(tempfile.gettempdir()) / "orderreport-bench"
        home.mkdir(exist_ok=True)
        home.chmod(0o755)
        env["ORDERREPORT_HOME"] = str(home)
        os.environ["ORDERREPORT_HOME"] = str(home)
    env["ORDERREPORT_TZ"] = TZ
    settings: Settings = load_settings(database_url=url, tz=TZ)
    cli = [sys.executable, "-m", "orderreport"]

    subprocess.run([*cli, "migrate"], env=env, check=True, capture_output=True)
    with db.connect(settings) as check:
        loaded = bool(check.execute(text("SELECT EXISTS (SELECT 1 FROM orders)")).scalar())
    if not loaded:
        started = time.perf_counter()
        subprocess.run([*cli, "demo", "--days", str(DAYS), "--orders-per-day", str(PER_DAY),
                        "--json"], env=env, check=True, stdout=subprocess.DEVNULL)  # fmt: skip
        print(f"loaded the shop (demo, {DAYS * PER_DAY:,} orders, daily over {DAYS} days) "
              f"in {time.perf_counter() - started:.1f} s", file=sys.stderr)  # fmt: skip

    with db.connect(settings) as conn:
        last_day = conn.execute(text("SELECT max(created_at)::date - 1 FROM orders")).scalar_one()
    day = last_day - timedelta(days=100)
    month = (day - timedelta(days=30), day)
    results: list[tuple[str, float, float]] = []

    with db.connect(settings) as held:  # keeps an embedded server up for both sides
        dsn = held.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        with (
            db.shop_session(settings) as (s, shop),
            psycopg.connect(dsn, autocommit=True) as hand,
        ):
            hand.execute(f"SET TIME ZONE '{TZ}'")
            cases: list[tuple[str, Callable[[], object], Callable[[], object]]] = [
                ("summary, one day", lambda: queries.summary(s, shop, day),
                 lambda: hand.execute(HAND_DAY_SUMMARY, bounds(day, day)).fetchall()),
                ("report, one day (2,740 rows)",
                 lambda: list(queries.report_rows(s, shop, day, day)),
                 lambda: hand.execute(HAND_DAY_REPORT, bounds(day, day)).fetchall()),
                ("summary, 31 days", lambda: queries.summaries(s, shop, *month),
                 lambda: hand.execute(HAND_RANGE, bounds(*month)).fetchall()),
                ("daily, store 31 days", lambda: list(daily.store_days(s, shop, *month)),
                 lambda: hand.execute(HAND_STORE, bounds(*month))),
            ]  # fmt: skip
            for name, ours, theirs in cases:
                a: list[float] = []
                b: list[float] = []
                ours(), theirs()  # warm caches
                for _ in range(args.repeat):
                    median_ms(ours, a)
                    median_ms(theirs, b)
                results.append((name, statistics.median(a), statistics.median(b)))

            def stream_all() -> None:
                output.write_jsonl(
                    queries.report_rows(s, shop, None, None), queries.REPORT_FIELDS, Null()
                )

            def copy_all() -> None:
                with hand.cursor().copy(HAND_ALL) as copy:
                    for _ in copy:
                        pass

            a, b = [], []
            for _ in range(3):
                median_ms(stream_all, a)
                median_ms(copy_all, b)
            results.append(
                ("report --all as JSONL (1M rows)", statistics.median(a), statistics.median(b))
            )

    # whole commands, process start included, against the same query in-process
    a, b = [], []
    for _ in range(5):
        median_ms(lambda: subprocess.run([*cli, "summary", "--date", day.isoformat(), "--json"],
                                         env=env, check=True, capture_output=True), a)  # fmt: skip
    results.append(("`orderreport summary` process", statistics.median(a), results[0][2]))

    print("| case | orderreport ms (median) | hand-written SQL ms (median) | ratio |")
    print("|---|---:|---:|---:|")
    for name, ours_ms, hand_ms in results:
        print(f"| {name} | {ours_ms:,.1f} | {hand_ms:,.1f} | {ours_ms / hand_ms:.2f} |")


if __name__ == "__main__":
    main()
