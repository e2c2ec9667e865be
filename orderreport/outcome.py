"""One rule for a signal that races a run's end: once the outcome is committed, it stands.

A `daily` run commits its outcome to the run log (runs.finish) and then still has work
that can take a moment: printing, the metrics file, a push to the Pushgateway. A SIGTERM
in that moment used to end the process with 143 while the run log said `succeeded`, exit 0
(once in 110 SIGTERMs in the live-load soak): a Kubernetes Job or a cron wrapper then
reported a failure that the run log and `status` denied.

So the commit of the outcome is the line. A signal before it ends the run as ever
(recorded as terminated, exit 143). A signal while it is in flight waits for it
(entry.py's handler defers while `committing()`): if the commit succeeds the outcome
stands, if it fails the deferred signal is raised then. A signal after it changes neither
the exit code nor the log: the process finishes its bounded remainder and exits with the
recorded code, and says on stderr that the signal came too late to matter.

Process-wide state (one run per process), reset by entry.run for each run.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from orderreport.errors import Terminated

_committing: list[bool] = []  # non-empty while an outcome's commit is in flight
_deferred: list[int] = []  # signals that arrived meanwhile, first first
_settled: list[int] = []  # the committed outcome's exit code, once there is one


def reset() -> None:
    _committing.clear()
    _deferred.clear()
    _settled.clear()


def settled() -> int | None:
    """The exit code of the run's committed outcome; None while it is not committed."""
    return _settled[0] if _settled else None


def defer(signum: int) -> bool:
    """Called by the signal handler: True if `signum` must not end the run now (an outcome
    is being committed: it is raised afterwards if the commit fails; or it is committed)."""
    if _committing:
        _deferred.append(signum)
        return True
    return bool(_settled)


@contextlib.contextmanager
def committing(exit_code: int) -> Iterator[None]:
    """Around the commit of a run's outcome with `exit_code`: a signal meanwhile waits for
    it; once the block ends without an error the outcome is settled."""
    _committing.append(True)
    try:
        yield
    except BaseException:
        _committing.clear()
        if _deferred:  # the outcome is not recorded: the signal ends the run after all
            raise Terminated(_deferred[0]) from None
        raise
    _settled.append(exit_code)
    _committing.clear()
