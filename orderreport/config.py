"""Settings, read once and validated here: flags > environment > config file > defaults."""

from __future__ import annotations

import os
import tomllib
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import platformdirs
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from orderreport.errors import UsageError

DEFAULT_TZ = "UTC"
# How long a DDL statement of `migrate` may wait for a lock on the shop's tables before it
# gives up (and lets the shop's own queries, queued behind it, go on). Seconds.
DEFAULT_LOCK_TIMEOUT = 5.0
MAX_LOCK_TIMEOUT = 3600.0
CONFIG_KEYS = ("database_url", "tz", "shop_schema", "naive_tz", "lock_timeout")
# As root the embedded server cannot live under /root: PostgreSQL refuses to run as root and
# its own user could not traverse root's 0700 home without loosening it, which we never do.
ROOT_HOME = Path("/var/lib/orderreport")


@dataclass(frozen=True)
class Settings:
    """Everything a command needs to know about where and how to run."""

    database_url: URL | None  # None: the embedded server under `home`
    tz: str  # a valid IANA zone name: the shop's calendar
    home: Path  # orderreport's own folder (embedded server data, locks)
    config_file: Path | None  # the file that was read, if any
    shop_schema: str | None = None  # schema of orders/order_items; None: the search path
    naive_tz: str | None = None  # zone of `timestamp without time zone`; None: the server's
    lock_timeout: float = DEFAULT_LOCK_TIMEOUT  # seconds a DDL statement may wait for a lock

    @property
    def embedded(self) -> bool:
        return self.database_url is None

    def describe_database(self) -> str:
        """The database for humans: never with a password."""
        if self.database_url is None:
            return f"embedded ({self.home / 'pgdata'})"
        return mask_url(self.database_url)


_SECRETS: set[str] = set()


def secrets() -> frozenset[str]:
    """Passwords seen in URLs so far: the CLI scrubs them from any message it prints."""
    return frozenset(_SECRETS)


def scrub(message: str) -> str:
    """`message` with every password seen in a URL replaced by ***."""
    for secret in _SECRETS:
        message = message.replace(secret, "***")
    return message


def mask_url(url: URL | str) -> str:
    """Render a URL with its password replaced by ***."""
    if isinstance(url, str):
        try:
            url = make_url(url)
        except ArgumentError:
            return "<unparseable URL>"
    return url.render_as_string(hide_password=True)


def normalize_url(raw: str) -> URL:
    """Parse a database URL; a plain postgresql:// URL gets the psycopg 3 driver."""
    try:
        url = make_url(raw)
    except ArgumentError:
        # never echo the raw value: it may hold a password
        raise UsageError("database URL is not a valid URL (expected postgresql://...)") from None
    if url.get_backend_name() not in ("postgresql", "postgres"):
        raise UsageError(f"database URL must be postgresql://..., not {url.get_backend_name()}://")
    if url.password:
        _SECRETS.add(str(url.password))
    # whatever driver was named (or none), orderreport speaks psycopg 3
    url = url.set(drivername="postgresql+psycopg")
    return url


def validate_tz(name: str, source: str) -> str:
    """Return `name` if it is an IANA zone name, else raise UsageError naming `source`."""
    if not name or name != name.strip() or name.startswith(("/", ".")) or ".." in name:
        raise UsageError(f"{source}: unknown time zone {name!r}")
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        raise UsageError(f"{source}: unknown time zone {name!r}") from None
    return name


def default_home() -> Path:
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        return ROOT_HOME
    return platformdirs.user_data_path("orderreport")


def default_config_path(env: Mapping[str, str]) -> Path:
    xdg = env.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(xdg) / "orderreport" / "config.toml"


def _read_config(path: Path, explicit: bool) -> dict[str, object]:
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        if explicit:
            raise UsageError(f"config file {path}: not found") from None
        return {}
    except OSError as exc:
        raise UsageError(f"config file {path}: cannot read ({exc.strerror})") from None
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"config file {path}: invalid TOML ({exc})") from None
    unknown = sorted(set(data) - set(CONFIG_KEYS))
    if unknown:
        raise UsageError(f"config file {path}: unknown key {unknown[0]!r}")
    for key in CONFIG_KEYS:
        if key == "lock_timeout":
            if key in data and (
                isinstance(data[key], bool) or not isinstance(data[key], int | float)
            ):
                raise UsageError(f"config file {path}: {key} must be a number of seconds")
        elif key in data and not isinstance(data[key], str):
            raise UsageError(f"config file {path}: {key} must be a string")
    return data


def validate_schema(name: str, source: str) -> str:
    """Return `name` if it can be a PostgreSQL schema name, else raise UsageError."""
    if not name or len(name.encode()) > 63 or "\x00" in name or name != name.strip():
        raise UsageError(f"{source}: invalid schema name {name[:70]!r}")
    return name


def validate_seconds(value: str | float, source: str) -> float:
    """A bound in seconds: a number from 0.001 to MAX_LOCK_TIMEOUT."""
    try:
        seconds = float(value)
    except ValueError:
        raise UsageError(f"{source}: not a number of seconds: {str(value)[:40]!r}") from None
    if not 0.001 <= seconds <= MAX_LOCK_TIMEOUT:
        raise UsageError(f"{source}: {seconds:g} s is outside 0.001 to {MAX_LOCK_TIMEOUT:g} s")
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
    env: Mapping[str, str] | None = None,
) -> Settings:
    """Resolve settings from flags (the keyword arguments), the environment and the config file.

    Precedence, highest first — database URL: flag, ORDERREPORT_DATABASE_URL, DATABASE_URL,
    config `database_url`, else the embedded server. Time zone: flag, ORDERREPORT_TZ,
    config `tz`, else UTC. Config file: flag, ORDERREPORT_CONFIG, XDG default. Shop schema,
    naive-timestamp zone and lock timeout: flag, ORDERREPORT_SHOP_SCHEMA / ORDERREPORT_NAIVE_TZ /
    ORDERREPORT_LOCK_TIMEOUT, config `shop_schema` / `naive_tz` / `lock_timeout`, else the
    search path, the server's own TimeZone and DEFAULT_LOCK_TIMEOUT.
    """
    env = os.environ if env is None else env

    if config is not None:
        config_path, explicit = config, True
    elif env.get("ORDERREPORT_CONFIG"):
        config_path, explicit = Path(env["ORDERREPORT_CONFIG"]), True
    else:
        config_path, explicit = default_config_path(env), False
    file_values = _read_config(config_path, explicit)
    config_file = config_path if file_values or explicit else None

    raw_url: str | None = None
    for candidate in (
        database_url,
        env.get("ORDERREPORT_DATABASE_URL"),
        env.get("DATABASE_URL"),
        file_values.get("database_url"),
    ):
        if candidate:
            raw_url = str(candidate)
            break
    url = normalize_url(raw_url) if raw_url else None

    if tz is not None:
        zone = validate_tz(tz, "--tz")
    elif env.get("ORDERREPORT_TZ"):
        zone = validate_tz(env["ORDERREPORT_TZ"], "ORDERREPORT_TZ")
    elif "tz" in file_values:
        zone = validate_tz(str(file_values["tz"]), f"config file {config_path}: tz")
    else:
        zone = DEFAULT_TZ

    found = _first(
        shop_schema,
        "--shop-schema",
        env,
        "ORDERREPORT_SHOP_SCHEMA",
        file_values,
        "shop_schema",
        config_path,
    )
    schema = validate_schema(str(found[0]), found[1]) if found else None
    found = _first(
        naive_tz, "--naive-tz", env, "ORDERREPORT_NAIVE_TZ", file_values, "naive_tz", config_path
    )
    naive = validate_tz(str(found[0]), found[1]) if found else None
    found = _first(
        lock_timeout,
        "--lock-timeout",
        env,
        "ORDERREPORT_LOCK_TIMEOUT",
        file_values,
        "lock_timeout",
        config_path,
    )
    timeout = validate_seconds(found[0], found[1]) if found else DEFAULT_LOCK_TIMEOUT  # type: ignore[arg-type]

    home = Path(env["ORDERREPORT_HOME"]) if env.get("ORDERREPORT_HOME") else default_home()
    return Settings(
        database_url=url,
        tz=zone,
        home=home.expanduser(),
        config_file=config_file,
        shop_schema=schema,
        naive_tz=naive,
        lock_timeout=timeout,
    )
