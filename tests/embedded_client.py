"""Helpers run as separate processes by the embedded-server tests.

`embedded_client.py HOME`: a client of the embedded server: attach, report, wait for a line,
detach.

`embedded_client.py --cli`: runs the CLI's main() again and again, each time in a forked child
(so a run costs no imports), and sends it SIGTERM on request. Reads JSON lines
{"args": [...], "at": "start", "stop" or null, "delay": seconds} on stdin; for each, forks a
child that runs main(args) against the real embedded server, and `delay` seconds after
EmbeddedServer.start (or .stop) began in it, sends it SIGTERM unless that step is over by
then. Writes one JSON line back: {"code": exit status (negative: killed by that signal),
"stderr": its stderr, "marks": when start and stop began (s, t) and ended (S, T), in seconds
from the fork, "killed": whether SIGTERM was sent}.
"""

from __future__ import annotations

import json
import os
import select
import signal
import sys
import tempfile
import time
import traceback
from pathlib import Path
from types import FrameType

import psycopg

from orderreport.db.embedded import EmbeddedServer

# what a child writes to the pipe as EmbeddedServer.start and .stop begin and end
MARKS = {"start": (b"s", b"S"), "stop": (b"t", b"T")}


def client(home: Path) -> None:
    with EmbeddedServer(home) as url:
        conn = psycopg.connect(url)
        pid = conn.execute("SELECT pg_postmaster_start_time()::text").fetchone()
        conn.close()
        print(f"ready {pid[0] if pid else ''}", flush=True)
        sys.stdin.readline()
    print("detached", flush=True)


def _child(args: list[str], notify: int, err: int) -> None:
    """Run main(args) as `python -m orderreport` would, exit with its code; never returns.

    os._exit skips Python's own shutdown: what happens there (after main) is not
    EmbeddedServer's doing and is left out of these tests.
    """
    from orderreport.entry import run as main

    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(err, 2)
    real_start, real_stop = EmbeddedServer.start, EmbeddedServer.stop

    # observers only: the real start and stop run, and say when they begin and end
    def start(self: EmbeddedServer) -> str:
        os.write(notify, MARKS["start"][0])
        try:
            return real_start(self)
        finally:
            os.write(notify, MARKS["start"][1])

    def stop(self: EmbeddedServer) -> None:
        os.write(notify, MARKS["stop"][0])
        try:
            real_stop(self)
        finally:
            os.write(notify, MARKS["stop"][1])

    EmbeddedServer.start = start  # type: ignore[method-assign]
    EmbeddedServer.stop = stop  # type: ignore[method-assign]
    # Once main() is over its outcome stands, whatever main() put back: a signal then is
    # the entry point's business (it must not spoil the outcome), not EmbeddedServer's.
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, _ignore)
    code = 70
    try:
        try:
            main(args)
            code = 0
        except SystemExit as exc:
            signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})
            code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:  # escaped main(): shown to the test as exit 70 and a traceback
        traceback.print_exc()
    finally:
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


def _ignore(signum: int, frame: FrameType | None) -> None:
    """A signal that comes after main() is over (see _child)."""


def _one_run(args: list[str], at: str | None, delay: float) -> dict[str, object]:
    readable, notify = os.pipe()
    with tempfile.TemporaryFile() as err:
        pid = os.fork()
        if pid == 0:
            os.close(readable)
            _child(args, notify, err.fileno())
        os.close(notify)
        marks: dict[str, float] = {}
        first = time.monotonic()

        def note(mark: bytes) -> None:
            marks[mark.decode()] = time.monotonic() - first

        killed = False
        while mark := os.read(readable, 1):  # until the child ends
            note(mark)
            if at is not None and mark == MARKS[at][0]:
                time.sleep(delay)
                # only inside the step: after it the run is in code that is not under test
                while select.select([readable], [], [], 0)[0] and (mark := os.read(readable, 1)):
                    note(mark)
                if MARKS[at][1].decode() not in marks:
                    os.kill(pid, signal.SIGTERM)  # not reaped yet: pid cannot be anyone else's
                    killed = True
                at = None
        _, status = os.waitpid(pid, 0)
        os.close(readable)
        err.seek(0)
        stderr = err.read().decode(errors="replace")
    code = os.waitstatus_to_exitcode(status)
    return {"code": code, "stderr": stderr, "marks": marks, "killed": killed}


def cli_runs() -> None:
    import orderreport.cli.app  # noqa: F401  # imported once, before any fork

    for line in sys.stdin:
        request = json.loads(line)
        reply = _one_run(request["args"], request.get("at"), request.get("delay", 0.0))
        print(json.dumps(reply), flush=True)


if __name__ == "__main__":
    if sys.argv[1] == "--cli":
        cli_runs()
    else:
        client(Path(sys.argv[1]))
