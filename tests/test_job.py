"""The jobs without the command line: job.daily and job.demo called as functions on the real
test database, what they tell their callbacks, the run log and the metrics file they leave."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import URL

from orderreport import db
from orderreport import jobs as job
from orderreport.cli.dates import today_in
from orderreport.deliver import metrics
from orderreport.errors import Incomplete, LockBusy, Refused, UsageError
from orderreport.reports import daily
from orderreport.reports.digest import Digest
from tests.conftest import add_order, fill_days, plain, settings_for
from tests.prom import values

Conn = psycopg.Connection[tuple[object, ...]]


class Heard:
    """Events that keep what the job told them."""

    def __init__(self) -> None:
        self.progress: list[str] = []
        self.warnings: list[str] = []
        self.digests: list[Digest] = []
        self.stored: list[daily.Run] = []

    def events(self, *, digest: bool = False) -> job.Events:
        return job.Events(
            progress=self.progress.append,
            warning=self.warnings.append,
            digest=self.digests.append if digest else None,
            stored=self.stored.append,
        )


def run_log(url: URL) -> list[tuple[str, int | None, str | None]]:
    with psycopg.connect(plain(url)) as conn:
        rows = conn.execute(
            "SELECT status, exit_code, message FROM orderreport.runs ORDER BY id"
        ).fetchall()
    return [
        (str(s), c if c is None else int(str(c)), m if m is None else str(m)) for s, c, m in rows
    ]


def test_daily_stores_yesterday_and_tells_its_caller(
    db_url: URL, shop: Conn, tmp_path: Path
) -> None:
    today = today_in("UTC")
    noon = datetime.combine(today - timedelta(days=1), datetime.min.time(), UTC) + timedelta(
        hours=12
    )
    add_order(shop, noon, "10.50", 2)
    add_order(shop, noon, "0.25", 1)
    heard, path = Heard(), tmp_path / "daily.prom"
    ticks = iter(datetime(2026, 1, 1, 0, 0, s, tzinfo=UTC) for s in (0, 7))

    result = job.daily(
        settings_for(db_url),
        today=today,
        metrics_file=path,
        events=heard.events(digest=True),
        clock=lambda: next(ticks),
    )

    assert [(s.date, s.total_orders, s.total_value) for s in result.stored] == [
        (today - timedelta(days=1), 2, Decimal("10.75"))
    ]
    assert heard.stored == [result]  # told once, with what it returns
    assert (
        heard.progress[0]
        == f"storing 1 day(s) {today - timedelta(days=1)} to {today - timedelta(days=1)}"
    )
    assert heard.progress[1].startswith(f"stored {today - timedelta(days=1)} (UTC): 2 orders")
    assert [(d.day, d.live) for d in heard.digests] == [(today - timedelta(days=1), False)]
    assert heard.warnings == []
    assert run_log(db_url) == [("succeeded", 0, None)]
    got = values(path.read_text(), time_zone="UTC")
    assert got["orderreport_daily_last_run_duration_seconds"] == 7.0  # the clock it was given
    assert got["orderreport_daily_last_run_exit_code"] == 0.0
    assert got["orderreport_daily_yesterday_value"] == 10.75

    again = Heard()
    second = job.daily(settings_for(db_url), today=today, events=again.events())
    assert second.stored == () and again.digests == []  # no digest asked for
    assert again.progress[0] == "nothing new to store: reports are stored up to yesterday"


def test_daily_leaves_no_gap_unsaid(db_url: URL, shop: Conn, tmp_path: Path) -> None:
    """A gap older than max_catch_up: the newest days are stored, the run fails (Incomplete),
    and both the run log and the metrics say so."""
    today = today_in("UTC")
    fill_days(shop, today - timedelta(days=10), 10)
    settings, path, heard = settings_for(db_url), tmp_path / "gap.prom", Heard()
    job.daily(settings, today=today, span=(today - timedelta(days=10),) * 2)
    with pytest.raises(Incomplete, match="are missing and older than --max-catch-up 3"):
        job.daily(settings, today=today, max_catch_up=3, metrics_file=path, events=heard.events())
    assert len(heard.stored[0].stored) == 3  # printed before the failure, as the CLI does
    assert [s for s, _, _ in run_log(db_url)] == ["succeeded", "failed"]
    assert run_log(db_url)[1][2] is not None and "--max-catch-up 3" in str(run_log(db_url)[1][2])
    assert values(path.read_text())["orderreport_daily_last_run_exit_code"] == 1.0


def test_daily_busy_and_bad_input(db_url: URL, tmp_path: Path) -> None:
    settings, path = settings_for(db_url), tmp_path / "busy.prom"
    today = today_in("UTC")
    with psycopg.connect(plain(db_url)) as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", (db.DAILY_LOCK_KEY,))
        with pytest.raises(LockBusy):
            job.daily(settings, today=today, metrics_file=path)
    busy = values(path.read_text())
    assert busy["orderreport_daily_last_run_exit_code"] == 75.0
    assert metrics.LAST_SUCCESS not in busy
    assert run_log(db_url)[-1][0] == "busy"
    path.unlink()
    with pytest.raises(UsageError, match="is not over yet in UTC"):  # bad input
        job.daily(settings, today=today, span=(today, today), metrics_file=path)
    assert not path.exists()  # bad input is not a run: no metrics, no run-log row
    assert len(run_log(db_url)) == 1


def test_demo_loads_an_empty_database_and_refuses_a_shop(empty_url: URL) -> None:
    settings, said, days_loaded = settings_for(empty_url), list[str](), list[date]()

    @contextlib.contextmanager
    def bar() -> Iterator[Callable[[date], None]]:
        yield days_loaded.append

    today = today_in("UTC")
    loaded, stored = job.demo(
        settings,
        today=today,
        days=3,
        orders_per_day=20,
        seed=5,
        events=job.Events(progress=said.append, loading=bar),
    )
    assert (loaded.orders, loaded.start, loaded.end) == (
        60,
        today - timedelta(days=3),
        today - timedelta(days=1),
    )
    assert days_loaded == [today - timedelta(days=i) for i in (3, 2, 1)]
    assert sum(s.total_orders for s in stored) == 60
    assert said[0].startswith("loaded 60 orders") and said[1].startswith("stored 3 daily reports")
    with pytest.raises(Refused, match="already has 60 orders"):
        job.demo(settings, today=today, days=1, orders_per_day=1, seed=1)
