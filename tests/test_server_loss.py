"""The server going away under a run, for real: restarts, an immediate shutdown, a crash.

Every test here runs on a PostgreSQL of its own (an embedded server in a fresh home, the
same binaries as the suite's), never the suite's shared server: it is restarted, crashed
and stopped. `daily` is caught mid-statement waiting on a table lock held by another
session, `migrate` in the middle of its CREATE INDEX CONCURRENTLY on a big-enough shop.
Each failure must be exactly one line naming what happened, exit 1, and the run log must
say `failed` with that same line; after the server is back a plain rerun puts all right.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import time
import uuid
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg.rows import dict_row
from sqlalchemy.engine import URL, make_url

from orderreport import objects
from orderreport.config.settings import Settings
from orderreport.db.embedded import EmbeddedServer
from orderreport.reports.runs import RECORD_WAIT, RESTARTED
from orderreport.schema import migrate
from tests.conftest import (
    fill_days,
    make_home,
    plain,
    spawn,
    stored,
)
from tests.test_adoption import Variant, build_old_shop

STARTS_SERVERS = True  # no `nodb` here: each test starts a server of its own (conftest)

# real pg_ctl stops, crashes and restarts: slow
pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

FIRST = date(2025, 1, 1)
DAYS = 30
SPAN = ("--from", FIRST.isoformat(), "--to", (FIRST + timedelta(days=DAYS - 1)).isoformat())
RERUN = "nothing half-done was kept: rerun"
SHUT_DOWN = f"the database server shut down during the run; {RERUN}"
IMMEDIATE = (
    f"the database server was shut down in immediate mode during the run (as in a crash); {RERUN}"
)
CRASHED = (
    "the database server crashed during the run (one of its processes failed; it restarts "
    f"and recovers by itself); {RERUN}"
)
TERMINATED = f"an administrator ended the run's session (pg_terminate_backend); {RERUN}"
RESET = (
    "lost the connection to the database server (consuming input failed: server closed the "
    f"connection unexpectedly); {RERUN}"
)
LIBRARY_WORDS = (
    "error: unexpected",
    "sqlalche.me",
    "Background",
    "PendingRollbackError",
    "Traceback",
)


@pytest.fixture(scope="module")
def own_server() -> Iterator[tuple[EmbeddedServer, URL]]:
    """A server of this module's own, in a fresh home: restarting it harms no other test."""
    home = make_home("orderreport-loss-")
    server = EmbeddedServer(home)
    url = make_url(server.start()).set(drivername="postgresql+psycopg")  # a libpq URI
    try:
        yield server, url
    finally:
        server.stop()
        shutil.rmtree(home, ignore_errors=True)


def pg_ctl(server: EmbeddedServer, *args: str) -> None:
    """pg_ctl on the test's own server, run as the server runs (as root: its own user).
    restart reuses the options the server was started with (postmaster.opts)."""
    pgdata, log = str(server.pgdata), str(server.log)
    server._run(server._bin("pg_ctl"), "-D", pgdata, "-l", log, "-w", "-t", "60", *args)


def wait_until_up(url: URL, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            psycopg.connect(plain(url), connect_timeout=5).close()
            return
        except psycopg.OperationalError:
            assert time.monotonic() < deadline, "the server did not come back"
            time.sleep(0.1)


@pytest.fixture
def shop_url(own_server: tuple[EmbeddedServer, URL]) -> Iterator[URL]:
    """A fresh database on the own server, migrated, with three orders a day for DAYS days."""
    _, server_url = own_server
    wait_until_up(server_url)
    url = fresh_database(server_url)
    migrate.migrate(
        Settings(database_url=plain(url), tz="UTC", home=Path("/nonexistent"), config_file=None)
    )
    with psycopg.connect(plain(url), autocommit=True) as conn:
        fill_days(conn, FIRST, DAYS)
    yield url
    drop_database(server_url, url)


def fresh_database(server_url: URL) -> URL:
    name = f"l_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(plain(server_url), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return server_url.set(database=name)


def drop_database(server_url: URL, url: URL) -> None:
    wait_until_up(server_url)
    with psycopg.connect(plain(server_url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)')


def run(url: URL, *args: str) -> tuple[int, str, str]:
    proc = spawn(url, *args)
    out, err = proc.communicate(timeout=120)
    return proc.returncode, out, err


def ours_waiting_on_a_lock(url: URL) -> bool:
    with psycopg.connect(plain(url)) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'orderreport' "
            "AND datname = current_database() AND wait_event_type = 'Lock'"
        ).fetchone()
    return row is not None and row[0] > 0


def wait_for(predicate: Any, timeout: float = 30, step: float = 0.05) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(step)


def the_line(err: str) -> str:
    """stderr as exactly one line: orderreport's error, with nothing of a library's in it."""
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("orderreport: error: "), err
    assert not any(word in err for word in LIBRARY_WORDS), err
    return lines[0].removeprefix("orderreport: error: ")


def run_rows(url: URL) -> list[dict[str, Any]]:
    with psycopg.connect(plain(url), row_factory=dict_row) as conn:
        return conn.execute("SELECT * FROM orderreport.runs ORDER BY id").fetchall()


def all_days() -> list[tuple[date, int, str]]:
    return [(FIRST + timedelta(days=i), 3, "6.60") for i in range(DAYS)]


def status(url: URL) -> dict[str, Any]:
    code, out, err = run(url, "status", "--json")
    assert code == 1, err  # unhealthy: the last run failed
    found: dict[str, Any] = json.loads(out)
    return found


def ours(url: URL) -> int:
    with psycopg.connect(plain(url)) as conn:
        row = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE application_name = 'orderreport' "
            "AND datname = current_database()"
        ).fetchone()
    assert row is not None
    return int(row[0])


def fault(server: EmbeddedServer, kind: str, holder: psycopg.Connection[Any], url: URL) -> None:
    """fast, immediate: pg_ctl restart in that mode; crash: another server process
    SIGKILLed (the holder's backend), so the server ends every session and recovers, as
    after a segfault; reset: the run's own backend SIGKILLed (its connection just closes);
    terminate: pg_terminate_backend of the run's backend."""
    if kind == "crash":
        os.kill(holder.info.backend_pid, signal.SIGKILL)
    elif kind == "reset":
        os.kill(ours(url), signal.SIGKILL)
    elif kind == "terminate":
        with psycopg.connect(plain(url), autocommit=True) as conn:
            conn.execute("SELECT pg_terminate_backend(%s)", (ours(url),))
    else:
        pg_ctl(server, "-m", kind, "restart")


@pytest.mark.parametrize(
    ("kind", "why"),
    [
        ("fast", SHUT_DOWN),
        ("immediate", IMMEDIATE),
        ("crash", CRASHED),
        ("reset", RESET),
        ("terminate", TERMINATED),
    ],
    ids=["fast", "immediate", "crash", "reset", "terminate"],
)
def test_a_lost_connection_during_daily_is_one_line_and_a_failed_run(
    own_server: tuple[EmbeddedServer, URL], shop_url: URL, kind: str, why: str
) -> None:
    server, _ = own_server
    holder = psycopg.connect(plain(shop_url))
    try:
        holder.execute("LOCK TABLE orderreport.daily_reports IN ACCESS EXCLUSIVE MODE")
        proc = spawn(shop_url, "daily", *SPAN)
        wait_for(lambda: ours_waiting_on_a_lock(shop_url))  # mid-statement, lock held
        started = time.monotonic()
        fault(server, kind, holder, shop_url)
        out, err = proc.communicate(timeout=60)
        elapsed = time.monotonic() - started
    finally:
        holder.close()
    assert proc.returncode == 1 and out == "", err
    assert the_line(err) == f"database error: {why}"
    assert elapsed < 20
    wait_until_up(shop_url)
    (row,) = run_rows(shop_url)
    assert (row["status"], row["exit_code"]) == ("failed", 1)
    assert row["message"] == f"database error: {why}" and row["finished_at"] is not None
    found = status(shop_url)
    assert found["last_run_status"] == "failed" and why in found["problem"]
    assert "killed" not in found["problem"]
    code, _, err = run(shop_url, "daily", *SPAN)
    assert code == 0, err
    assert stored(shop_url) == all_days()


def test_a_server_that_stays_down_ends_the_run_and_the_log_says_so(
    own_server: tuple[EmbeddedServer, URL], shop_url: URL
) -> None:
    """Stopped, not restarted: the run tries RECORD_WAIT seconds to record its outcome, then
    gives up with the same line; once the server is back its row names the restart."""
    server, _ = own_server
    holder = psycopg.connect(plain(shop_url))
    try:
        holder.execute("LOCK TABLE orderreport.daily_reports IN ACCESS EXCLUSIVE MODE")
        proc = spawn(shop_url, "daily", *SPAN)
        wait_for(lambda: ours_waiting_on_a_lock(shop_url))
        started = time.monotonic()
        try:
            pg_ctl(server, "-m", "fast", "stop")
            out, err = proc.communicate(timeout=60)
            elapsed = time.monotonic() - started
        finally:
            server._start()  # with the options it was first started with (socket folder)
    finally:
        holder.close()
    assert proc.returncode == 1 and out == "", err
    assert the_line(err) == f"database error: {SHUT_DOWN}"
    assert RECORD_WAIT <= elapsed < RECORD_WAIT + 15
    wait_until_up(shop_url)
    (row,) = run_rows(shop_url)
    assert row["finished_at"] is None  # nothing could record it
    found = status(shop_url)
    assert found["last_run_status"] == "unfinished"
    assert f"never finished: {RESTARTED}" in found["problem"], found["problem"]
    assert "killed" not in found["problem"]
    code, _, err = run(shop_url, "daily", *SPAN)
    assert code == 0, err
    assert stored(shop_url) == all_days()


@pytest.fixture
def big_old_shop(own_server: tuple[EmbeddedServer, URL]) -> Iterator[URL]:
    """The old service's shop without orderreport's indexes (tests/test_adoption.py), with
    enough orders that building ix_orders_created_at CONCURRENTLY takes a while."""
    _, server_url = own_server
    wait_until_up(server_url)
    url = fresh_database(server_url)
    build_old_shop(
        url, Variant("numeric-timestamptz", money="numeric(10,2)", timestamps="timestamptz")
    )
    with psycopg.connect(plain(url), autocommit=True) as conn:
        conn.execute(
            "INSERT INTO orders (user_id, total_amount, created_at, updated_at) "
            "SELECT 1, g / 100.0, TIMESTAMPTZ '2025-12-17' - g * INTERVAL '1 minute', now() "
            "FROM generate_series(1, 600000) g"
        )
    yield url
    drop_database(server_url, url)


def building_concurrently(url: URL) -> bool:
    with psycopg.connect(plain(url)) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND state = 'active' AND query LIKE 'CREATE INDEX CONCURRENTLY%%'"
        ).fetchone()
    return row is not None and row[0] > 0


@pytest.mark.parametrize(
    ("kind", "why"), [("fast", SHUT_DOWN), ("immediate", IMMEDIATE)], ids=["fast", "immediate"]
)
def test_a_server_restart_during_create_index_concurrently_is_one_line(
    own_server: tuple[EmbeddedServer, URL], big_old_shop: URL, kind: str, why: str
) -> None:
    server, _ = own_server
    proc = spawn(big_old_shop, "migrate")
    wait_for(lambda: building_concurrently(big_old_shop), timeout=60, step=0.01)
    pg_ctl(server, "-m", kind, "restart")
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 1 and out == "", err
    assert the_line(err) == f"migration failed: {why}"
    wait_until_up(big_old_shop)
    code, _, err = run(big_old_shop, "migrate")  # drops the invalid leftover, builds it again
    assert code == 0, err
    with psycopg.connect(plain(big_old_shop)) as conn:
        assert conn.execute("SELECT count(*) FROM pg_index WHERE NOT indisvalid").fetchone() == (0,)
        names = {
            r[0]
            for r in conn.execute("SELECT indexname FROM pg_indexes WHERE schemaname = 'public'")
        }
    assert {"ix_orders_created_at", "ix_order_items_order_id"} <= names
    code, out, err = run(big_old_shop, "status", "--json")
    assert json.loads(out)["schema_revision"] == objects.SCHEMA_HEAD, err
