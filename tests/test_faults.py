"""The fault suite: every row of README's "When things go wrong", provoked for real.

Locks held from a second connection, a backend frozen with SIGSTOP, signals at random
points in loops, closed and full stdout, malformed URLs, files and flags, a read-only
session. Every run uses a URL carrying a password (the test server trusts local
connections, so it is never checked) and every output is searched for it.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import time
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import URL

from orderreport.cli.dates import MAX_SPAN_DAYS
from orderreport.db import DAILY_LOCK_KEY
from tests.conftest import (
    ORDERREPORT,
    fill_days,
    plain,
    run_cli,
    spawn,
    stored,
    subprocess_env,
    url_text,
)

PASSWORD = "S3cr3t-Pw_xyz"
FIRST = date(2025, 12, 1)
DAYS = 5
OUT: list[str] = []  # everything the suite saw orderreport print


@pytest.fixture
def secret_url(db_url: URL) -> Iterator[URL]:
    """The test database, with three orders a day for DAYS days, behind a URL with a password."""
    with psycopg.connect(plain(db_url), autocommit=True) as conn:
        fill_days(conn, FIRST, DAYS)
    yield db_url.set(password=PASSWORD)
    leaked = [text for text in OUT if PASSWORD in text]
    OUT.clear()
    assert not leaked, leaked


def cli(url: URL | str | None, *args: str) -> tuple[int, str, str]:
    text = url_text(url) if isinstance(url, URL) else url
    extra = ("--database-url", text) if text is not None else ()
    r = run_cli(*args, *extra)
    OUT.extend((r.out, r.err))
    return r.code, r.out, r.err


def finish(proc: subprocess.Popen[str], timeout: float = 60) -> tuple[int, str, str]:
    out, err = proc.communicate(timeout=timeout)
    OUT.extend((out, err))
    return proc.returncode, out, err


def one_line(err: str, starts: str = "orderreport: error: ") -> str:
    """The failure's one line: the last on stderr, and the only error line (progress lines
    with a timestamp may come before it)."""
    lines = err.splitlines()
    assert lines and lines[-1].startswith(starts), err
    assert sum(line.startswith(starts) for line in lines) == 1, err
    assert all(line[:4].isdigit() for line in lines[:-1]), err
    return lines[-1]


def all_days() -> list[tuple[date, int, str]]:
    return [(FIRST + timedelta(days=i), 3, "6.60") for i in range(DAYS)]


SPAN = ("--from", FIRST.isoformat(), "--to", (FIRST + timedelta(days=DAYS - 1)).isoformat())


def backends(url: URL, app: str = "orderreport") -> list[int]:
    with psycopg.connect(plain(url)) as conn:
        return [
            int(r[0])
            for r in conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE application_name = %s "
                "AND datname = current_database() AND backend_type = 'client backend'",
                (app,),
            )
        ]


def catches(pid: int, sig: int) -> bool:
    """True once process `pid` has a handler for `sig` (SigCgt in /proc/PID/status)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return True  # gone already: nothing left to wait for
    mask = next(line.split()[1] for line in status.splitlines() if line.startswith("SigCgt:"))
    return bool(int(mask, 16) >> (sig - 1) & 1)


def with_query(url: URL, query: str) -> str:
    """The URL as text with `query` (already percent-encoded, as a user would write it)."""
    text = url_text(url)
    return text + ("&" if "?" in text else "?") + query


def wait_for(predicate: object, timeout: float = 20, step: float = 0.05) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(step)


# -- hangs and stalls ---------------------------------------------------------------------
@pytest.mark.parametrize("command", [["daily", *SPAN], ["status"], ["history"]])
def test_a_locked_table_is_a_one_line_failure_within_the_lock_timeout(
    secret_url: URL, command: list[str]
) -> None:
    with psycopg.connect(plain(secret_url)) as holder:
        holder.execute("LOCK TABLE orderreport.daily_reports IN ACCESS EXCLUSIVE MODE")
        started = time.monotonic()
        code, out, err = cli(secret_url, *command, "--lock-timeout", "1")
        elapsed = time.monotonic() - started
    assert code == 1 and out == ""
    assert "stayed locked by another session for over 1 s" in one_line(err)
    assert elapsed < 10
    assert cli(secret_url, "daily", *SPAN)[0] == 0
    assert stored(secret_url) == all_days()


def test_a_frozen_server_ends_the_run_at_the_clients_deadline(secret_url: URL) -> None:
    """SIGSTOP the backend while daily waits on it: the client's own deadline ends the run."""
    with psycopg.connect(plain(secret_url)) as holder:
        holder.execute("LOCK TABLE orderreport.daily_reports IN ACCESS EXCLUSIVE MODE")
        proc = spawn(secret_url, "daily", *SPAN, "--statement-timeout", "1")
        wait_for(lambda: backends(secret_url))
        (pid,) = backends(secret_url)
        time.sleep(0.3)
        os.kill(pid, signal.SIGSTOP)
        started = time.monotonic()
        try:
            code, out, err = finish(proc)
        finally:
            os.kill(pid, signal.SIGCONT)
        elapsed = time.monotonic() - started
    assert code == 1 and out == ""
    assert "did not answer for 6 s (frozen or cut off)" in one_line(err)
    assert elapsed < 20
    assert cli(secret_url, "daily", *SPAN)[0] == 0
    assert stored(secret_url) == all_days()


def test_a_killed_run_leaves_no_lock_behind(secret_url: URL) -> None:
    """daily killed while its statement waits: the server drops its work and advisory lock."""
    with psycopg.connect(plain(secret_url)) as holder:
        holder.execute("LOCK TABLE orderreport.daily_reports IN ACCESS EXCLUSIVE MODE")
        first = spawn(secret_url, "daily", *SPAN)
        wait_for(lambda: backends(secret_url))
        time.sleep(0.5)
        first.send_signal(signal.SIGTERM)
        code, _, err = finish(first)
        assert code == 143 and one_line(err) == "orderreport: error: terminated by SIGTERM"
        # the next run gets the advisory lock well within its --wait (it then meets the
        # table lock, still held, and gives up on that after --lock-timeout: not exit 75)
        started = time.monotonic()
        code, _, err = cli(secret_url, "daily", *SPAN, "--wait", "30", "--lock-timeout", "1")
        assert code == 1 and "stayed locked" in err, err
        assert time.monotonic() - started < 15
    assert cli(secret_url, "daily", *SPAN)[0] == 0
    assert stored(secret_url) == all_days()


# -- passwords ----------------------------------------------------------------------------
def test_passwords_never_shown(secret_url: URL, tmp_path: Path) -> None:
    query = with_query(secret_url.set(password=None), f"password={PASSWORD}")
    _, out, _ = cli(query, "status", "--json")
    assert '"database": "postgresql+psycopg://postgres:***@' in out
    unencoded = f"postgresql://u:p@ss{PASSWORD}@127.0.0.1:9/db"
    r = run_cli("status", "--database-url", unencoded)
    OUT.extend((r.out, r.err))
    assert r.code == 1 and "cannot connect to" in one_line(r.err)
    assert "ss" + PASSWORD not in r.err
    short = run_cli("status", "--database-url", "postgresql://rel:pw@127.0.0.1:9/rel_pw")
    assert "rel:***@" in short.err and "/rel_pw" in short.err
    config = tmp_path / "config.toml"
    config.write_text(f'database_url = "{url_text(secret_url)}"\n')
    config.chmod(0o644)
    r = run_cli("status", "--config", str(config))
    OUT.extend((r.out, r.err))
    assert "holds a password and is readable by other users" in r.err
    config.chmod(0o600)
    assert "readable by other users" not in run_cli("status", "--config", str(config)).err
    assert "user:pass" not in run_cli("report", "--help").out


# -- signals and pipes --------------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.timeout(300)
def test_sigterm_at_random_points_of_daily(secret_url: URL) -> None:
    """50 runs, SIGTERM at a random moment: 0 or 143 with its one line, never anything else;
    and whatever was stored is whole, and a plain run then stores every day right."""
    rng = random.Random(7)
    codes: dict[int, int] = {}
    for _ in range(50):
        proc = spawn(secret_url, "daily", *SPAN, "--wait", "10")
        # from the moment its handler is in place (a signal before Python runs any of
        # orderreport's code ends it the default way), through imports, connecting, the
        # lock, the days and the commits, to the end
        wait_for(lambda: catches(proc.pid, signal.SIGTERM))  # noqa: B023
        time.sleep(rng.uniform(0, 0.9))
        proc.send_signal(signal.SIGTERM)
        code, _, err = finish(proc)
        codes[code] = codes.get(code, 0) + 1
        assert code in (0, 143), err
        if code == 143:
            assert one_line(err) == "orderreport: error: terminated by SIGTERM"
        for day, n, value in stored(secret_url):
            assert (n, value) == (3, "6.60"), (day, n, value)
    assert codes.get(143, 0) >= 10, codes
    assert cli(secret_url, "daily", *SPAN)[0] == 0
    assert stored(secret_url) == all_days()


SOAK_RUNS = 20  # SIGTERMed runs, each followed at once by the next
SOAK_SECONDS = 240.0  # and the loop stops after this long, however far it got
LET_GO = 0.25  # seconds from a killed run's exit until the server has let go of its lock


def daily_lock_free(url: URL) -> bool:
    """True if daily's advisory lock can be taken now (it goes again with this session)."""
    with psycopg.connect(plain(url), autocommit=True) as conn:
        row = conn.execute("SELECT pg_try_advisory_lock(%s)", (DAILY_LOCK_KEY,)).fetchone()
    return bool(row and row[0])


def summing(url: URL) -> bool:
    """True while orderreport's backend runs the summary statement (queries.summaries)."""
    with psycopg.connect(plain(url)) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'orderreport' "
            "AND datname = current_database() AND state = 'active' "
            "AND query LIKE '%WITH days AS%'"
        ).fetchone()
    return row is not None and row[0] > 0


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_a_terminated_run_lets_go_of_the_lock_at_once(db_url: URL) -> None:
    """SIGTERM a year's daily at a random moment (every other time early in its summary
    statement): the lock is free within LET_GO of its exit, and the next run, started at
    once (--wait 0), gets it. The signal cancels the statement in flight; without that the
    server would go on with it (and hold the run's advisory lock) until it noticed the
    client gone, up to client_connection_check_interval later: exit 75 for the next run."""
    with psycopg.connect(plain(db_url), autocommit=True) as conn:
        # 400k orders: the year's summary statement takes a second or two. The shop's
        # foreign key goes first, or loading them would take half a minute
        conn.execute("ALTER TABLE orders DROP CONSTRAINT IF EXISTS orders_user_id_fkey")
        conn.execute("INSERT INTO users (name, email) VALUES ('f', 'f@x')")
        conn.execute(
            "INSERT INTO orders (user_id, total_amount, status, created_at, updated_at) "
            "SELECT (SELECT min(id) FROM users), 1.10, 'paid', TIMESTAMPTZ '2025-01-01 00:00Z' "
            "+ (g % 365) * INTERVAL '1 day' + (g % 86400) * INTERVAL '1 second', now() "
            "FROM generate_series(1, 400000) g"
        )
        conn.execute("ANALYZE orders")
        # and serially, as on many servers (no parallel workers to share it)
        conn.execute(f'ALTER DATABASE "{db_url.database}" SET max_parallel_workers_per_gather = 0')
    year = ("--from", "2025-01-01", "--to", "2025-12-31")
    started = time.monotonic()
    code, _, err = finish(spawn(db_url, "daily", *year, "-f", "csv"))
    whole = time.monotonic() - started  # one whole run, start-up to exit
    assert code == 0, err
    rng = random.Random(11)
    codes: dict[int, int] = {}
    deadline = time.monotonic() + SOAK_SECONDS
    for i in range(SOAK_RUNS):
        if time.monotonic() > deadline:
            break
        proc = spawn(db_url, "daily", *year, "-f", "csv")
        wait_for(lambda: catches(proc.pid, signal.SIGTERM))  # noqa: B023
        if i % 2:  # anywhere in the run
            time.sleep(rng.uniform(0, whole))
        else:  # early in the year's statement, the case the cancel is for
            wait_for(lambda: summing(db_url) or proc.poll() is not None, step=0.01)  # noqa: B023
            time.sleep(rng.uniform(0, 0.3))
        proc.send_signal(signal.SIGTERM)
        code, _, err = finish(proc)
        codes[code] = codes.get(code, 0) + 1
        assert code in (0, 143), err
        gone = time.monotonic()
        while not daily_lock_free(db_url):  # the killed run's session let go of it: now
            assert time.monotonic() - gone < LET_GO, f"the lock outlived run {i} (exit {code})"
            time.sleep(0.01)
        code, _, err = finish(spawn(db_url, "daily", "--date", "2025-06-01"))
        assert code == 0, err  # never 75
    assert codes.get(143, 0) >= 10, codes
    with psycopg.connect(plain(db_url)) as conn:
        day = conn.execute(
            "SELECT total_orders FROM orderreport.daily_reports WHERE report_date = '2025-06-01'"
        ).fetchone()
    assert day == (1096,)  # g % 365 = 151 for g = 151 + 365k, k = 0 … 1095


def test_ctrl_c_is_130_with_a_line(secret_url: URL) -> None:
    with psycopg.connect(plain(secret_url)) as holder:
        holder.execute("LOCK TABLE orderreport.daily_reports IN ACCESS EXCLUSIVE MODE")
        proc = spawn(secret_url, "daily", *SPAN)
        wait_for(lambda: backends(secret_url))
        time.sleep(0.3)
        proc.send_signal(signal.SIGINT)
        code, _, err = finish(proc)
    assert code == 130 and one_line(err) == "orderreport: error: interrupted"
    assert stored(secret_url) == []


# A SIGTERM that lands while the CLI's imports make a dataclass: its __set_name__ is where
# the early handler's exit is raised, and Python 3.11 wraps that in a RuntimeError (seen
# once in 50 in the random soak above; here made to happen every time).
_DURING_SET_NAME = """
import importlib.abc, os, signal, sys
from orderreport import entry
class Kill:
    def __set_name__(self, owner, name):
        os.kill(os.getpid(), signal.SIGTERM)  # handled before __set_name__ returns
        for _ in range(1000):
            pass

class Finder(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name == "orderreport.cli.app":
            type("Made", (), {"k": Kill()})
        return None

sys.meta_path.insert(0, Finder())
sys.argv = ["orderreport", "summary"]
entry.main()
"""


def test_sigterm_inside_an_import_s_set_name_is_still_143_and_one_line() -> None:
    result = subprocess.run(
        [ORDERREPORT[0], "-c", _DURING_SET_NAME],
        env=subprocess_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 143, result.stderr
    assert result.stderr == "orderreport: error: terminated by SIGTERM\n"


def _shell(url: URL, line: str) -> subprocess.CompletedProcess[str]:
    env = subprocess_env(ORDERREPORT_DATABASE_URL=url_text(url))
    orderreport = " ".join(ORDERREPORT)
    result = subprocess.run(
        ["bash", "-c", f"set -o pipefail; {line.replace('OR', orderreport)}"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    OUT.extend((result.stdout, result.stderr))
    return result


def test_pipes_closed_and_full(secret_url: URL) -> None:
    for fmt in ("table", "csv", "jsonl"):  # csv and jsonl come from COPY, cut short here
        head = _shell(secret_url, f"OR report --all -f {fmt} | head -1")
        assert head.returncode == 0 and head.stderr == "" and head.stdout.count("\n") == 1
    closed = _shell(secret_url, "OR summary >&-")
    assert closed.returncode == 1
    assert (
        closed.stderr == "orderreport: error: stdout is closed: redirect it instead (>/dev/null)\n"
    )
    for fmt in ("table", "csv"):
        full = _shell(secret_url, f"OR report --all -f {fmt} > /dev/full")
        assert full.returncode == 1
        assert full.stderr == (
            "orderreport: error: cannot write the output: No space left on device\n"
        )


@pytest.mark.slow
@pytest.mark.timeout(180)
@pytest.mark.parametrize("fault", ["statement_timeout", "terminated"])
@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_an_export_cut_short_by_the_server_is_one_line(
    secret_url: URL, fmt: str, fault: str
) -> None:
    """A COPY stopped mid-stream (while its reader dawdles): exit 1 and one line naming why."""
    with psycopg.connect(plain(secret_url), autocommit=True) as conn:
        conn.execute(  # some 10 MB of rows: more than the pipe and the sockets hold
            "INSERT INTO orders (user_id, total_amount, status, created_at, updated_at) "
            "SELECT (SELECT min(id) FROM users), g / 100.0, 'paid', "
            "TIMESTAMPTZ '2024-01-01' + g * INTERVAL '1 minute', now() "
            "FROM generate_series(1, 200000) g"
        )
    timeout = "--statement-timeout 2 " if fault == "statement_timeout" else ""
    proc = subprocess.Popen(
        [
            "bash",
            "-c",
            f"OR report --all -f {fmt} {timeout}| (sleep 5; wc -c)".replace(
                "OR", " ".join(ORDERREPORT)
            )
            + "; exit ${PIPESTATUS[0]}",
        ],
        env=subprocess_env(ORDERREPORT_DATABASE_URL=url_text(secret_url)),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    if fault == "terminated":
        wait_for(lambda: backends(secret_url))
        time.sleep(1.5)  # the COPY is under way, its reader asleep
        with psycopg.connect(plain(secret_url)) as conn:
            conn.execute("SELECT pg_terminate_backend(%s)", backends(secret_url))
    code, out, err = finish(proc)
    assert code == 1, err
    assert int(out) > 0  # the rows before the cut were written
    why = {
        "statement_timeout": "a statement ran for over 2 s (statement_timeout",
        # the backend, blocked sending rows, cannot say why it goes: the socket just closes
        "terminated": "database error: lost the connection to the database server (",
    }[fault]
    assert why in one_line(err), err


# -- bad input ----------------------------------------------------------------------------
def test_bad_files_and_urls_are_exit_2(tmp_path: Path) -> None:
    latin = tmp_path / "latin1.toml"
    latin.write_bytes('tz = "Europe/Z\xfcrich"\n'.encode("latin-1"))
    cases = [
        (["--config", str(latin)], "not UTF-8 text"),
        (["--config", "/dev/zero"], "not a regular file"),
        (["--database-url", "postgresql://u@h:port/db"], "the port is not a number"),
        (["--database-url", "postgresql://u@h/db?bogus=1"], "unknown connection option 'bogus'"),
        (["--tz", "right/UTC"], "unknown time zone 'right/UTC'"),
        (["--date", "2025-W01-1"], "invalid date '2025-W01-1'"),
    ]
    for args, needle in cases:
        r = run_cli("summary", *args)
        assert r.code == 2 and needle in one_line(r.err), (args, r.err)
    big = tmp_path / "big.toml"
    big.write_text("# " + "x" * 70_000 + "\n")
    r = run_cli("summary", "--config", str(big))
    assert r.code == 2 and "larger than 64 KiB" in r.err
    r = run_cli("report", "--all", "--date", "")
    assert r.code == 2 and "--all cannot be combined" in r.err
    r = run_cli("summary", "--tz", "x" * 100_000)
    assert r.code == 2 and len(one_line(r.err)) < 200 and "(100000 characters)" in r.err
    r = run_cli("summary", "--format", "y" * 100_000)
    assert r.code == 2 and len(one_line(r.err)) <= 320


def test_spans_are_bounded_exactly(secret_url: URL) -> None:
    start = date(2000, 1, 1)
    at_bound = (start + timedelta(days=MAX_SPAN_DAYS - 1)).isoformat()
    past = (start + timedelta(days=MAX_SPAN_DAYS)).isoformat()
    code, out, err = cli(
        secret_url, "summary", "--from", start.isoformat(), "--to", at_bound, "-f", "csv"
    )
    assert code == 0 and out.count("\n") == MAX_SPAN_DAYS + 1, err
    for command in ("summary", "daily", "report"):
        code, _, err = cli(secret_url, command, "--from", start.isoformat(), "--to", past)
        assert code == 2 and f"at most {MAX_SPAN_DAYS:,} days" in one_line(err), (command, err)
    assert stored(secret_url) == []


def test_demo_on_a_shop_is_one_line_and_changes_nothing(secret_url: URL) -> None:
    code, out, err = cli(secret_url, "demo", "--days", "1")
    assert code == 1 and out == "" and "already has 15 orders" in one_line(err)
    assert not err.startswith("\n")
    assert stored(secret_url) == []


def test_verbose_shows_a_traceback_without_the_password(
    secret_url: URL, monkeypatch: pytest.MonkeyPatch
) -> None:
    from orderreport.reports import queries

    def broken(*_: object, **__: object) -> None:  # an error we cannot provoke for real
        raise RuntimeError(f"boom near {url_text(secret_url)}")

    monkeypatch.setattr(queries, "summaries", broken)
    code, _, err = cli(secret_url, "summary")
    assert code == 1 and "unexpected RuntimeError" in one_line(err) and "Traceback" not in err
    r = run_cli("--verbose", "summary", "--database-url", url_text(secret_url))
    OUT.extend((r.out, r.err))
    assert r.code == 1 and "Traceback (most recent call last)" in r.err
    assert r.err.splitlines()[-1].startswith("orderreport: error: unexpected RuntimeError")


def test_migrate_takes_format(secret_url: URL) -> None:
    code, out, err = cli(secret_url, "migrate", "--plan", "--format", "json")
    assert code == 0 and out.startswith("["), err


# -- read-only servers --------------------------------------------------------------------
def test_read_only_server_says_so(secret_url: URL) -> None:
    read_only = with_query(secret_url, "options=-c%20default_transaction_read_only%3Don")
    code, out, err = cli(read_only, "daily", *SPAN)
    assert code == 1 and out == ""
    assert "the database server is read-only" in one_line(err) and "primary" in err
    assert cli(read_only, "summary", "--date", FIRST.isoformat())[0] == 0
    assert cli(read_only, "status")[0] == 1  # unhealthy (nothing stored), but it answers
    assert stored(secret_url) == []


def test_user_options_are_kept(secret_url: URL) -> None:
    """The user's own statement_timeout in the URL wins over orderreport's default."""
    tight = with_query(secret_url, "options=-c%20statement_timeout%3D1")
    code, _, err = cli(tight, "summary", "--from", "2000-01-01", "--to", "2009-12-31", "-f", "csv")
    assert code == 1 and "statement" in err, err
    env_tight = subprocess_env(
        ORDERREPORT_DATABASE_URL=url_text(secret_url), PGOPTIONS="-c statement_timeout=1"
    )
    r = subprocess.run(
        [*ORDERREPORT, "summary", "--from", "2000-01-01", "--to", "2009-12-31", "-f", "csv"],
        env=env_tight,
        capture_output=True,
        text=True,
        timeout=60,
    )
    OUT.extend((r.stdout, r.stderr))
    assert r.returncode == 1 and "statement" in r.stderr
