"""The flags every command shares, and the helpers for talk on stderr.

Flags fall back to the environment and the config file in config.load_settings, not
through Typer's envvar, so the precedence lives in one place.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from orderreport import redact
from orderreport.config import Settings, load_settings
from orderreport.errors import UsageError
from orderreport.output import DigestFormat, Format

err = Console(stderr=True, highlight=False)

# -- options shared by every command ------------------------------------------------------
DatabaseUrl = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        metavar="URL",
        help="PostgreSQL URL (postgresql://user@host/db). Other users can read a command "
        "line: keep the password in ~/.pgpass, $PGPASSWORD or the config file. "
        "Default: $ORDERREPORT_DATABASE_URL, $DATABASE_URL, the config file, else embedded.",
        show_default=False,
    ),
]
Tz = Annotated[
    str | None,
    typer.Option(
        "--tz",
        metavar="ZONE",
        help="The shop's IANA time zone; a day runs from its local midnight. "
        "Default: $ORDERREPORT_TZ, config `tz`, else UTC.",
        show_default=False,
    ),
]
ConfigPath = Annotated[
    Path | None,
    typer.Option(
        "--config",
        metavar="FILE",
        help="TOML config file (keys database_url, tz, shop_schema, naive_tz, lock_timeout, "
        "statement_timeout, platform, currency, and a [source] table). "
        "Default: $ORDERREPORT_CONFIG, else $XDG_CONFIG_HOME/orderreport/config.toml.",
        show_default=False,
        dir_okay=False,
    ),
]
ShopSchema = Annotated[
    str | None,
    typer.Option(
        "--shop-schema",
        metavar="SCHEMA",
        help="Schema holding the shop's orders and order_items. "
        "Default: $ORDERREPORT_SHOP_SCHEMA, config `shop_schema`, else the search path.",
        show_default=False,
    ),
]
NaiveTz = Annotated[
    str | None,
    typer.Option(
        "--naive-tz",
        metavar="ZONE",
        help="Zone in which a `timestamp without time zone` created_at was written. "
        "Default: $ORDERREPORT_NAIVE_TZ, config `naive_tz`, else the server's TimeZone.",
        show_default=False,
    ),
]
LockTimeout = Annotated[
    float | None,
    typer.Option(
        "--lock-timeout",
        metavar="SECONDS",
        help="Longest wait for a lock (migrate: on a shop table). Default: "
        "$ORDERREPORT_LOCK_TIMEOUT, config `lock_timeout`, else 30 (migrate: 5).",
        show_default=False,
    ),
]
StatementTimeout = Annotated[
    float | None,
    typer.Option(
        "--statement-timeout",
        metavar="SECONDS",
        help="Longest run of one statement. Default: $ORDERREPORT_STATEMENT_TIMEOUT, "
        "config `statement_timeout`, else 600 (migrate: 3600).",
        show_default=False,
    ),
]
Fmt = Annotated[
    Format,
    typer.Option(
        "--format",
        "-f",
        help="Output format (prometheus: `status` only; html: `history` only).",
        case_sensitive=False,
    ),
]
JsonFlag = Annotated[bool, typer.Option("--json", help="Short for --format json.")]
DateOpt = Annotated[
    str | None,
    typer.Option(
        "--date",
        "-d",
        metavar="DATE",
        help="One day: YYYY-MM-DD, today or yesterday.",
        show_default=False,
    ),
]
FromOpt = Annotated[
    str | None,
    typer.Option(
        "--from", metavar="DATE", help="First day of a range (inclusive).", show_default=False
    ),
]
PlatformOpt = Annotated[
    str | None,
    typer.Option(
        "--platform",
        metavar="NAME",
        help="The shop's platform: saleor, solidus (spree), oscar, vendure, medusa or seed "
        "(`orderreport platforms` lists them). Default: $ORDERREPORT_PLATFORM, config "
        "`platform`, config [source], else detected from the database.",
        show_default=False,
    ),
]
DigestOpt = Annotated[
    DigestFormat | None,
    typer.Option(
        "--digest",
        metavar="FORMAT",
        help="After storing, print yesterday's digest on stdout in FORMAT (text, markdown, "
        "html, json) instead of the stored rows: cron mails it (MAILTO).",
        case_sensitive=False,
        show_default=False,
    ),
]
WebhookOpt = Annotated[
    str | None,
    typer.Option(
        "--webhook",
        metavar="URL",
        envvar="ORDERREPORT_WEBHOOK_URL",
        help="After storing, post yesterday's digest (markdown, Slack's {\"text\": …}) to "
        "this incoming-webhook URL: 10 s timeout, one retry; a failure is a warning, never a "
        "failed day. A secret: prefer $ORDERREPORT_WEBHOOK_URL to the flag.",
        show_default=False,
    ),
]
ToOpt = Annotated[
    str | None,
    typer.Option(
        "--to",
        metavar="DATE",
        help="Last day of a range (inclusive; default yesterday).",
        show_default=False,
    ),
]


_state: dict[str, Any] = {"settings": None, "verbose": False}


def settings_from(
    database_url: str | None,
    tz: str | None,
    config: Path | None,
    shop_schema: str | None = None,
    naive_tz: str | None = None,
    lock_timeout: float | None = None,
    statement_timeout: float | None = None,
    platform: str | None = None,
) -> Settings:
    """The run's settings; remembered so every message can be scrubbed of their secrets."""
    settings = load_settings(
        platform=platform,
        database_url=database_url,
        tz=tz,
        config=config,
        shop_schema=shop_schema,
        naive_tz=naive_tz,
        lock_timeout=lock_timeout,
        statement_timeout=statement_timeout,
    )
    _state["settings"] = settings
    if verbose():
        say(
            f"database {settings.describe_database()}, zone {settings.tz}, config file "
            f"{settings.config_file or 'none'}"
        )
        for note in settings.notes:
            say(note)
    return settings


def set_verbose(on: bool) -> None:
    _state["verbose"] = on


def verbose() -> bool:
    return bool(_state["verbose"])


def warnings() -> tuple[str, ...]:
    settings = _state["settings"]
    return settings.warnings if isinstance(settings, Settings) else ()


def scrub(message: str) -> str:
    """`message` without the run's password, secret URL parameters or registered secrets
    (redact.scrub, given the run's database URL)."""
    settings = _state["settings"]
    url = settings.database_url if isinstance(settings, Settings) else None
    return redact.scrub(message, url)


def add_secret(secret: str, shown: str) -> None:
    """A value never to show whole (a webhook URL): see redact.add_secret."""
    redact.add_secret(secret, shown)


def reset() -> None:
    """Forget the previous run (main() may run several times in one process: the tests)."""
    _state.update(settings=None, verbose=False)
    redact.reset()


def now_utc() -> datetime:
    return datetime.now(UTC)


def say(message: str) -> None:
    """A line of talk on stderr (never wrapped: one message, one line)."""
    err.print(message, markup=False, soft_wrap=True)


def stamp(message: str) -> None:
    """A timestamped progress line on stderr (for cron and Kubernetes logs)."""
    say(f"{now_utc().isoformat(timespec='seconds')} {message}")


def pick_format(
    fmt: Format, as_json: bool, *, prometheus: bool = False, html: bool = False
) -> Format:
    """--json is short for --format json; with another --format it is a contradiction.

    --format prometheus is accepted only where `prometheus` says so (`status`).
    """
    if as_json and fmt not in (Format.table, Format.json):
        raise UsageError(f"--json cannot be combined with --format {fmt.value}")
    if fmt is Format.prometheus and not prometheus:
        raise UsageError("--format prometheus is for `orderreport status` only")
    if fmt is Format.html and not html:
        raise UsageError("--format html is for `orderreport history` only (and `digest`)")
    return Format.json if as_json else fmt
