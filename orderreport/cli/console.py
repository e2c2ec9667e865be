"""The stderr console: talk, progress stamps, --verbose, and the run's warnings.

stdout carries data only; everything a person reads goes through say(), which shows no
secret of the run (its database URL's password, a webhook URL: see scrub).
"""

from __future__ import annotations

import contextlib
import functools
import logging
import re
import sys
from collections.abc import Callable, Iterator
from datetime import date
from typing import TYPE_CHECKING, Any

from orderreport.clock import now_utc
from orderreport.config import redact
from orderreport.config.settings import Settings

if TYPE_CHECKING:
    from rich.console import Console

SQL_LOGGER = "orderreport.sql"  # the statements' text, logged by the database code

# psycopg logs a failed rollback when our own signal interrupted its query; with no handler
# Python would print it as a second line on stderr. The one line of ours says what happened.
logging.getLogger("psycopg").addHandler(logging.NullHandler())

_state: dict[str, Any] = {"settings": None, "verbose": False}


class _SaidHandler(logging.Handler):
    """A log record as one line of talk on stderr, scrubbed like every other."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            say(scrub(record.getMessage()))
        except Exception:  # logging must never end the run
            self.handleError(record)


_sql_handler = _SaidHandler(logging.DEBUG)


def set_verbose(on: bool) -> None:
    """--verbose: the settings used, tracebacks, and every statement's text (never its
    parameters) on stderr."""
    _state["verbose"] = on
    sql = logging.getLogger(SQL_LOGGER)
    if on:
        sql.setLevel(logging.DEBUG)
        if _sql_handler not in sql.handlers:
            sql.addHandler(_sql_handler)
    else:
        sql.removeHandler(_sql_handler)
        sql.setLevel(logging.NOTSET)


def verbose() -> bool:
    return bool(_state["verbose"])


def remember(settings: Settings) -> None:
    """The run's settings: their secrets are scrubbed from every message, their warnings
    said at the end."""
    _state["settings"] = settings
    if verbose():
        say(
            f"database {settings.describe_database()}, zone {settings.tz}, config file "
            f"{settings.config_file or 'none'}"
        )
        for note in settings.notes:
            say(note)


def warnings() -> tuple[str, ...]:
    settings = _state["settings"]
    return settings.warnings if isinstance(settings, Settings) else ()


def scrub(message: str) -> str:
    """`message` without the run's password, secret URL parameters or registered secrets
    (redact.scrub, given the run's database URL)."""
    settings = _state["settings"]
    url = settings.database_url if isinstance(settings, Settings) else None
    return redact.scrub(message, url)


def reset() -> None:
    """Forget the previous run (a process may run several: the tests)."""
    _state.update(settings=None)
    redact.reset()
    set_verbose(False)


@functools.cache
def err() -> Console:
    """Rich's console on stderr, made when something needs it (a progress bar, a line
    plain writing cannot give byte for byte): Rich costs a tenth of a second to import."""
    from rich.console import Console

    return Console(stderr=True, highlight=False)


# What Rich's print would change in a line (markup and highlighting are off): a `:name:`
# emoji code, control characters it strips, tabs it expands, line breaks. A line with none
# of them Rich writes unchanged, so it is written as is (no Rich loaded).
_RICH_WOULD_CHANGE = re.compile(r":[^\s:]*:")


def say(message: str) -> None:
    """A line of talk on stderr (never wrapped: one message, one line)."""
    if message.isprintable() and not _RICH_WOULD_CHANGE.search(message):
        sys.stderr.write(message + "\n")
        sys.stderr.flush()
    else:
        err().print(message, markup=False, soft_wrap=True)


def stamp(message: str) -> None:
    """A timestamped progress line on stderr (for cron and Kubernetes logs)."""
    say(f"{now_utc().isoformat(timespec='seconds')} {message}")


@contextlib.contextmanager
def progress(what: str, *, total: int) -> Iterator[Callable[[date], None]]:
    """A progress bar on stderr, `total` days of `what`; gives the callback told each day
    done. Only on a terminal: a bar in a log file is noise (and a blank line)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("loading {task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err(),
        transient=True,
        disable=not err().is_terminal,
    ) as bar:
        task = bar.add_task(what, total=total)
        yield lambda day: bar.update(task, advance=1, description=day.isoformat())
