"""The bench keeps working (a smoke run on a tiny shop), and what it measures holds without
timing anything: the plans of a day and a month read orders and order_items through their
indexes, and on orders partitioned by month `migrate` works and a day reads one partition.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import URL

from bench.shops import month_starts, partition_name, partitioned_ddl
from orderreport.reports import queries, session
from tests.conftest import REPO, plain, run_cli, settings_for, subprocess_env, url_text

# Every figure of the bench's table, as its first column starts.
FIGURES = [
    "`orderreport --version` (process)",
    "`summary --date D --json` (process)",
    "… of which the imports alone: psycopg, Typer (process)",
    "31-day summary through `orderreport.order_reports` (server)",
    "one-day summary through `orderreport.order_reports` (server)",
    "365-day summary through `orderreport.order_reports` (server)",
    "`report --all --format csv`, 200 rows (process)",
    "`report --all --format csv`, 200 rows (process): peak memory (RSS)",
    "… of which the server: orderreport's COPY query, run by psql (process)",
    "`daily --from --to`, 365 days into daily_reports (process)",
    "`demo`, 200 orders (process, once)",
    "one-day `summary`, tiny orders (server)",
    "one-day `report`, tiny orders (server)",
    "plans of the one-day and 31-day summaries",
    "partitioned `orders`: `migrate` (process)",
    "partitioned: partitions a one-day summary reads",
    "partitioned: partitions a 31-day summary reads",
    "partitioned: one-day summary (server)",
    "partitioned: 31-day summary (server)",
]
# Checks rather than comparisons: they have no reference, so no ratio.
CHECKS = {FIGURES[i] for i in (10, 13, 14, 15, 16)}
RATIO = re.compile(r"^\d+\.\d\d\u00d7$")


@pytest.fixture
def siblings(server_url: URL, empty_url: URL) -> Iterator[URL]:
    """empty_url, and the databases the bench makes beside it dropped afterwards."""
    yield empty_url
    with psycopg.connect(plain(server_url), autocommit=True) as conn:
        for suffix in ("small", "part", "demo"):
            conn.execute(f'DROP DATABASE IF EXISTS "{empty_url.database}_{suffix}" WITH (FORCE)')


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_bench_runs_on_a_tiny_shop(siblings: URL, tmp_path: Path) -> None:
    results = tmp_path / "RESULTS.md"
    argv = ["--orders", "tiny", "--partitioned", "--repeat", "1", "--out", str(results)]
    done = subprocess.run(
        [sys.executable, str(REPO / "bench" / "bench.py"), *argv],
        env=subprocess_env(ORDERREPORT_BENCH_DATABASE_URL=plain(siblings)),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    rows = {}
    for line in done.stdout.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split(" | ")]
        if len(cells) == 6 and cells[0] not in ("figure", "---"):
            rows[cells[0]] = cells
    assert list(rows) == FIGURES, done.stdout
    for figure, (_, ours, reference, ratio, target, met) in rows.items():
        assert ours and target and met, figure
        if figure in CHECKS:
            assert ratio == "—", figure
        else:
            assert reference != "—" and RATIO.match(ratio), (figure, reference, ratio)
    assert rows[FIGURES[14]][5] == "yes"  # migrate worked and indexed every partition
    assert rows[FIGURES[15]][1].startswith("1 of ")  # a day reads one partition
    written = results.read_text()
    for fact in ("CPU:", "memory:", "PostgreSQL: PostgreSQL", "Python:", "date:", FIGURES[0]):
        assert fact in written


def _plan(url: URL, tz: str, day: date, end: date) -> str:
    with session.shop_session(settings_for(url, tz)) as (s, _found):
        lines = s.execute(
            "EXPLAIN (FORMAT TEXT) " + queries._SUMMARIES["instant"],
            {"start": day, "end": end, "fallback": None},
        ).fetchall()
        return "\n".join(str(line[0]) for line in lines)


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_a_day_and_a_month_read_orders_and_lines_by_index(
    db_url: URL, shop: psycopg.Connection[tuple[object, ...]]
) -> None:
    # a year of 200,000 orders of two lines each: enough for the planner to weigh a scan
    shop.execute("INSERT INTO users (name, email) VALUES ('u', 'u@x')")
    shop.execute("INSERT INTO products (name, price, stock) VALUES ('p', 1.00, 5)")
    shop.execute(
        "INSERT INTO orders (user_id, total_amount, status, created_at, updated_at) "
        "SELECT (SELECT min(id) FROM users), 2.00, 'paid', "
        "TIMESTAMPTZ '2024-01-01 00:00+00' + g * INTERVAL '157 seconds', now() "
        "FROM generate_series(1, 200000) g"
    )
    shop.execute(
        "INSERT INTO order_items (order_id, product_id, quantity, price) "
        "SELECT o.id, (SELECT min(id) FROM products), 1, 1.00 FROM orders o, generate_series(1, 2)"
    )
    shop.execute("VACUUM ANALYZE orders, order_items")
    for start, end in ((date(2024, 6, 1), date(2024, 6, 1)), (date(2024, 6, 1), date(2024, 7, 1))):
        plan = _plan(db_url, "Europe/Moscow", start, end)
        assert "Seq Scan on orders" not in plan, plan
        assert "Seq Scan on order_items" not in plan, plan
        assert "ix_orders_created_at" in plan, plan
        # each order's lines counted once, not once per aggregate that uses count_product
        assert plan.count(" on order_items") == 1 and "SubPlan" not in plan, plan


_PARTITION_INDEXES = """
SELECT c.relname, bool_or(a.attname = 'created_at' AND x.indisvalid)
FROM pg_inherits i
JOIN pg_class c ON c.oid = i.inhrelid
LEFT JOIN pg_index x ON x.indrelid = c.oid
LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = x.indkey[0]
WHERE i.inhparent = 'orders'::regclass
GROUP BY c.relname ORDER BY 1
"""


def test_orders_partitioned_by_month_migrate_and_a_day_reads_its_partition(
    empty_url: URL,
) -> None:
    months = month_starts(date(2025, 1, 1), date(2025, 3, 31))
    with psycopg.connect(plain(empty_url), autocommit=True) as conn:
        conn.execute("SET TIME ZONE 'Europe/Moscow'")  # the partitions' bounds: local midnights
        for statement in partitioned_ddl(months):
            conn.execute(statement)
        conn.execute("INSERT INTO users (name, email) VALUES ('u', 'u@x')")
        conn.execute("INSERT INTO products (name, price, stock) VALUES ('p', 1.00, 5)")
        conn.execute(  # an order every 43 minutes from January 1st to March 30th
            "INSERT INTO orders (user_id, total_amount, status, created_at, updated_at) "
            "SELECT (SELECT min(id) FROM users), 2.00, 'paid', "
            "TIMESTAMPTZ '2025-01-01 00:00+03' + g * INTERVAL '43 minutes', now() "
            "FROM generate_series(0, 2999) g"
        )
        conn.execute(
            "INSERT INTO order_items (order_id, product_id, quantity, price) "
            "SELECT id, (SELECT min(id) FROM products), 1, 1.00 FROM orders"
        )
        conn.execute("ANALYZE")

    done = run_cli("migrate", "--database-url", url_text(empty_url), "--tz", "Europe/Moscow")
    assert done.code == 0, done.err

    with psycopg.connect(plain(empty_url)) as conn:
        indexed = conn.execute(_PARTITION_INDEXES).fetchall()
        that_day = conn.execute(
            "SELECT count(*) FROM orders WHERE created_at >= '2025-02-10 00:00+03' "
            "AND created_at < '2025-02-11 00:00+03'"
        ).fetchone()
    assert indexed == [(partition_name(m), True) for m in months[:-1]]

    plan = _plan(empty_url, "Europe/Moscow", date(2025, 2, 10), date(2025, 2, 10))
    assert "orders_p2025_02" in plan, plan
    assert "orders_p2025_01" not in plan and "orders_p2025_03" not in plan, plan

    day = run_cli(
        "summary",
        "--date",
        "2025-02-10",
        "--json",
        "--database-url",
        url_text(empty_url),
        "--tz",
        "Europe/Moscow",
    )
    assert day.code == 0, day.err
    assert that_day is not None and f'"total_orders": {that_day[0]},' in day.out, day.out
