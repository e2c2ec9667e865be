"""The run log: every `daily` records itself, whatever becomes of it; `runs` and `status` read
it."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any

import psycopg
import pytest
from psycopg.rows import dict_row
from sqlalchemy.engine import URL

from orderreport import db
from orderreport.cli.dates import today_in
from orderreport.reports import runs
from tests.conftest import ORDERREPORT, fill_days, plain, run_cli, subprocess_env, url_text

Conn = psycopg.Connection[tuple[object, ...]]


def cli(url: URL, *args: str) -> tuple[int, str, str]:
    r = run_cli(*args, "--database-url", url_text(url), "--tz", "UTC")
    return r.code, r.out, r.err


def run_rows(url: URL) -> list[dict[str, Any]]:
    with psycopg.connect(plain(url), row_factory=dict_row) as conn:
        return conn.execute("SELECT * FROM orderreport.runs ORDER BY id").fetchall()


def stored_days(url: URL) -> int:
    with psycopg.connect(plain(url)) as conn:
        row = conn.execute("SELECT count(*) FROM orderreport.daily_reports").fetchone()
    assert row is not None
    return int(str(row[0]))


def status(url: URL) -> tuple[int, dict[str, Any], str]:
    code, out, err = cli(url, "status", "--json")
    return code, json.loads(out), err


def test_a_run_records_itself(db_url: URL, shop: Conn) -> None:
    yesterday = today_in("UTC") - timedelta(days=1)
    code, _, err = cli(db_url, "daily")
    assert code == 0, err
    (row,) = run_rows(db_url)
    assert row["status"] == "succeeded" and row["exit_code"] == 0 and row["message"] is None
    assert row["finished_at"] >= row["started_at"]
    assert (row["first_day"], row["last_day"], row["catch_up"]) == (yesterday, yesterday, True)
    assert (row["days_planned"], row["days_stored"], row["days_restated"]) == (1, 1, 0)
    assert (row["host"], row["pid"]) == (socket.gethostname(), os.getpid())
    code, out, _ = cli(db_url, "runs", "--json")
    (listed,) = json.loads(out)
    assert list(listed) == list(runs.RUN_FIELDS)
    assert listed["status"] == "succeeded" and float(listed["duration_seconds"]) >= 0
    code, out, _ = cli(db_url, "runs")
    assert code == 0 and "succeeded" in out and "planned" in out
    code, found, _ = status(db_url)
    assert code == 0 and found["healthy"] is True
    assert (found["last_run_id"], found["last_run_status"], found["last_run_exit_code"]) == (
        row["id"],
        "succeeded",
        0,
    )
    # an explicit range records its days from the start
    assert cli(db_url, "daily", "--from", "2025-01-01", "--to", "2025-01-03")[0] == 0
    last = run_rows(db_url)[-1]
    assert (last["catch_up"], last["first_day"], last["days_planned"]) == (
        False,
        date(2025, 1, 1),
        3,
    )
    assert (last["days_stored"], last["days_restated"]) == (3, 1)  # yesterday restated


def test_runs_limit_bound(db_url: URL) -> None:
    for day in ("2025-01-01", "2025-01-02", "2025-01-03"):
        assert cli(db_url, "daily", "--date", day, "--restate", "0")[0] == 0
    code, out, _ = cli(db_url, "runs", "--limit", "2", "-f", "csv")
    lines = out.splitlines()
    assert code == 0 and len(lines) == 3 and lines[0].startswith("id,time_zone,status")
    assert [line.split(",")[0] for line in lines[1:]] == ["3", "2"]  # newest first
    code, out, _ = cli(db_url, "runs", "--limit", str(runs.MAX_LIST), "--json")
    assert code == 0 and len(json.loads(out)) == 3
    for bad in (str(runs.MAX_LIST + 1), "0"):
        code, out, err = cli(db_url, "runs", "--limit", bad)
        assert (code, out) == (2, "") and "--limit" in err and err.count("\n") == 1


def test_no_runs_yet(db_url: URL, empty_url: URL) -> None:
    code, out, err = cli(db_url, "runs", "--json")
    assert (code, json.loads(out)) == (0, []) and "no daily runs recorded yet" in err
    code, _, err = cli(empty_url, "runs")
    assert code == 1 and "run `orderreport migrate`" in err and err.count("\n") == 1


def test_a_busy_run_is_recorded_and_does_not_make_status_unhealthy(db_url: URL) -> None:
    assert cli(db_url, "daily")[0] == 0
    with psycopg.connect(plain(db_url)) as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", (db.DAILY_LOCK_KEY,))
        assert cli(db_url, "daily")[0] == 75
    ok, busy = run_rows(db_url)
    assert (busy["status"], busy["exit_code"]) == ("busy", 75)
    assert busy["message"] == "another run holds the lock; nothing was written"
    code, found, err = status(db_url)
    assert code == 0, err
    assert (found["last_run_id"], found["last_run_status"]) == (ok["id"], "succeeded")


@pytest.fixture
def writer_role(db_url: URL) -> Iterator[URL]:
    """A role that may log its runs and read everything, but not store a report."""
    role = f"logger_{db_url.database}"
    with psycopg.connect(plain(db_url), autocommit=True) as conn:
        conn.execute(f'CREATE ROLE "{role}" LOGIN')
        conn.execute(f'GRANT SELECT ON ALL TABLES IN SCHEMA public TO "{role}"')
        conn.execute(f'GRANT USAGE ON SCHEMA orderreport TO "{role}"')
        conn.execute(f'GRANT SELECT ON ALL TABLES IN SCHEMA orderreport TO "{role}"')
        conn.execute(f'GRANT INSERT, UPDATE ON orderreport.runs TO "{role}"')
    try:
        yield db_url.set(username=role, password=None)
    finally:
        with psycopg.connect(plain(db_url), autocommit=True) as conn:
            conn.execute(f'DROP OWNED BY "{role}"')
            conn.execute(f'DROP ROLE "{role}"')


def test_a_run_that_fails_after_connecting_is_recorded(db_url: URL, writer_role: URL) -> None:
    assert cli(db_url, "daily", "--date", "2025-01-01")[0] == 0
    code, _, err = cli(writer_role, "daily", "--from", "2025-01-02", "--to", "2025-01-03")
    assert code == 1 and "permission denied for table daily_reports" in err
    failed = run_rows(db_url)[-1]
    assert (failed["status"], failed["exit_code"]) == ("failed", 1)
    assert failed["message"] == "database error: permission denied for table daily_reports"
    assert failed["finished_at"] is not None and failed["days_stored"] == 0
    code, found, err = status(db_url)
    assert code == 1 and found["last_run_status"] == "failed"
    assert found["problem"] == (
        f"the last daily run (#{failed['id']} on {socket.gethostname()}, started "
        f"{datetime.fromisoformat(found['last_run_started']).isoformat(timespec='seconds')}) "
        "failed with exit 1: "
        "database error: permission denied for table daily_reports; "
        "run `orderreport daily --from 2025-01-02 --to 2025-01-03` again"
    )
    assert f"unhealthy: {found['problem']}" in err
    # the command it names puts it right
    assert cli(db_url, "daily", "--from", "2025-01-02", "--to", "2025-01-03")[0] == 0
    assert status(db_url)[1]["last_run_status"] == "succeeded"


def test_a_gap_left_by_the_catch_up_bound_is_a_failed_run(db_url: URL) -> None:
    today = today_in("UTC")
    assert cli(db_url, "daily", "--date", str(today - timedelta(days=10)))[0] == 0
    assert cli(db_url, "daily", "--max-catch-up", "3")[0] == 1
    row = run_rows(db_url)[-1]
    assert (row["status"], row["exit_code"], row["days_stored"]) == ("failed", 1, 3)
    assert "are missing and older than --max-catch-up 3" in row["message"]
    code, found, _ = status(db_url)
    assert code == 1 and "failed with exit 1" in found["problem"]
    assert "run `orderreport daily` again" in found["problem"]


def start_backfill(url: URL, first: date, last: date, *extra: str) -> subprocess.Popen[str]:
    env = subprocess_env(ORDERREPORT_DATABASE_URL=url_text(url))
    args = [*ORDERREPORT, "daily", "--from", str(first), "--to", str(last), *extra]
    return subprocess.Popen(
        args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def after_stored_lines(proc: subprocess.Popen[str], lines: int) -> None:
    assert proc.stderr is not None
    seen = 0
    for line in proc.stderr:
        seen += " stored " in line
        if seen == lines:
            return
    pytest.fail(f"the run ended before storing {lines} days: {proc.wait()}")


def eventually(check: Any, seconds: float = 10.0) -> Any:
    """The first true result of check() within `seconds` (a killed backend takes a moment)."""
    deadline = time.monotonic() + seconds
    while True:
        got = check()
        if got or time.monotonic() > deadline:
            return got
        time.sleep(0.05)


@pytest.mark.parametrize(
    ("signum", "code", "outcome"),
    [(signal.SIGTERM, 143, "terminated"), (signal.SIGINT, 130, "interrupted")],
)
def test_sigterm_and_sigint_during_daily_are_recorded(
    db_url: URL, shop: Conn, signum: int, code: int, outcome: str
) -> None:
    first = date(2015, 1, 1)
    fill_days(shop, first, 3000)
    proc = start_backfill(db_url, first, first + timedelta(days=2999))
    after_stored_lines(proc, 5)
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == code, err
    row = run_rows(db_url)[-1]
    assert (row["status"], row["exit_code"]) == (outcome, code)
    assert row["finished_at"] is not None
    # the counts are the run's own committed days, exactly
    assert row["days_stored"] == stored_days(db_url) >= 5
    status_code, found, _ = status(db_url)
    assert status_code == 1 and found["last_run_status"] == outcome
    assert f"{outcome} with exit {code}" in found["problem"]


def test_sigkill_during_daily_leaves_an_unfinished_run(db_url: URL, shop: Conn) -> None:
    first = date(2015, 1, 1)
    last = first + timedelta(days=2999)
    fill_days(shop, first, 3000)
    proc = start_backfill(db_url, first, last)
    try:
        after_stored_lines(proc, 5)
        # while it runs: running, and that alone is no problem
        _, found, _ = status(db_url)
        assert found["last_run_status"] == "running" and found["last_run_finished"] is None
        assert "last daily run" not in (found["problem"] or "")
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
    assert eventually(lambda: status(db_url)[1]["last_run_status"] == "unfinished")
    row = run_rows(db_url)[-1]
    assert row["status"] == "running" and row["finished_at"] is None and row["exit_code"] is None
    assert row["days_stored"] == stored_days(db_url) >= 5
    code, found, _ = status(db_url)
    assert code == 1 and "never finished" in found["problem"]
    assert f"#{row['id']}" in found["problem"]
    assert f"run `orderreport daily --from {first} --to {last}` again" in found["problem"]
    code, out, _ = cli(db_url, "runs", "--json")
    assert json.loads(out)[0]["status"] == "unfinished"


def test_a_backfill_killed_before_its_first_commit_is_seen(db_url: URL) -> None:
    """The issue's case: nothing stored, yet status must not say healthy."""
    assert cli(db_url, "daily")[0] == 0
    assert status(db_url)[0] == 0
    with psycopg.connect(plain(db_url)) as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", (db.DAILY_LOCK_KEY,))
        holder.commit()
        proc = start_backfill(db_url, date(2025, 1, 1), date(2025, 1, 31), "--wait", "60")
        try:
            assert eventually(lambda: len(run_rows(db_url)) == 2)
            # waiting for the lock, it holds nothing yet: still a live run
            code, found, _ = status(db_url)
            assert (code, found["last_run_status"]) == (0, "running")
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=60)
    assert eventually(lambda: status(db_url)[0] == 1)
    code, found, _ = status(db_url)
    assert found["last_run_status"] == "unfinished" and "never finished" in found["problem"]
    assert "`orderreport daily --from 2025-01-01 --to 2025-01-31`" in found["problem"]
    assert stored_days(db_url) == 1


def test_a_run_whose_connection_is_cut_records_its_failure(db_url: URL, shop: Conn) -> None:
    """The server ends the run's session mid-run (pg_terminate_backend, as a failover or an
    administrator would): the run fails in one line and its outcome is still recorded."""
    first = date(2015, 1, 1)
    fill_days(shop, first, 3000)
    proc = start_backfill(db_url, first, first + timedelta(days=2999))
    after_stored_lines(proc, 5)
    backend = run_rows(db_url)[-1]["backend_pid"]
    shop.execute("SELECT pg_terminate_backend(%s)", (backend,))
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 1, err
    assert err.splitlines()[-1].startswith("orderreport: error: database error: ")
    row = run_rows(db_url)[-1]
    assert (row["status"], row["exit_code"], row["finished_at"] is not None) == ("failed", 1, True)
    assert row["message"].startswith("database error: ")
    assert row["days_stored"] == stored_days(db_url) >= 5


@pytest.mark.parametrize("cut", ["closed", "mid-statement"])
def test_an_outcome_is_recorded_on_a_new_connection_when_the_runs_is_unusable(
    db_url: URL, cut: str
) -> None:
    """runs.finish on a connection that is gone, or was left mid-statement (a signal, the
    watchdog): it closes it and records the outcome on a new one like it (pg.Connection.
    reopen); a successful run's outcome that cannot be recorded at all is an error."""
    from orderreport.errors import DatabaseFailed
    from tests.conftest import settings_for

    with db.connect(settings_for(db_url)) as conn:
        run_id = runs.start(conn, time_zone="UTC", span=None, host="h", pid=1, version="t")
        assert run_id is not None
        if cut == "closed":
            conn.close()
        else:  # a query sent, its answer never read: the connection is ACTIVE
            conn.pgconn.send_query(b"SELECT pg_catalog.pg_sleep(0.1)")
        runs.finish(conn, run_id, runs.Progress(stored=2), DatabaseFailed("boom"))
        assert conn.closed  # the run's own connection, and its locks, went at once
    (row,) = run_rows(db_url)
    assert (row["status"], row["message"], row["days_stored"]) == ("failed", "boom", 2)
    assert row["finished_at"] is not None
    with db.connect(settings_for(db_url)) as conn:
        run_id = runs.start(conn, time_zone="UTC", span=None, host="h", pid=1, version="t")
        assert run_id is not None
        conn.reopen = None  # nowhere to record it
        conn.close()
        with pytest.raises(psycopg.OperationalError):
            runs.finish(conn, run_id, runs.Progress(), None)
