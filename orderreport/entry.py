"""The console entry point: signal handlers first, then everything else.

Importing the CLI (SQLAlchemy, Rich, Typer) takes a noticeable fraction of a second; a
SIGTERM or Ctrl-C in that time must still end with the documented exit code and one line,
not Python's default death or a traceback. Nothing has started yet, so leaving is safe.
"""

from __future__ import annotations

import signal
import sys
from types import FrameType

_EARLY = {signal.SIGINT: ("interrupted", 130), signal.SIGTERM: ("terminated by SIGTERM", 143)}


def _early(signum: int, frame: FrameType | None) -> None:
    what, code = _EARLY[signal.Signals(signum)]
    sys.stderr.write(f"orderreport: error: {what}\n")
    raise SystemExit(code)


def main() -> None:
    for sig in _EARLY:
        signal.signal(sig, _early)
    if sys.argv[1:] in (["--version"], ["-V"]):  # answered without loading the CLI at all
        from orderreport import __version__

        sys.stdout.write(f"orderreport {__version__}\n")
        return
    from orderreport.cli import main as cli_main  # cli.main installs its own handlers

    try:
        cli_main()
    finally:
        # The outcome is decided. A signal from here on could only spoil it: Python puts back
        # the default actions while it shuts down, and a SIGTERM then kills us silently.
        signal.pthread_sigmask(signal.SIG_BLOCK, set(_EARLY))
        # Nor may a library's cleanup at interpreter exit add lines to stderr: the run's one
        # line is written. (A SIGTERM mid-run can leave SQLAlchemy's event registry half torn
        # down, and its weakref callbacks then print "Exception ignored in …" at shutdown.)
        sys.unraisablehook = lambda _unraisable: None
