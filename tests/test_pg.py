"""The connection layer (db.connect, pg.py) against a real server: the bounds in force read
back from pg_settings, the user's own libpq options winning over our defaults, the SQL log,
a data command that imports neither SQLAlchemy nor Alembic, the watchdog and the cancel."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import URL

from orderreport import db
from orderreport.config.settings import Settings
from orderreport.db import connection as pg
from orderreport.db import limits
from tests.conftest import (
    plain,
    run_cli,
    settings_for,
    spawn,
    subprocess_env,
    url_text,
)

PASSWORD = "Pg-Layer-Secret-9"


def _with_query(url: URL, query: str) -> str:
    text = url_text(url)
    return text + ("&" if "?" in text else "?") + query


def _settings(conninfo: str, **kw: object) -> Settings:
    return Settings(database_url=conninfo, tz="UTC", home=Path("/nonexistent"), config_file=None)


def _shown(conn: pg.Connection, name: str) -> tuple[str, str]:
    row = conn.execute(
        "SELECT setting, source FROM pg_catalog.pg_settings WHERE name = %(n)s", {"n": name}
    ).fetchone()
    assert row is not None
    return str(row.setting), str(row.source)


def test_our_defaults_and_the_bounds_read_back(db_url: URL) -> None:
    with db.connect(settings_for(db_url)) as conn:
        assert isinstance(conn, pg.Connection)
        assert conn.bounds == limits.Bounds(
            lock=30.0, statement=limits.bounds_for(settings_for(db_url)).statement
        )
        assert _shown(conn, "jit")[0] == "off"
        assert _shown(conn, "lock_timeout")[0] == "30000"
        assert _shown(conn, "search_path")[0] == "pg_catalog, pg_temp"
        assert _shown(conn, "TimeZone")[0] == "UTC"
        assert conn.user_path.schemas == ("public",)
        assert conn.watchdog.seconds == conn.bounds.watchdog
        # what libpq sent: no `options` of ours
        assert dict(conn.info.get_parameters()).get("options") is None


def test_the_users_options_win_and_are_the_bounds(
    db_url: URL, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the URL's options: lock_timeout and jit theirs, the rest ours
    given = _with_query(db_url, "options=-c%20lock_timeout%3D7s%20-c%20jit%3Don")
    with db.connect(_settings(given)) as conn:
        assert conn.bounds.lock == 7.0
        assert _shown(conn, "lock_timeout") == ("7000", "client")
        assert _shown(conn, "jit") == ("on", "client")
        assert _shown(conn, "statement_timeout")[1] != "client"
    # PGOPTIONS, in minutes: read back in the unit pg_settings gives
    monkeypatch.setenv("PGOPTIONS", "-c statement_timeout=3min")
    with db.connect(_settings(url_text(db_url))) as conn:
        assert conn.bounds.statement == 180.0
        assert conn.watchdog.seconds == 180.0 + limits.WATCHDOG_GRACE
        assert _shown(conn, "jit")[0] == "off"


def test_a_statement_timeout_turned_off_is_no_deadline(db_url: URL) -> None:
    given = _with_query(db_url, "options=-c%20statement_timeout%3D0")
    with db.connect(_settings(given)) as conn:
        assert conn.bounds.statement == 0.0 and conn.watchdog.seconds == 0.0


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@pytest.fixture
def sql_log() -> Iterator[_Collect]:
    """What is logged on "orderreport.sql" (the CLI's --verbose shows it on stderr)."""
    logger = logging.getLogger("orderreport.sql")
    handler, level = _Collect(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def test_the_sql_log_has_statement_text_never_parameters_or_secrets(
    db_url: URL, sql_log: _Collect
) -> None:
    url = url_text(db_url.set(password=PASSWORD))
    r = run_cli(
        "--verbose",
        *("summary", "--date", "2031-07-19", "--tz", "Pacific/Chatham", "--database-url", url),
    )
    assert r.code == 0, r.err
    logged = "\n".join(sql_log.lines)
    assert "FROM orderreport.order_reports" in r.err and PASSWORD not in r.err  # --verbose
    assert "FROM orderreport.order_reports" in logged  # the summary itself
    assert "%(start)s" in logged and "set_config('TimeZone', %(tz)s" in logged
    for value in ("2031-07-19", "Pacific/Chatham", PASSWORD, "pg_catalog, pg_temp"):
        assert value not in logged, value
    assert all("\n" not in line for line in sql_log.lines)  # one line per statement


def test_the_sql_log_is_silent_unless_asked(db_url: URL) -> None:
    handler = _Collect()
    logger = logging.getLogger("orderreport.sql")
    logger.addHandler(handler)
    try:
        assert (
            run_cli("summary", "--date", "2031-07-19", "--database-url", url_text(db_url)).code == 0
        )
    finally:
        logger.removeHandler(handler)
    assert handler.lines == []  # WARNING by default: DEBUG records are not even made


_IMPORTS = """
import contextlib, io, json, sys
from orderreport import entry
with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):
    entry.run(json.loads(sys.argv[1]))
print(json.dumps(sorted({m.split('.')[0] for m in sys.modules} & {'sqlalchemy', 'alembic'})))
"""


@pytest.mark.parametrize("command", [["summary", "--date", "2025-12-16", "--json"], ["report"]])
def test_a_data_command_imports_no_sqlalchemy_nor_alembic(db_url: URL, command: list[str]) -> None:
    args = [*command, "--database-url", url_text(db_url)]
    done = subprocess.run(
        [sys.executable, "-c", _IMPORTS, json.dumps(args)],
        env=subprocess_env(),
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == []


# -- every wait watched, and let go of at once ---------------------------------------------
def _backends(url: URL) -> list[int]:
    with psycopg.connect(plain(url)) as conn:
        return [
            int(r[0])
            for r in conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE application_name = 'orderreport' "
                "AND datname = current_database() AND backend_type = 'client backend'"
            )
        ]


def _wait_for(predicate: Callable[[], object], timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.02)


def test_a_frozen_server_ends_a_summary_at_the_clients_deadline(db_url: URL) -> None:
    """The backend SIGSTOPped while summary waits on it (a lock, then the frozen server):
    the watchdog that pg.Connection's cursors arm ends the run in statement_timeout + 5 s."""
    with psycopg.connect(plain(db_url)) as holder:
        holder.execute("LOCK TABLE public.orders IN ACCESS EXCLUSIVE MODE")
        proc = spawn(db_url, "summary", "--date", "2025-12-16", "--statement-timeout", "1")
        _wait_for(lambda: _backends(db_url))
        (pid,) = _backends(db_url)
        os.kill(pid, signal.SIGSTOP)
        started = time.monotonic()
        try:
            out, err = proc.communicate(timeout=60)
        finally:
            os.kill(pid, signal.SIGCONT)
        elapsed = time.monotonic() - started
    assert proc.returncode == 1 and out == "", err
    assert "did not answer for 6 s (frozen or cut off)" in err.strip().splitlines()[-1]
    assert elapsed < 20


def test_sigterm_cancels_the_statement_in_flight(db_url: URL) -> None:
    """SIGTERM while summary waits on a lock: the statement is cancelled (limits.track,
    cancel_in_flight), so the server lets go of the session at once rather than when it
    next checks the client (client_connection_check_interval, 5 s)."""
    with psycopg.connect(plain(db_url)) as holder:
        holder.execute("LOCK TABLE public.orders IN ACCESS EXCLUSIVE MODE")
        proc = spawn(db_url, "summary", "--date", "2025-12-16")
        _wait_for(lambda: _waiting_on_a_lock(db_url))
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
        gone = time.monotonic()
        assert proc.returncode == 143, err
        _wait_for(lambda: not _backends(db_url), timeout=10)
        assert time.monotonic() - gone < limits.CLIENT_CHECK_INTERVAL / 2


def _waiting_on_a_lock(url: URL) -> bool:
    with psycopg.connect(plain(url)) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'orderreport' "
            "AND datname = current_database() AND wait_event_type = 'Lock'"
        ).fetchone()
    return bool(row and row[0])
