"""The exceptions orderreport raises, each carrying the exit code the CLI uses for it.

The exit codes live here, in one table, and README.md documents the same table.
"""

from __future__ import annotations

import signal
from typing import NamedTuple

EXIT_OK = 0
EXIT_FAILURE = 1  # runtime failure: database unreachable, not migrated, unhealthy, refused
EXIT_USAGE = 2  # bad input: flag values, dates, time zones, config file
EXIT_LOCKED = 75  # EX_TEMPFAIL: another run holds the lock; try again later
EXIT_INTERRUPTED = 130  # SIGINT
EXIT_TERMINATED = 143  # SIGTERM

EXIT_CODES: dict[int, str] = {
    EXIT_OK: "success",
    EXIT_FAILURE: "failure: database unreachable or not migrated, unhealthy status, refused, "
    "stored reports differ from live data (verify)",
    EXIT_USAGE: "bad input: unknown flag or value, impossible date, unknown time zone, bad config",
    EXIT_LOCKED: "another run holds the lock (daily); nothing was written",
    EXIT_INTERRUPTED: "interrupted by SIGINT (Ctrl-C); no partial day is left behind",
    EXIT_TERMINATED: "terminated by SIGTERM; no partial day is left behind",
}


class SignalExit(NamedTuple):
    """How a run ends on a signal: its line on stderr, exit code, run-log status and message."""

    said: str
    exit_code: int
    status: str
    logged: str


# The signals orderreport ends on: the handlers in entry.py (the early one and the run's
# own), the run log (runs.outcome), the embedded server's deferral and the metrics all read
# this one table.
SIGNAL_EXITS: dict[int, SignalExit] = {
    signal.SIGINT: SignalExit(
        "interrupted", EXIT_INTERRUPTED, "interrupted", "interrupted by SIGINT"
    ),
    signal.SIGTERM: SignalExit(
        "terminated by SIGTERM", EXIT_TERMINATED, "terminated", "terminated by SIGTERM"
    ),
}


class OrderReportError(Exception):
    """Base class: a failure with a one-line message and an exit code."""

    exit_code = EXIT_FAILURE


class UsageError(OrderReportError):
    """Bad input from the user: a flag value, a date, a zone, a config file."""

    exit_code = EXIT_USAGE


class DatabaseUnavailable(OrderReportError):
    """The database cannot be reached or the embedded server cannot start."""


class DatabaseFailed(OrderReportError):
    """The database refused or lost a statement: permissions, read-only, dropped connection."""


class ConnectionLost(DatabaseFailed):
    """The run's connection ended under it: the server shut down, restarted or crashed, an
    administrator ended the session, the network broke. Nothing uncommitted was kept."""


class NotMigrated(OrderReportError):
    """The schema is missing or behind: the user must run `orderreport migrate`."""


class ShopAmbiguous(UsageError):
    """Which schema holds the shop is unclear: the user must set --shop-schema."""


class ShopUnsupported(OrderReportError):
    """The shop's tables lack a column the reports need, or type it unreadably."""


class ObjectExists(OrderReportError):
    """An object orderreport would create already exists and is not orderreport's."""


class Refused(OrderReportError):
    """The command will not run on this database (e.g. demo on a non-empty shop)."""


class LockBusy(OrderReportError):
    """Another process holds the advisory lock this command needs."""

    exit_code = EXIT_LOCKED


class Incomplete(OrderReportError):
    """Some of the days asked for could not be stored; `fix` is the command that stores them."""

    def __init__(self, message: str, fix: str | None = None) -> None:
        super().__init__(message)
        self.fix = fix


class ReaderGone(OrderReportError):
    """stdout's reader went away (EPIPE), e.g. `| head`: not a failure of ours (exit 0)."""

    exit_code = EXIT_OK


class OutputFailed(OrderReportError):
    """stdout cannot be written: a full disk, a closed descriptor."""


class Terminated(BaseException):
    """Raised from the SIGTERM and SIGINT handlers so `finally` blocks and context managers
    run (a day is stored whole or not at all). A BaseException, and not KeyboardInterrupt,
    so neither `except Exception` nor the CLI framework can turn it into something else."""

    def __init__(self, signum: int = signal.SIGTERM) -> None:
        super().__init__(signum)
        self.signum = signum  # a key of SIGNAL_EXITS


class Differs(OrderReportError):
    """Stored reports differ from what the live data gives now (`verify`)."""


def exit_code_of(exc: BaseException) -> int:
    """The exit code the CLI gives for `exc` (the same table as above)."""
    if isinstance(exc, OrderReportError):
        return exc.exit_code
    if isinstance(exc, Terminated):
        return SIGNAL_EXITS[exc.signum].exit_code
    if isinstance(exc, KeyboardInterrupt):
        return EXIT_INTERRUPTED
    if isinstance(exc, SystemExit) and isinstance(exc.code, int):
        return exc.code
    return EXIT_FAILURE


EXCERPT_LIMIT = 40  # characters of a bad value an error message may quote
# Characters of one error line on stderr (no value is echoed back in full), and of a run's
# message in the run log (its one line, or the warnings of a run that succeeded).
MESSAGE_LIMIT = 300
LOGGED_LIMIT = 500


def excerpt(value: str, limit: int = EXCERPT_LIMIT) -> str:
    """A short printable quote of `value` for an error message: `'abc'`, or when longer than
    `limit` characters (after escaping) `'abcd…' (100000 characters)`. Control and other
    unprintable characters, quotes and backslashes are escaped as in a Python literal."""
    body: list[str] = []
    size = 0
    for ch in value:
        shown = _escape(ch)
        if size + len(shown) > limit:
            return f"'{''.join(body)}…' ({len(value)} characters)"
        body.append(shown)
        size += len(shown)
    return f"'{''.join(body)}'"


def _escape(ch: str) -> str:
    if ch in "'\\":
        return "\\" + ch
    if ch.isprintable():
        return ch
    return repr(ch)[1:-1]  # \n, \t, \x00, \u202e, \udcff ...
