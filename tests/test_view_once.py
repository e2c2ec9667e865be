"""An amount (or currency) read from another relation is computed once per order (0008).

A summary uses the amount in SUM and AVG. Put as a subquery in the view's select list the
planner copies it into each: Medusa's order_summary was read twice per order. The plan of a
day's summary is read: one scan of that relation, whatever the aggregates; at 0007 (the
form before) two. A query source's lines count likewise. The figures are the same.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy.engine import URL

from orderreport.config.settings import load_settings
from orderreport.objects import SCHEMA_HEAD
from orderreport.reports import queries
from orderreport.schema import migrate
from tests import sales
from tests.conftest import plain, run_cli, url_text
from tests.platforms.shops import DAYS
from tests.test_platforms import ZONE, build, cli, ok


def scans_of(url: URL, relation: str) -> int:
    """Plan nodes that read `relation` in a day's summary (queries.py's own statement)."""
    with psycopg.connect(plain(url)) as conn:
        conn.execute(f"SET TimeZone TO '{ZONE}'")
        row = conn.execute(
            "EXPLAIN (FORMAT JSON) " + queries._SUMMARIES["instant"],
            {"start": DAYS[1], "end": DAYS[1], "fallback": None},
        ).fetchone()
    assert row is not None

    def count(node: dict[str, Any]) -> int:
        own = 1 if node.get("Relation Name") == relation else 0
        return own + sum(count(child) for child in node.get("Plans", []))

    return count(row[0][0]["Plan"])


def test_medusas_amount_is_read_once_per_order(empty_url: URL) -> None:
    build(empty_url, ("medusa", "public"))
    ok(cli(empty_url, "migrate", platform="medusa"))
    day = ("summary", "--date", DAYS[1].isoformat(), "--json")
    at_head = json.loads(ok(cli(empty_url, *day, platform="medusa")))
    assert SCHEMA_HEAD == "0008"
    assert scans_of(empty_url, "order_summary") == 1
    settings = load_settings(database_url=url_text(empty_url), tz=ZONE, platform="medusa", env={})
    migrate.downgrade(settings, "0007")
    assert scans_of(empty_url, "order_summary") == 2  # SUM's copy and AVG's
    migrate.migrate(settings)
    assert scans_of(empty_url, "order_summary") == 1
    assert json.loads(ok(cli(empty_url, *day, platform="medusa"))) == at_head


def test_a_query_sources_lines_are_counted_once_per_order(empty_url: URL, tmp_path: Path) -> None:
    sales.build(empty_url)
    config = sales.config(tmp_path, "query")
    with sales.connect(empty_url) as conn:
        sales.sale(conn, sales.noon(DAYS[1]), "10.00", "EUR", lines=2)
    args = ("--database-url", url_text(empty_url), "--config", str(config))
    assert run_cli("migrate", *args).code == 0
    assert scans_of(empty_url, "sale_lines") == 1
