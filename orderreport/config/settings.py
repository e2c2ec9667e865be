"""Settings, read once and validated here: flags > environment > config file > defaults.

The bounds a user sets (how long to wait for a connection, a lock, a statement; how many
days one run catches up and restates; how many runs a listing shows) and those of delivery
(each send's timeouts and retry) are named here, with their defaults, and documented once
in README.md. The rest live beside the one place that applies them: how long migrate waits
for another migrate (schema/migrate.py), the TCP keep-alive and a signalled run's cancel
(db/limits.py), how long a run tries to record its outcome after losing its connection
(reports/runs.py), the Pushgateway's timeout (deliver/metrics.py), how long a message or
an excerpt of a bad value may be (errors.py), the longest span of days (cli/dates.py) and
the size of a source's SQL (config/sources.py).
"""

from __future__ import annotations

import errno
import os
import stat
import tomllib
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from orderreport.config import redact, sources, urls
from orderreport.config.sources import Source
from orderreport.errors import UsageError, excerpt

DEFAULT_TZ = "UTC"
# Seconds. A lock a statement waits for longer than this gives up (lock_timeout); `migrate`
# waits less, since while its ALTER TABLE waits the shop's own queries queue behind it.
DEFAULT_LOCK_TIMEOUT = 30.0
MIGRATE_LOCK_TIMEOUT = 5.0
# Seconds a statement may run (statement_timeout); building an index on a big shop is slow.
DEFAULT_STATEMENT_TIMEOUT = 600.0
MIGRATE_STATEMENT_TIMEOUT = 3600.0
CONNECT_TIMEOUT = 10  # seconds to establish a connection (libpq connect_timeout)
MAX_SECONDS = 86400.0  # the largest bound a user may set: a day
CONFIG_MAX_BYTES = 64 * 1024  # a config file is a few lines; /dev/zero is not one
CONFIG_KEYS = (
    "database_url",
    "tz",
    "shop_schema",
    "naive_tz",
    "lock_timeout",
    "statement_timeout",
    "platform",
    "currency",
    "notify",  # a list of Apprise URLs: where daily and digest send the morning report
    "source",  # a table: the shop's own source (sources.py)
)
NUMBER_KEYS = frozenset({"lock_timeout", "statement_timeout"})
# Why the default config path may be impossible to open at all, which counts as no file:
# HOME=/dev/null or a file, XDG_CONFIG_HOME a file, a folder we may not enter, a symlink loop.
# Only for the default: a file named by --config or ORDERREPORT_CONFIG must be read.
UNOPENABLE = frozenset(
    {errno.ENOTDIR, errno.EACCES, errno.EPERM, errno.ELOOP, errno.EISDIR, errno.ENAMETOOLONG}
)
# As root the embedded server cannot live under /root: PostgreSQL refuses to run as root and
# its own user could not traverse root's 0700 home without loosening it, which we never do.
ROOT_HOME = Path("/var/lib/orderreport")


@dataclass(frozen=True)
class Settings:
    """Everything a command needs to know about where and how to run."""

    # a postgresql:// URI as psycopg.connect takes it (urls.normalize); None: the embedded
    # server under `home`. It holds the password: show it only through redact.mask_url
    database_url: str | None
    tz: str  # a valid IANA zone name: the shop's calendar
    home: Path  # orderreport's own folder (embedded server data, locks)
    config_file: Path | None  # the file that was read, if any
    shop_schema: str | None = None  # schema of orders/order_items; None: the search path
    naive_tz: str | None = None  # zone of `timestamp without time zone`; None: the server's
    lock_timeout: float | None = None  # seconds; None: the command's default
    statement_timeout: float | None = None  # seconds; None: the command's default
    # where the orders come from: a preset, the config file's [source], else detected
    source: Source | None = None
    currency: str | None = None  # a fixed currency code for a source without a column
    # Apprise URLs the morning report (and a failed run's notice) go to: secrets, like a
    # password (notify.register masks them); ORDERREPORT_NOTIFY or config `notify`
    notify: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()  # said on stderr, e.g. a readable config file's password
    notes: tuple[str, ...] = ()  # said under --verbose, e.g. why no default config file was read

    @property
    def embedded(self) -> bool:
        return self.database_url is None

    def describe_database(self) -> str:
        """The database for humans: never with a password or a secret parameter."""
        if self.database_url is None:
            return f"embedded ({self.home / 'pgdata'})"
        return redact.mask_url(self.database_url)


def normalize_url(raw: str, source: str = "database URL") -> str:
    """A database URL as the postgresql:// URI psycopg.connect takes (urls.normalize)."""
    return urls.normalize(raw, source)


def validate_tz(name: str, source: str) -> str:
    """Return `name` if it is an IANA zone name, else raise UsageError naming `source`.

    Only the canonical names count: `right/UTC` or `posix/…` (leap-second and POSIX copies)
    would pass Python's zoneinfo and then be refused by PostgreSQL.
    """
    unusable = name.startswith(("right/", "posix/", "/", ".")) or ".." in name
    try:
        if unusable or name in ("localtime", "Factory") or name != name.strip():
            raise ValueError(name)
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        raise UsageError(f"{source}: unknown time zone {excerpt(name)}") from None
    return name


def default_home() -> Path:
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        return ROOT_HOME
    import platformdirs  # only here: root, and ORDERREPORT_HOME, never need it

    return platformdirs.user_data_path("orderreport")


def default_config_path(env: Mapping[str, str]) -> Path:
    xdg = env.get("XDG_CONFIG_HOME") or str(Path(env.get("HOME") or Path.home()) / ".config")
    return Path(xdg) / "orderreport" / "config.toml"


def _read_bounded(path: Path) -> bytes:
    """The file's bytes: a regular file of at most CONFIG_MAX_BYTES, else UsageError."""
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | getattr(os, "O_NONBLOCK", 0))
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise UsageError(f"config file {path}: not a regular file")
        data = os.read(fd, CONFIG_MAX_BYTES + 1)
    finally:
        os.close(fd)
    if len(data) > CONFIG_MAX_BYTES:
        raise UsageError(f"config file {path}: larger than {CONFIG_MAX_BYTES // 1024} KiB")
    return data


def _read_config(path: Path, explicit: bool) -> tuple[dict[str, object], tuple[str, ...]]:
    """The file's keys, validated, and notes for --verbose. A default path (not `explicit`)
    that cannot be opened at all (UNOPENABLE) is no file, with a note saying why; one that
    opens but is not a valid config file is an error, as an explicit path is."""
    try:
        if not explicit and path.is_dir():
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR))
        raw = _read_bounded(path)
    except FileNotFoundError:
        if explicit:
            raise UsageError(f"config file {path}: not found") from None
        return {}, ()
    except OSError as exc:
        if not explicit and exc.errno in UNOPENABLE:
            return {}, (f"no config file read: {path} cannot be opened ({exc.strerror})",)
        raise UsageError(f"config file {path}: cannot read ({exc.strerror})") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise UsageError(f"config file {path}: not UTF-8 text (byte {exc.start})") from None
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"config file {path}: invalid TOML ({exc})") from None
    unknown = sorted(set(data) - set(CONFIG_KEYS))
    if unknown:
        raise UsageError(f"config file {path}: unknown key {excerpt(unknown[0])}")
    for key in CONFIG_KEYS:
        if key not in data:
            continue
        if key in NUMBER_KEYS:
            if isinstance(data[key], bool) or not isinstance(data[key], int | float):
                raise UsageError(f"config file {path}: {key} must be a number of seconds")
        elif key == "source":
            if not isinstance(data[key], dict):
                raise UsageError(f"config file {path}: source must be a [source] table")
        elif key == "notify":
            if not isinstance(data[key], list) or not all(isinstance(u, str) for u in data[key]):
                raise UsageError(f"config file {path}: notify must be a list of URLs")
        elif not isinstance(data[key], str):
            raise UsageError(f"config file {path}: {key} must be a string")
    return data, ()


def _config_warnings(path: Path, data: Mapping[str, object]) -> tuple[str, ...]:
    """A password in a file that other users can read deserves a word."""
    raw = data.get("database_url")
    if not isinstance(raw, str):
        return ()
    try:
        has_password = bool(urls.parse(raw, "config").get("password"))
        mode = path.stat().st_mode
    except (UsageError, OSError):
        return ()
    if has_password and mode & (stat.S_IRGRP | stat.S_IROTH):
        return (
            f"warning: config file {path} holds a password and is readable by other users: "
            f"chmod 600 {path} (or keep the password in ~/.pgpass)",
        )
    return ()


def validate_schema(name: str, source: str) -> str:
    """Return `name` if it can be a PostgreSQL schema name, else raise UsageError."""
    if not name or len(name.encode()) > 63 or "\x00" in name or name != name.strip():
        raise UsageError(f"{source}: invalid schema name {excerpt(name)}")
    return name


def validate_seconds(value: object, source: str) -> float:
    """A bound in seconds: a number from 0.001 to MAX_SECONDS."""
    try:
        seconds = float(str(value))
    except ValueError:
        raise UsageError(f"{source}: not a number of seconds: {excerpt(str(value))}") from None
    if not 0.001 <= seconds <= MAX_SECONDS:
        raise UsageError(f"{source}: {seconds:g} s is outside 0.001 to {MAX_SECONDS:g} s")
    return seconds


def _first(
    flag: object | None,
    flag_name: str,
    env: Mapping[str, str],
    var: str,
    file_values: Mapping[str, object],
    key: str,
    config_path: Path,
) -> tuple[object, str] | None:
    """The first of flag, environment variable and config key that is set, with its source."""
    if flag is not None:
        return flag, flag_name
    if env.get(var):
        return env[var], var
    if key in file_values:
        return file_values[key], f"config file {config_path}: {key}"
    return None


def load_settings(
    *,
    database_url: str | None = None,
    tz: str | None = None,
    config: Path | None = None,
    shop_schema: str | None = None,
    naive_tz: str | None = None,
    lock_timeout: float | None = None,
    statement_timeout: float | None = None,
    platform: str | None = None,
    env: Mapping[str, str] | None = None,
) -> Settings:
    """Resolve settings from flags (the keyword arguments), the environment and the config file.

    Precedence, highest first — database URL: flag, ORDERREPORT_DATABASE_URL, DATABASE_URL,
    config `database_url`, else the embedded server. Time zone: flag, ORDERREPORT_TZ,
    config `tz`, else UTC. Config file: flag, ORDERREPORT_CONFIG, XDG default. The others:
    flag, ORDERREPORT_<NAME>, config `<name>`, else their defaults (the search path, the
    server's own TimeZone, the command's own lock and statement timeouts). The source:
    --platform, ORDERREPORT_PLATFORM, config `platform`, config `[source]`, else detected.
    """
    env = os.environ if env is None else env

    if config is not None:
        config_path, explicit = config, True
    elif env.get("ORDERREPORT_CONFIG"):
        config_path, explicit = Path(env["ORDERREPORT_CONFIG"]), True
    else:
        config_path, explicit = default_config_path(env), False
    file_values, notes = _read_config(config_path, explicit)
    config_file = config_path if file_values or explicit else None

    url: str | None = None
    for candidate, source in (
        (database_url, "--database-url"),
        (env.get("ORDERREPORT_DATABASE_URL"), "ORDERREPORT_DATABASE_URL"),
        (env.get("DATABASE_URL"), "DATABASE_URL"),
        (file_values.get("database_url"), f"config file {config_path}: database_url"),
    ):
        if candidate:
            url = normalize_url(str(candidate), source)
            break

    if tz is not None:
        zone = validate_tz(tz, "--tz")
    elif env.get("ORDERREPORT_TZ"):
        zone = validate_tz(env["ORDERREPORT_TZ"], "ORDERREPORT_TZ")
    elif "tz" in file_values:
        zone = validate_tz(str(file_values["tz"]), f"config file {config_path}: tz")
    else:
        zone = DEFAULT_TZ

    def pick(flag: object | None, name: str) -> tuple[object, str] | None:
        return _first(
            flag,
            "--" + name.replace("_", "-"),
            env,
            "ORDERREPORT_" + name.upper(),
            file_values,
            name,
            config_path,
        )

    found = pick(shop_schema, "shop_schema")
    schema = validate_schema(str(found[0]), found[1]) if found else None
    found = pick(naive_tz, "naive_tz")
    naive = validate_tz(str(found[0]), found[1]) if found else None
    found = pick(lock_timeout, "lock_timeout")
    locks = validate_seconds(found[0], found[1]) if found else None
    found = pick(statement_timeout, "statement_timeout")
    statements = validate_seconds(found[0], found[1]) if found else None

    found = pick(platform, "platform")
    declared: Source | None = None
    if "platform" in file_values and "source" in file_values:
        raise UsageError(f"config file {config_path}: set platform or [source], not both")
    if found is not None:
        declared = sources.preset(str(found[0]), found[1])
    elif "source" in file_values:
        table = file_values["source"]
        assert isinstance(table, dict)
        declared = sources.parse(table, f"config file {config_path}")
    if declared is not None and declared.placed_at_zone is not None:
        validate_tz(declared.placed_at_zone, f"source {declared.name}: placed_at_zone")
    found = pick(None, "currency")
    currency = sources.currency_code(str(found[0]), found[1]) if found else None

    # the flag (--notify, daily and digest only) wins over both: the command says so
    if env.get("ORDERREPORT_NOTIFY"):
        notify = tuple(env["ORDERREPORT_NOTIFY"].split())
    else:
        listed = file_values.get("notify", [])
        assert isinstance(listed, list)  # _read_config checked: a list of strings
        notify = tuple(str(u) for u in listed)
    home = Path(env["ORDERREPORT_HOME"]) if env.get("ORDERREPORT_HOME") else default_home()
    return Settings(
        database_url=url,
        tz=zone,
        home=home.expanduser(),
        config_file=config_file,
        shop_schema=schema,
        naive_tz=naive,
        lock_timeout=locks,
        statement_timeout=statements,
        source=declared,
        currency=currency,
        notify=notify,
        warnings=_config_warnings(config_path, file_values) if config_file else (),
        notes=notes,
    )


# Delivery (deliver/webhook.py, deliver/notify.py): each send's connect and read, and one
# more try after a failure, RETRY_PAUSE seconds later.
DELIVERY_TIMEOUT = 10.0
DELIVERY_RETRIES = 1
RETRY_PAUSE = 0.5

# -- the commands' own bounds (were defaults.py): read by the CLI to build its options --
DEFAULT_MAX_CATCH_UP = 31  # days one `daily` run catches up
# Already-stored days every run recomputes; README ("Late orders") says why 7. 0: none.
DEFAULT_RESTATE = 7
MAX_RESTATE = 366
DEFAULT_LIST = 20  # runs `orderreport runs` lists
MAX_LIST = 1000
