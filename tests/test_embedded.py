"""The embedded server: shared by concurrent runs, stopped after the last, robust to SIGKILL."""

from __future__ import annotations

import grp
import json
import os
import pwd
import random
import shutil
import signal
import stat
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from orderreport.db.embedded import DATABASE, PG_MAJOR, SERVER_USER, EmbeddedServer
from orderreport.errors import DatabaseUnavailable
from tests.conftest import ORDERREPORT, REPO, make_home, subprocess_env

STARTS_SERVERS = True  # no `nodb` here: each test starts a server of its own (conftest)

CLIENT = [sys.executable, str(REPO / "tests" / "embedded_client.py")]


@pytest.fixture
def home() -> Iterator[Path]:
    path = make_home("orderreport-embedded-")
    yield path
    # a test that failed half-way may leave the server up: stop it before deleting
    pid_file = path / "pgdata" / "postmaster.pid"
    if pid_file.exists():
        with EmbeddedServer(path):
            pass
    shutil.rmtree(path, ignore_errors=True)


def running(home: Path) -> bool:
    return (home / "pgdata" / "postmaster.pid").exists()


def attach(home: Path) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [*CLIENT, str(home)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO,
        env=subprocess_env(PYTHONPATH=str(REPO)),
    )
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()
    assert line.startswith("ready "), line
    return proc, line.removeprefix("ready ")


def detach(proc: subprocess.Popen[str]) -> None:
    out, _ = proc.communicate("\n", timeout=60)
    assert proc.returncode == 0 and "detached" in out


def test_shared_by_two_processes_and_stopped_after_the_last(home: Path) -> None:
    a, started_a = attach(home)
    b, started_b = attach(home)
    assert started_a == started_b  # one server, not two
    detach(a)
    assert running(home)
    c, started_c = attach(home)  # still the same server after the first left
    assert started_c == started_a
    detach(b)
    detach(c)
    assert not running(home)


def test_sigkilled_client_does_not_keep_the_server(home: Path) -> None:
    a, _ = attach(home)
    b, _ = attach(home)
    a.kill()
    a.wait()
    detach(b)  # b is the last live client: it stops the server
    assert not running(home)


def test_sigkilled_only_client_then_next_run_uses_and_stops(home: Path) -> None:
    a, _ = attach(home)
    a.kill()
    a.wait()
    assert running(home)  # nobody left to stop it yet
    result = subprocess.run(
        [*ORDERREPORT, "migrate"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd="/",
        env=subprocess_env(ORDERREPORT_HOME=str(home)),
    )
    assert result.returncode == 0, result.stderr
    assert not running(home)


def test_killed_server_is_restarted(home: Path) -> None:
    a, first = attach(home)
    detach(a)
    b, _ = attach(home)
    pid = int((home / "pgdata" / "postmaster.pid").read_text().split()[0])
    os.kill(pid, signal.SIGKILL)
    time.sleep(0.5)
    detach(b)  # stopping a dead server must not fail
    c, second = attach(home)
    assert second != first
    detach(c)
    assert not running(home)


def test_sigterm_stops_cleanly_and_leaves_no_half_data(home: Path) -> None:
    env = subprocess_env(ORDERREPORT_HOME=str(home))
    subprocess.run([*ORDERREPORT, "migrate"], check=True, env=env, capture_output=True)
    proc = subprocess.Popen(
        [*ORDERREPORT, "demo", "--days", "3000", "--orders-per-day", "300"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    deadline = time.monotonic() + 60
    while not running(home) and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(2.0)  # well inside the load
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 143, err
    assert err.strip().splitlines()[-1] == "orderreport: error: terminated by SIGTERM"
    assert "Traceback" not in err and out == ""
    assert not running(home)
    # nothing of the interrupted load was kept: demo still sees an empty shop
    again = subprocess.run(
        [*ORDERREPORT, "demo", "--days", "2", "--orders-per-day", "10", "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert again.returncode == 0, again.stderr


def test_locks_live_in_home_not_in_a_shared_folder(home: Path) -> None:
    a, _ = attach(home)
    detach(a)
    assert (home / "state.lock").exists() and (home / "users.lock").exists()
    assert not (home / "pgdata" / ".handle_pids.json").exists()


def test_no_folder_outside_home_changes_permissions(tmp_path: Path) -> None:
    parent = Path(make_home("orderreport-parent-"))
    try:
        parent.chmod(0o711)  # searchable, not listable, by others
        before = {p: p.stat().st_mode for p in [parent, *parent.parents]}
        with EmbeddedServer(parent / "home"):
            pass
        after = {p: p.stat().st_mode for p in [parent, *parent.parents]}
        assert before == after
        if os.geteuid() == 0:  # the server's files belong to its own user, not root
            info = (parent / "home" / "pgdata").stat()
            assert info.st_uid != 0 and stat.S_IMODE(info.st_mode) == 0o700
    finally:
        shutil.rmtree(parent, ignore_errors=True)


def test_unreachable_home_as_root_is_a_clear_error() -> None:
    parent = Path(make_home("orderreport-closed-"))
    try:
        parent.chmod(0o700)
        server = EmbeddedServer(parent / "home")
        if os.geteuid() == 0:
            with pytest.raises(DatabaseUnavailable, match="not searchable by others"):
                server.start()
            assert stat.S_IMODE(parent.stat().st_mode) == 0o700  # untouched
        else:  # as a normal user the server runs as that user: a private parent is fine
            with server:
                pass
            assert stat.S_IMODE(parent.stat().st_mode) == 0o700
    finally:
        shutil.rmtree(parent, ignore_errors=True)


def test_concurrent_first_runs_on_a_fresh_home(home: Path) -> None:
    env = subprocess_env(ORDERREPORT_HOME=str(home))
    procs = [
        subprocess.Popen(
            [*ORDERREPORT, "migrate"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    results = [(p.wait(timeout=180), *p.communicate()) for p in procs]
    assert [r[0] for r in results] == [0, 0, 0], results
    assert sum("from empty to" in r[2] for r in results) == 1
    assert not running(home)


def test_server_keeps_its_signals(home: Path) -> None:
    """Our start/stop sections block SIGINT/SIGTERM and run in our terminal's session; the
    server must end up with its signals and a session of its own, or stopping it breaks."""
    a, _ = attach(home)
    pid = int((home / "pgdata" / "postmaster.pid").read_text().split()[0])
    status = Path(f"/proc/{pid}/status").read_text()
    blocked = int(next(x for x in status.splitlines() if x.startswith("SigBlk:")).split()[1], 16)
    assert not blocked & (1 << (signal.SIGINT - 1) | 1 << (signal.SIGTERM - 1))
    assert os.getsid(pid) != os.getsid(0)  # not in our session: a Ctrl-C of ours can't stop it
    detach(a)
    assert not running(home)


def test_pixeltable_server_manager_is_never_imported(home: Path) -> None:
    """Only its binaries are used: its manager would lock in /tmp and loosen folders."""
    code = (
        "import sys; from pathlib import Path; from orderreport.db.embedded import EmbeddedServer\n"
        "with EmbeddedServer(Path(sys.argv[1])): pass\n"
        "print(sorted(m for m in sys.modules if m.startswith('pixeltable')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(home)],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=subprocess_env(),
        check=True,
    )
    assert result.stdout.strip() == "[]"


# -- the data is never deleted ------------------------------------------------------------
def _sql(url: str, statement: str, dbname: str | None = None) -> list[tuple[object, ...]]:
    conninfo = psycopg.conninfo.make_conninfo(url, **({"dbname": dbname} if dbname else {}))
    with psycopg.connect(conninfo, autocommit=True) as conn:
        cur = conn.execute(statement)
        return cur.fetchall() if cur.description else []


def test_removed_marker_keeps_the_data(home: Path) -> None:
    with EmbeddedServer(home) as url:
        _sql(url, "CREATE TABLE kept (what text)")
        _sql(url, "INSERT INTO kept VALUES ('precious')")
    (home / "initialized").unlink()
    with EmbeddedServer(home) as url:
        assert _sql(url, "SELECT what FROM kept") == [("precious",)]
    assert (home / "initialized").exists()  # written again
    assert not running(home)


def test_removed_marker_and_database_make_the_database_again(home: Path) -> None:
    with EmbeddedServer(home) as url:
        _sql(url, "CREATE TABLE kept_too (n int)", "postgres")
        _sql(url, f'DROP DATABASE "{DATABASE}" WITH (FORCE)', "postgres")
    (home / "initialized").unlink()
    with EmbeddedServer(home) as url:
        assert _sql(url, "SELECT 1") == [(1,)]  # the database is back ...
        assert _sql(url, "SELECT count(*) FROM kept_too", "postgres") == [(0,)]


def test_half_made_pgdata_is_never_deleted(home: Path) -> None:
    half = home / "pgdata" / "base" / "1"
    half.parent.mkdir(parents=True)
    half.write_text("someone's data")
    with pytest.raises(DatabaseUnavailable, match="holds no PostgreSQL cluster"):
        EmbeddedServer(home).start()
    assert half.read_text() == "someone's data"
    assert not running(home)
    # moved away as the message says, the next run makes a cluster; a dead first run's
    # pgdata.initdb (never a cluster anyone used) does not get in its way
    (home / "pgdata").rename(home / "pgdata.old")
    (home / "pgdata.initdb" / "global").mkdir(parents=True)
    with EmbeddedServer(home) as url:
        assert _sql(url, "SELECT 1") == [(1,)]
    assert (home / "pgdata.old" / "base" / "1").read_text() == "someone's data"
    assert not (home / "pgdata.initdb").exists()


def test_sigkilled_first_run_during_initdb_then_next_run_works(home: Path) -> None:
    """The killed run's initdb must die with it, not go on writing while the next run
    clears its unfinished pgdata.initdb."""
    env = subprocess_env(ORDERREPORT_HOME=str(home))
    first = subprocess.Popen([*ORDERREPORT, "migrate"], env=env, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while not (home / "pgdata.initdb").exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.3)  # well inside initdb
    first.kill()
    first.wait()
    assert not (home / "pgdata").exists()  # never a half-made cluster
    result = subprocess.run(
        [*ORDERREPORT, "migrate"], capture_output=True, text=True, env=env, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert not running(home)


# -- private whatever the umask -----------------------------------------------------------
def _mode_problems(home: Path) -> list[str]:
    """Everything in `home` that is not as private as the module docstring promises."""
    root = os.geteuid() == 0
    group = grp.getgrnam(SERVER_USER).gr_gid if root else None
    server_uid = pwd.getpwnam(SERVER_USER).pw_uid if root else os.geteuid()
    binaries = f"pgsql-{PG_MAJOR}"
    problems = []
    for path in [home, *home.rglob("*")]:
        info = path.lstat()
        mode, rel = stat.S_IMODE(info.st_mode), path.relative_to(home)
        is_dir = stat.S_ISDIR(info.st_mode)
        top = rel.parts[0] if rel.parts else ""
        if path == home:
            want, gid = (0o710, group) if root else (0o700, None)
        elif top == binaries and is_dir:
            want, gid = 0o750, group
        elif top == binaries and rel.name != ".source":
            # links to the wheel's own files, with its modes: only never writable by others
            if not stat.S_ISLNK(info.st_mode) and mode & 0o022:
                problems.append(f"{rel} {mode:o}")
            continue
        else:
            want, gid = (0o700 if is_dir else 0o600), None
        if mode != want or (gid is not None and info.st_gid != gid):
            problems.append(f"{rel} {mode:o} gid {info.st_gid} (want {want:o})")
        server_owns = top in ("pgdata", "run", "server.log")
        if root and top and (info.st_uid == server_uid) != server_owns:
            problems.append(f"{rel} owned by uid {info.st_uid}")
    return problems


def test_private_under_umask_000_and_old_homes_tightened(home: Path) -> None:
    env = subprocess_env(ORDERREPORT_HOME=str(home))
    loose = ["sh", "-c", 'umask 000; exec "$@"', "sh", *ORDERREPORT, "migrate"]
    result = subprocess.run(loose, capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    assert (home / "pgdata" / "PG_VERSION").exists()
    assert _mode_problems(home) == []
    # as an older orderreport left it: a home open to all, a marker 0644, an old copy
    home.chmod(0o755)
    (home / "initialized").chmod(0o644)
    (home / "state.lock").chmod(0o644)
    stamp = home / f"pgsql-{PG_MAJOR}" / ".source"
    if stamp.exists():
        stamp.write_text(stamp.read_text().splitlines()[0])
        (home / f"pgsql-{PG_MAJOR}").chmod(0o755)
    result = subprocess.run(loose, capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    assert _mode_problems(home) == []


# -- SIGTERM while the server starts or stops ---------------------------------------------
TERMINATED = "orderreport: error: terminated by SIGTERM"


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_sigterm_while_starting_or_stopping_exits_143_with_one_line(home: Path) -> None:
    """Real runs of main() (forked from a process that imported it once) on the real server,
    each sent SIGTERM at a random moment while the server starts, or while it stops."""
    env = subprocess_env(ORDERREPORT_HOME=str(home), PYTHONPATH=str(REPO))
    migrated = subprocess.run([*ORDERREPORT, "migrate"], capture_output=True, text=True, env=env)
    assert migrated.returncode == 0, migrated.stderr
    runner = subprocess.Popen(
        [*CLIENT, "--cli"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env
    )

    def run(at: str | None = None, delay: float = 0.0) -> dict[str, Any]:
        assert runner.stdin is not None and runner.stdout is not None
        request = {"args": ["history", "--json"], "at": at, "delay": delay}
        runner.stdin.write(json.dumps(request) + "\n")
        runner.stdin.flush()
        reply: dict[str, Any] = json.loads(runner.stdout.readline())
        reply.update(at=at, delay=delay, left_running=running(home))
        return reply

    try:
        plain = [run() for _ in range(3)]
        assert [r["code"] for r in plain] == [0, 0, 0], plain
        spans = {  # how long each step takes here (a signal is sent only inside it)
            "start": statistics.median(r["marks"]["S"] - r["marks"]["s"] for r in plain),
            "stop": statistics.median(r["marks"]["T"] - r["marks"]["t"] for r in plain),
        }
        seed = random.randrange(1 << 30)
        rng = random.Random(seed)
        steps = ["start", "stop"] * 25
        results = [run(step, rng.uniform(0, spans[step])) for step in steps]
        after = run()
    finally:
        assert runner.stdin is not None
        runner.stdin.close()
        runner.wait(timeout=60)
    bad = [
        r
        for r in results
        if r["code"] != (143 if r["killed"] else 0)
        or (r["killed"] and r["stderr"].splitlines() != [TERMINATED])
    ]
    assert bad == [], f"seed {seed}: {bad}"
    codes = Counter((r["at"], r["code"]) for r in results)
    assert codes["start", 143] >= 10 and codes["stop", 143] >= 10, f"seed {seed}: {codes}"
    # An interrupted start detaches again, so it leaves no server behind. One exception:
    # between __enter__ returning and ExitStack.enter_context noting __exit__ (in db.py) are
    # a few bytecodes where a signal leaves the server to the next client, which stops it.
    left = [r for r in results if r["left_running"]]
    assert len(left) <= 1, f"seed {seed}: {left}"
    assert after["code"] == 0, after
    assert not running(home)
