"""The process around the commands: signal handlers, stdout's guard, one line on stderr
and a documented exit code for every failure (errors.EXIT_CODES, errors.SIGNAL_EXITS).

main() is the console script. Importing the CLI (Typer, Rich) takes a noticeable fraction
of a second; a SIGTERM or Ctrl-C in that time must still end with the documented exit code
and one line, not Python's default death or a traceback: the early handler, installed
first, says it and leaves (nothing has started yet). run() then installs the run's own
handler, which raises Terminated so every `finally` and context manager runs.
"""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import sys
import traceback
from types import FrameType
from typing import Any, NoReturn, TextIO, cast

from orderreport import outcome
from orderreport.errors import (
    EXIT_FAILURE,
    EXIT_OK,
    MESSAGE_LIMIT,
    SIGNAL_EXITS,
    OrderReportError,
    OutputFailed,
    ReaderGone,
    Terminated,
)


def _early(signum: int, frame: FrameType | None) -> None:
    ending = SIGNAL_EXITS[signum]
    sys.stderr.write(f"orderreport: error: {ending.said}\n")
    raise SystemExit(ending.exit_code)


def main() -> None:
    """Console entry point."""
    for sig in SIGNAL_EXITS:
        signal.signal(sig, _early)
    if sys.argv[1:] in (["--version"], ["-V"]):  # answered without loading the CLI at all
        from orderreport import __version__

        sys.stdout.write(f"orderreport {__version__}\n")
        return
    try:
        run()
    finally:
        # The outcome is decided. A signal from here on could only spoil it: Python puts back
        # the default actions while it shuts down, and a SIGTERM then kills us silently.
        signal.pthread_sigmask(signal.SIG_BLOCK, set(SIGNAL_EXITS))
        # Nor may a library's cleanup at interpreter exit add lines to stderr: the run's one
        # line is written. (A SIGTERM mid-run can leave SQLAlchemy's event registry half torn
        # down, and its weakref callbacks then print "Exception ignored in …" at shutdown.)
        sys.unraisablehook = lambda _unraisable: None


_received: list[int] = []  # signals that arrived during this run, first first


def _on_signal(signum: int, frame: FrameType | None) -> None:
    _received.append(signum)
    if outcome.defer(signum):  # the run's outcome is (being) committed: it decides
        return
    if len(_received) == 1:
        # the statement in flight is cancelled first: the server lets go of the run's locks
        # now, not when it notices the closed connection (limits.cancel_in_flight; loaded
        # with the database code: before that there is no connection to cancel)
        limits = sys.modules.get("orderreport.db.limits")
        if limits is not None:
            limits.cancel_in_flight()
        raise Terminated(signum)


def run(argv: list[str] | None = None) -> NoReturn:
    """Run the command line on `argv` (default sys.argv[1:]) and exit with its code:
    one line on stderr and a documented exit code for every failure."""
    try:
        # Typer and Rich: the early handlers hold till here
        from orderreport.cli import app as cli
        from orderreport.cli import console
    except RuntimeError as exc:
        # Python 3.11 wraps what a class's __set_name__ raised in a RuntimeError: the early
        # handler's exit, when the signal lands while Rich makes a dataclass (seen in the
        # SIGTERM soak). The line is said; the exit is the signal's, without a traceback.
        if isinstance(exc.__cause__, SystemExit):
            raise exc.__cause__ from None
        raise

    _received.clear()
    outcome.reset()
    console.reset()
    previous = {sig: signal.signal(sig, _on_signal) for sig in SIGNAL_EXITS}
    real_stdout = sys.stdout
    try:
        if real_stdout is None:
            _fail("stdout is closed: redirect it instead (>/dev/null)", EXIT_FAILURE)
        sys.stdout = cast(TextIO, _GuardedOutput(real_stdout))
        code = cli.invoke(argv)
        sys.stdout.flush()
        _too_late()
    except ReaderGone:
        _silence_stdout()  # a reader such as `head` went away: not an error of ours
        code = EXIT_OK
    except OutputFailed as exc:
        _fail(str(exc), exc.exit_code)
    except Terminated as exc:
        _fail(*SIGNAL_EXITS[exc.signum][:2])
    except SystemExit:
        raise
    except BaseException as exc:
        if _received and outcome.settled() is None:
            # a signal surfaced as another error (e.g. mid-commit): it is the cause
            _fail(*SIGNAL_EXITS[_received[0]][:2])
        _too_late()
        if isinstance(exc, OrderReportError):
            _fail(str(exc), exc.exit_code)
        if not isinstance(exc, Exception):
            raise
        limits = sys.modules.get("orderreport.db.limits")  # loaded if the database was used
        if limits is not None and limits.is_database_error(exc):  # outside any session
            why = limits.lost(exc)
            said = f"{why}; {limits.LOST_RERUN}" if why else limits.first_line(exc)
            _fail(f"database error: {said}", EXIT_FAILURE)
        if console.verbose() or os.environ.get("ORDERREPORT_DEBUG"):
            console.say(console.scrub("".join(traceback.format_exception(exc))))
        _fail(f"unexpected {type(exc).__name__}: {exc} (--verbose shows a traceback)", 1)
    finally:
        sys.stdout = real_stdout
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    sys.exit(code)


def _too_late() -> None:
    """Say that a signal arrived after the run's outcome was committed, which stands."""
    recorded = outcome.settled()
    if _received and recorded is not None:
        from orderreport.cli import console

        name = signal.Signals(_received[0]).name
        console.say(
            f"orderreport: {name} arrived after the run's outcome was recorded "
            f"(exit {recorded}): the outcome stands"
        )


def _fail(message: str, code: int) -> NoReturn:
    from orderreport.cli import console

    line = " ".join(console.scrub(message).split())
    if len(line) > MESSAGE_LIMIT:  # a huge bad value echoed by the CLI framework
        line = line[: MESSAGE_LIMIT - 1] + "…"
    console.say(f"orderreport: error: {line}")
    raise SystemExit(code)


class _GuardedOutput:
    """stdout, whose write errors become orderreport's own: a reader that went away
    (EPIPE) is ReaderGone, a full disk or closed descriptor is OutputFailed. The CLI
    framework would otherwise catch EPIPE itself and exit 1 without a word."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def _guard(self, exc: OSError) -> NoReturn:
        if exc.errno in (errno.EPIPE, errno.ECONNRESET):
            raise ReaderGone() from None
        raise OutputFailed(f"cannot write the output: {exc.strerror or exc}") from None

    def write(self, text: Any) -> int:
        try:
            return int(self._stream.write(text))
        except OSError as exc:
            self._guard(exc)

    def flush(self) -> None:
        try:
            self._stream.flush()
        except OSError as exc:
            self._guard(exc)

    @property
    def buffer(self) -> Any:
        binary = getattr(self._stream, "buffer", None)
        if binary is None:
            raise AttributeError("buffer")
        return _GuardedOutput(binary)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def _silence_stdout() -> None:
    """After EPIPE: point fd 1 at /dev/null so the final flush at exit cannot fail again."""
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.__stdout__.fileno() if sys.__stdout__ else 1)
