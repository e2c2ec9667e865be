"""The platform bench keeps working: on tiny shops of three platforms (their own DDL, filled
set-based), orderreport's day and the hand-written query give the same answer on the
server and as processes, and a query source gives the preset's answer. Timings are never
asserted here: the bench's figures are in bench/RESULTS.md.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import URL

from tests.conftest import REPO, plain, subprocess_env

PLATFORMS = ("saleor", "solidus", "medusa")
QUERY = ("solidus",)


@pytest.fixture
def siblings(server_url: URL, empty_url: URL) -> Iterator[URL]:
    """empty_url, and the databases the bench makes beside it dropped afterwards."""
    yield empty_url
    with psycopg.connect(plain(server_url), autocommit=True) as conn:
        for name in PLATFORMS:
            for suffix in ("", "_query"):
                conn.execute(
                    f'DROP DATABASE IF EXISTS "{empty_url.database}_{name}{suffix}" WITH (FORCE)'
                )


def rows_of(table: str) -> dict[str, list[str]]:
    """A markdown table's rows by their first cell."""
    found = {}
    for line in table.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split(" | ")]
        if len(cells) > 1 and cells[0] not in ("platform", "---") and not line.startswith("|-"):
            found[cells[0]] = cells
    return found


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_platform_bench_runs_and_both_sides_agree(siblings: URL, tmp_path: Path) -> None:
    results = tmp_path / "RESULTS.md"
    results.write_text("# Bench results\n\nText of its own, kept.\n")
    argv = [
        "--orders",
        "tiny",
        "--repeat",
        "1",
        "--platforms",
        ",".join(PLATFORMS),
        "--query-platforms",
        ",".join(QUERY),
        "--out",
        str(results),
    ]

    def bench() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, str(REPO / "bench" / "platforms.py"), *argv],
            env=subprocess_env(ORDERREPORT_BENCH_DATABASE_URL=plain(siblings)),
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=540,
            check=False,
        )

    done = bench()
    # exit 0: every answer of orderreport equals the hand-written one (a difference is exit 1)
    assert done.returncode == 0, done.stderr
    assert "differ" not in done.stdout + done.stderr, done.stdout + done.stderr
    tables = done.stdout.split("\n\n")
    platforms, queries = rows_of(tables[0]), rows_of(tables[1])
    assert list(platforms) == list(PLATFORMS), done.stdout
    for name, cells in platforms.items():
        assert len(cells) == 12, cells
        assert int(cells[2].replace(",", "")) > 0, cells  # the day has orders that count
        assert all(cells[i].endswith("\u00d7") for i in (5, 7, 10)), cells
        assert not cells[11].startswith("no: "), (name, cells)
    assert list(queries) == list(QUERY), done.stdout
    assert not queries["solidus"][5].startswith("no: "), queries
    written = results.read_text()
    assert "Text of its own, kept." in written
    assert "## Platforms (" in written and "| saleor |" in written, written
    # the index orderreport advises where the platform has none: Medusa's "order".created_at
    medusa = next(line for line in written.splitlines() if line.startswith("- medusa: "))
    assert "advised, built: orderreport_order_created_at_idx" in medusa, medusa

    # a second run keeps the shops and replaces its section
    again = bench()
    assert again.returncode == 0, again.stderr
    assert "kept from before" in again.stderr, again.stderr
    assert results.read_text().count("## Platforms (") == 1
