"""The command line's parameters: each flag declared once, and `shared`, which gives a
command the shared flags and hands it their Settings and output format.

Flags fall back to the environment and the config file in config.load_settings, not
through Typer's envvar, so the precedence lives in one place.
"""

from __future__ import annotations

import enum
import functools
import inspect
import typing
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal, cast

import typer

from orderreport import __version__
from orderreport.cli import console
from orderreport.cli.dates import resolve_range
from orderreport.config import sources
from orderreport.config.settings import MAX_LIST, MAX_RESTATE, Settings, load_settings
from orderreport.errors import UsageError
from orderreport.render.records import DigestFormat, Format

# -- flags of several commands --------------------------------------------------------------
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
        help=f"The shop's platform: {', '.join(sources.preset_names())} "
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
NotifyOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--notify",
        metavar="URL",
        help="Send the morning report (daily: and a notice if the run fails) to this Apprise "
        "URL: mailto://, mailtos://, slack://, discord://, tgram://, mattermost://, ntfy://, "
        "json://, … Repeatable. 10 s per connect and read, one retry; a failure is a warning. "
        "Default: $ORDERREPORT_NOTIFY (URLs apart by spaces), config `notify`. A secret: "
        "prefer the environment or the config file to the flag.",
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


# -- flags of one command (or of none: --version and --verbose come before it) ----------
def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"orderreport {__version__}")
        raise typer.Exit()


VersionFlag = Annotated[
    bool,
    typer.Option(
        "--version",
        "-V",
        help="Show the version and exit.",
        is_eager=True,
        callback=_version_callback,
    ),
]
VerboseFlag = Annotated[
    bool,
    typer.Option(
        "--verbose",
        "-v",
        help="More detail on stderr: the settings used, the SQL statements (never their "
        "values), tracebacks of unexpected errors (never a password).",
    ),
]
# ---------------------------------------------------------------
SqlFlag = Annotated[
    bool, typer.Option("--sql", help="Print the DDL for an EMPTY database; touch none.")
]
PlanFlag = Annotated[
    bool, typer.Option("--plan", help="List what this database would get; change nothing.")
]
AdoptFlag = Annotated[
    bool,
    typer.Option(
        "--adopt",
        help="Take over an object in schema orderreport that orderreport did not create "
        "(a view is replaced, a daily_reports table kept).",
    ),
]
BuildIndexesFlag = Annotated[
    bool,
    typer.Option(
        "--build-indexes",
        help="Also build, CONCURRENTLY, the indexes --plan advises on a platform's own "
        "tables (by default orderreport adds nothing to them).",
    ),
]
DemoDays = Annotated[int, typer.Option(min=1, max=3650, help="Days of orders, ending yesterday.")]
OrdersPerDay = Annotated[int, typer.Option(min=0, max=1_000_000, help="Orders per day.")]
SeedOpt = Annotated[int, typer.Option(help="Seed: the same seed gives the same shop.")]
AllFlag = Annotated[bool, typer.Option("--all", help="Every order, newest day first.")]
MaxCatchUp = Annotated[int, typer.Option(min=1, help="Most days one run catches up.")]
RestateOpt = Annotated[
    int,
    typer.Option(
        min=0,
        max=MAX_RESTATE,
        metavar="DAYS",
        help="Also recompute this many of the newest stored days and replace those "
        "whose figures changed: late commits, edits, refunds (0: none).",
    ),
]
WaitOpt = Annotated[
    float, typer.Option(min=0, help="Seconds to wait for a running job's lock (0: don't wait).")
]
MetricsFile = Annotated[
    Path | None,
    typer.Option(
        "--metrics-file",
        metavar="FILE",
        help="Write the run's metrics to FILE, atomically, whatever the outcome "
        "(node_exporter textfile collector: name it *.prom in its folder).",
        dir_okay=False,
        show_default=False,
    ),
]
PushgatewayOpt = Annotated[
    str | None,
    typer.Option(
        "--pushgateway",
        metavar="URL",
        help="Push the run's metrics to this Prometheus Pushgateway, grouped by job and "
        "zone (for CronJobs); a failed push is a warning, not a failed run.",
        show_default=False,
    ),
]
LimitOpt = Annotated[
    int,
    typer.Option(
        "--limit",
        "-n",
        min=1,
        max=MAX_LIST,
        metavar="N",
        help="How many runs to list.",
    ),
]
ReportsRole = Annotated[
    str | None,
    typer.Option(
        "--reports",
        metavar="ROLE",
        help="For a role that runs report, summary, history, verify, status and runs.",
        show_default=False,
    ),
]
JobRole = Annotated[
    str | None,
    typer.Option(
        "--job",
        metavar="ROLE",
        help="For the role the daily job runs as (everything --reports has, and it writes "
        "daily_reports and the run log).",
        show_default=False,
    ),
]
PlatformName = Annotated[
    str | None,
    typer.Argument(metavar="[NAME]", help="Print this platform's preset (a [source] table)."),
]
MaxLag = Annotated[
    int, typer.Option(min=0, help="Unhealthy when the newest report is older than this.")
]
DigestFmt = Annotated[
    DigestFormat,
    typer.Option(
        "--format",
        "-f",
        help="text (plain, for mail), markdown (chat), html (one page), json.",
        case_sensitive=False,
    ),
]


# -- the shared flags, given to a command by `shared` ----------------------------------------
_KW = inspect.Parameter.KEYWORD_ONLY
_SHARED = tuple(
    inspect.Parameter(name, _KW, default=None, annotation=flag)
    for name, flag in (
        ("database_url", DatabaseUrl),
        ("tz", Tz),
        ("config", ConfigPath),
        ("shop_schema", ShopSchema),
        ("naive_tz", NaiveTz),
        ("lock_timeout", LockTimeout),
        ("statement_timeout", StatementTimeout),
        ("platform", PlatformOpt),
    )
)


# The flags orderreport takes before or after the command name, as gh and kubectl do
# (`orderreport --config f.toml summary` is `orderreport summary --config f.toml`): the
# shared flags that take a value, and --json; and the root's own, --verbose, after it too.
def _decls(annotation: Any) -> tuple[str, ...]:
    """The flag names of an Annotated[..., typer.Option(...)] (in Annotated, Typer takes the
    first name as the option's `default`)."""
    info = typing.get_args(annotation)[1]
    first = (info.default,) if isinstance(info.default, str) else ()
    return (*first, *info.param_decls)


SHARED_VALUE_FLAGS = frozenset(decl for p in _SHARED for decl in _decls(p.annotation))
ROOT_FLAGS = frozenset({"--verbose", "-v"})


def arranged(argv: list[str]) -> list[str]:
    """`argv` with the shared flags given before the command name moved after it, and the
    root's flags given after it moved before it: what the parser takes. Nothing after `--`
    moves; a value is never taken for a flag."""
    root: list[str] = []
    moved: list[str] = []
    i = 0
    while i < len(argv) and argv[i].startswith("-") and argv[i] != "--":
        name = argv[i].split("=", 1)[0]
        takes = name in SHARED_VALUE_FLAGS or name in ("--format", "-f")
        width = 2 if takes and "=" not in argv[i] else 1
        (root if argv[i] in ROOT_FLAGS else moved).extend(argv[i : i + width])
        i += width
    if i >= len(argv) or argv[i] == "--":
        return argv  # no command: the root's help or its own error
    rest: list[str] = []
    tail = argv[i + 1 :]
    for j, word in enumerate(tail):
        if word == "--":
            rest.extend(tail[j:])
            break
        (root if word in ROOT_FLAGS else rest).append(word)
    return [*root, argv[i], *moved, *rest]


_DATES = tuple(
    inspect.Parameter(name, _KW, default=None, annotation=flag)
    for name, flag in (("day", DateOpt), ("start", FromOpt), ("end", ToOpt))
)


@dataclass(frozen=True)
class Dates:
    """--date, --from and --to as given (None: not given), handed over by `shared`."""

    day: str | None
    start: str | None
    end: str | None

    @property
    def given(self) -> bool:
        return (self.day, self.start, self.end) != (None, None, None)

    def span(self, today: date, *, all_days: bool = False) -> tuple[date, date] | None:
        """The inclusive days they name (dates.resolve_range); None: every day (--all)."""
        return resolve_range(
            day=self.day, start=self.start, end=self.end, today=today, all_days=all_days
        )


_ONE_COMMAND = {Format.prometheus: "status", Format.html: "history"}  # and no other


def _choices(name: str, *extra: Format) -> type[enum.StrEnum]:
    """A command's --format choices: Format's own less those of one other command."""
    members = [(f.name, f.value) for f in Format if f not in _ONE_COMMAND or f in extra]
    return cast("type[enum.StrEnum]", enum.StrEnum(name, members))  # built, not spelled out


TABLE_FORMATS = _choices("TableFormat")
STATUS_FORMATS = _choices("StatusFormat", Format.prometheus)
HISTORY_FORMATS = _choices("HistoryFormat", Format.html)
_FORMAT_HELP = {
    TABLE_FORMATS: "Output format.",
    STATUS_FORMATS: "Output format (prometheus: the health figures as Prometheus metrics).",
    HISTORY_FORMATS: "Output format (html: one page with the chart).",
}


def _format_flags(choices: type[enum.StrEnum]) -> tuple[inspect.Parameter, ...]:
    option = typer.Option("--format", "-f", help=_FORMAT_HELP[choices], case_sensitive=False)
    return (
        inspect.Parameter(
            "fmt", _KW, default=choices(Format.table), annotation=Annotated[choices, option]
        ),
        inspect.Parameter("as_json", _KW, default=False, annotation=JsonFlag),
    )


Command = Callable[..., None]


def shared(
    *,
    settings: Literal["eager", "lazy"] | None = "eager",
    formats: type[enum.StrEnum] | None = TABLE_FORMATS,
    dates: bool = False,
) -> Callable[[Command], Command]:
    """Give a command the shared flags and hand it what they say, by name.

    settings "eager": the command takes `settings: Settings`, loaded before it runs;
    "lazy": `load_settings: Callable[[], Settings]`, for a command that may not need
    them (migrate --sql) or checks its own flags first; None: no database flags at all.
    formats: the command's --format choices (with --json), handed over as `fmt: Format`;
    None: the command has none (or its own). dates: --date, --from and --to come first,
    handed over as `dates: Dates`.

    Typer reads a command's parameters from its signature: the one given here is the
    dates, the command's own parameters (keyword-only), the shared flags, then --format/--json.
    """

    def decorate(command: Command) -> Command:
        handed = {"settings", "load_settings", "dates", *(("fmt",) if formats else ())}
        own = [
            p.replace(kind=_KW)
            for p in inspect.signature(command, eval_str=True).parameters.values()
            if p.name not in handed
        ]
        flags = [
            *(_DATES if dates else ()),
            *own,
            *(_SHARED if settings else ()),
            *(_format_flags(formats) if formats else ()),
        ]

        @functools.wraps(command)
        def run(**values: Any) -> None:
            if dates:
                values["dates"] = Dates(*(values.pop(p.name) for p in _DATES))
            given = {p.name: values.pop(p.name) for p in _SHARED} if settings else {}
            load = functools.partial(settings_from, **given)
            if settings == "eager":
                values["settings"] = load()
            elif settings == "lazy":
                values["load_settings"] = load
            if formats:
                values["fmt"] = pick_format(values.pop("fmt"), values.pop("as_json"))
            command(**values)

        run.__signature__ = inspect.Signature(flags, return_annotation=None)  # type: ignore[attr-defined]
        run.__annotations__ = {p.name: p.annotation for p in flags}
        return run

    return decorate


def settings_from(**flags: Any) -> Settings:
    """load_settings(**flags) (its keyword-only flags: database_url, tz, config, …), then
    remembered by the console, which scrubs their secrets from every message."""
    settings = load_settings(**flags)
    console.remember(settings)
    return settings


def pick_format(fmt: enum.StrEnum, as_json: bool) -> Format:
    """--json is short for --format json; with another --format it is a contradiction."""
    if as_json and fmt not in (Format.table, Format.json):
        raise UsageError(f"--json cannot be combined with --format {fmt.value}")
    return Format.json if as_json else Format(fmt.value)
