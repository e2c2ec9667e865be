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
    unknown = sorted(set(data) - {"database_url", "tz"})
    if unknown:
        raise UsageError(f"config file {path}: unknown key {unknown[0]!r}")
    for key in ("database_url", "tz"):
        if key in data and not isinstance(data[key], str):
            raise UsageError(f"config file {path}: {key} must be a string")
    return data


def load_settings(
    *,
    database_url: str | None = None,
    tz: str | None = None,
    config: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> Settings:
    """Resolve settings from flags (the keyword arguments), the environment and the config file.

    Precedence, highest first — database URL: flag, ORDERREPORT_DATABASE_URL, DATABASE_URL,
    config `database_url`, else the embedded server. Time zone: flag, ORDERREPORT_TZ,
    config `tz`, else UTC. Config file: flag, ORDERREPORT_CONFIG, XDG default.
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

    home = Path(env["ORDERREPORT_HOME"]) if env.get("ORDERREPORT_HOME") else default_home()
    return Settings(database_url=url, tz=zone, home=home.expanduser(), config_file=config_file)
