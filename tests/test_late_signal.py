"""A signal that races a run's end: the exit code and the run log always agree.

The rule (orderreport/outcome.py): once a run's outcome is committed to the run log, a
signal changes neither. Both moments are reached for real and deterministically, the test
acting when the run is known to be there — never by racing a timer:

- while the outcome's COMMIT is in flight: a deferred constraint trigger on the run log
  makes that COMMIT wait on an advisory lock the test holds; the test sees the backend
  waiting on it, sends SIGTERM, then lets the COMMIT go;
- after it: the run's metrics push reaches an HTTP server of the test's, which sends SIGTERM
  before it answers.

A SIGTERM before the outcome still ends the run as terminated, in the log and the code
(tests/test_runs.py).
"""

from __future__ import annotations

import http.server
import signal
import subprocess
import threading
from collections.abc import Iterator
from datetime import timedelta

import psycopg
import pytest
from sqlalchemy.engine import URL

from orderreport.cli.dates import today_in
from tests.conftest import fill_days, plain, spawn
from tests.test_faults import backends, catches, wait_for

GATE = 4242  # the advisory lock the trigger's COMMIT waits on


def last_run(url: URL) -> tuple[str, int | None, str | None]:
    with psycopg.connect(plain(url)) as conn:
        row = conn.execute(
            "SELECT status, exit_code, message FROM orderreport.runs ORDER BY id DESC LIMIT 1"
        ).fetchone()
    assert row is not None
    return row[0], row[1], row[2]


@pytest.fixture
def filled(db_url: URL) -> URL:
    with psycopg.connect(plain(db_url), autocommit=True) as conn:
        fill_days(conn, today_in("UTC") - timedelta(days=3), 3)
    return db_url


def daily(url: URL, *extra: str) -> subprocess.Popen[str]:
    return spawn(url, "daily", "--tz", "UTC", *extra)


def waiting_on_gate(url: URL) -> bool:
    with psycopg.connect(plain(url)) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = %s "
            "AND NOT granted",
            (GATE,),
        ).fetchone()
    return bool(row and row[0])


def delivered(pid: int) -> bool:
    """True once no signal is pending for process `pid` (its handler has taken them)."""
    with open(f"/proc/{pid}/status") as status:
        pending = [line.split()[1] for line in status if line.startswith(("SigPnd", "ShdPnd"))]
    return all(int(mask, 16) == 0 for mask in pending)


def test_a_signal_during_the_outcomes_commit_waits_for_it(filled: URL) -> None:
    with psycopg.connect(plain(filled), autocommit=True) as conn:
        conn.execute(
            "CREATE FUNCTION orderreport.gate() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN IF NEW.finished_at IS NOT NULL THEN PERFORM pg_advisory_xact_lock({GATE}); "
            "END IF; RETURN NULL; END $$"
        )
        conn.execute(
            "CREATE CONSTRAINT TRIGGER gate AFTER UPDATE ON orderreport.runs "
            "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION orderreport.gate()"
        )
    with psycopg.connect(plain(filled), autocommit=True) as gate:
        gate.execute("SELECT pg_advisory_lock(%s)", (GATE,))
        proc = daily(filled)
        wait_for(lambda: waiting_on_gate(filled), timeout=60)  # inside the outcome's COMMIT
        assert catches(proc.pid, signal.SIGTERM)
        proc.send_signal(signal.SIGTERM)
        wait_for(lambda: delivered(proc.pid), timeout=10)  # taken by the process, not queued
        gate.execute("SELECT pg_advisory_unlock(%s)", (GATE,))
        out, err = proc.communicate(timeout=60)
    assert last_run(filled) == ("succeeded", 0, None)
    assert proc.returncode == 0, err
    assert "error" not in err, err
    assert err.splitlines()[-1] == (
        "orderreport: SIGTERM arrived after the run's outcome was recorded (exit 0): "
        "the outcome stands"
    ), err
    assert "6.60" in out  # the day it stored, printed after the outcome as ever
    assert backends(filled) == []


class _Gateway(http.server.BaseHTTPRequestHandler):
    """A Pushgateway stand-in that signals the pushing process before it answers."""

    target: subprocess.Popen[str] | None = None
    pushed = threading.Event()

    def _answer(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        assert self.target is not None
        self.target.send_signal(signal.SIGTERM)  # the run's outcome is committed by now
        self.pushed.set()
        self.send_response(200)
        self.end_headers()

    do_PUT = do_POST = _answer

    def log_message(self, format: str, *args: object) -> None:
        return None


@pytest.fixture
def gateway() -> Iterator[tuple[str, type[_Gateway]]]:
    handler = type("Gateway", (_Gateway,), {"pushed": threading.Event()})
    server = http.server.HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", handler
    finally:
        server.shutdown()
        server.server_close()


def test_a_signal_after_the_outcome_is_recorded_changes_nothing(
    filled: URL, gateway: tuple[str, type[_Gateway]]
) -> None:
    url, handler = gateway
    proc = daily(filled, "--pushgateway", url)
    handler.target = proc
    _, err = proc.communicate(timeout=60)
    assert handler.pushed.is_set()
    assert last_run(filled) == ("succeeded", 0, None)
    assert proc.returncode == 0, err
    assert err.splitlines()[-1] == (
        "orderreport: SIGTERM arrived after the run's outcome was recorded (exit 0): "
        "the outcome stands"
    ), err


def test_a_failed_runs_outcome_stands_against_a_late_signal_too(
    db_url: URL, gateway: tuple[str, type[_Gateway]]
) -> None:
    """A run that leaves a gap fails (exit 1, logged failed); a SIGTERM after that is no 143."""
    today = today_in("UTC")
    with psycopg.connect(plain(db_url), autocommit=True) as conn:
        fill_days(conn, today - timedelta(days=10), 10)
    first = (today - timedelta(days=10)).isoformat()
    assert spawn(db_url, "daily", "--tz", "UTC", "--date", first).wait(timeout=60) == 0
    url, handler = gateway
    proc = daily(db_url, "--pushgateway", url, "--max-catch-up", "2")
    handler.target = proc
    _, err = proc.communicate(timeout=60)
    assert handler.pushed.is_set()
    assert last_run(db_url)[:2] == ("failed", 1)
    assert proc.returncode == 1, err
    lines = err.splitlines()
    assert lines[-2].startswith("orderreport: SIGTERM arrived after the run's outcome"), err
    assert lines[-1].startswith("orderreport: error: ") and "are missing" in lines[-1], err
