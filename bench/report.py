"""The bench's table, the machine it ran on, and RESULTS.md (one section per configuration)."""

from __future__ import annotations

import os
import platform
import re
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
NONE = "—"
TIMES = "\u00d7"  # the multiplication sign of a ratio


@dataclass(frozen=True)
class Row:
    """One figure: ours and its reference as text, their ratio, the target and whether it
    is met ("yes", "no", or "no: why" when the answers disagree)."""

    figure: str
    ours: str
    reference: str
    ratio: float | None
    target: str
    met: str


HEADER = ("figure", "orderreport", "reference", "ratio", "target", "met?")


def seconds(value: float) -> str:
    return f"{value:.2f} s" if value < 10 else f"{value:.1f} s"


def millis(value: float) -> str:
    return (
        f"{value:.2f} ms"
        if value < 10
        else f"{value:,.1f} ms"
        if value < 100
        else (f"{value:,.0f} ms")
    )


def ratio_text(ratio: float | None) -> str:
    return NONE if ratio is None else f"{ratio:.2f}{TIMES}"


def table(rows: list[Row]) -> str:
    """The rows as a markdown table."""
    lines = ["| " + " | ".join(HEADER) + " |", "|---|---:|---|---:|---|---|"]
    for r in rows:
        cells = (r.figure, r.ours, r.reference, ratio_text(r.ratio), r.target, r.met)
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines)


def _first(path: str, pattern: str) -> str:
    try:
        text = Path(path).read_text()
    except OSError:
        return "unknown"
    found = re.search(pattern, text, re.MULTILINE)
    return found.group(1).strip() if found else "unknown"


def _git(*args: str) -> str:
    try:
        done = subprocess.run(
            ["git", "-C", str(REPO), *args], capture_output=True, text=True, check=True
        )
    except (OSError, subprocess.CalledProcessError):
        return ""
    return done.stdout


def checkout() -> str:
    """The commit measured, and which of orderreport's files differ from it."""
    commit = _git("rev-parse", "--short", "HEAD").strip() or "unknown commit"
    dirty = [
        line[3:]
        for line in _git("status", "--porcelain", "--", "orderreport", "migrations").splitlines()
    ]
    return commit + (f" with uncommitted changes in {', '.join(dirty)}" if dirty else "")


def load_average() -> str:
    """The load average over 1, 5 and 15 minutes: how busy the shared machine was."""
    return _first("/proc/loadavg", r"^(\S+ \S+ \S+)")


@dataclass(frozen=True)
class Start:
    """The moment a run started: its date, the load average and the checkout measured."""

    date: datetime
    load: str
    checkout: str


def started() -> Start:
    return Start(datetime.now(UTC), load_average(), checkout())


def machine(postgres: str, start: Start) -> list[str]:
    """What ran the bench, one fact a line (`postgres`: the server's version()). Every
    process is started from the working tree: if it changed during the run, both
    checkouts are named."""
    kib = _first("/proc/meminfo", r"^MemTotal:\s+(\d+)")
    memory = f"{int(kib) / 1024 / 1024:.1f} GiB" if kib.isdigit() else "unknown"
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    model = _first("/proc/cpuinfo", r"^model name\s*:(.*)$")
    now = checkout()
    took = (datetime.now(UTC) - start.date).total_seconds()
    code = (
        start.checkout
        if now == start.checkout
        else (f"{start.checkout} at the start, {now} at the end (the tree changed during the run)")
    )
    return [
        f"CPU: {usable} usable of {os.cpu_count()} ({model})",
        f"memory: {memory}; load average at the start (1, 5, 15 min): {start.load}",
        f"PostgreSQL: {postgres}",
        f"Python: {platform.python_version()} ({platform.python_implementation()})",
        f"orderreport: {code}",
        f"date: {start.date:%Y-%m-%d %H:%M} UTC, {timedelta(seconds=round(took))} in all",
    ]


_INTRO = """# Bench results

Written by `bench/bench.py --out bench/RESULTS.md`: one section per configuration, replaced
when that configuration is run again (the text outside the sections is kept). Every figure
is a median over the run's repeats, ours and its reference taken in turns in the same run;
the machine is shared and noisy, so compare the ratios, not absolute times across runs.
"""


def write_section(path: Path, key: str, body: str) -> None:
    """Put `body` in `path` as the section `key`, replacing that section if present."""
    start, end = f"<!-- bench:{key} -->", f"<!-- /bench:{key} -->"
    section = f"{start}\n{body.strip()}\n{end}\n"
    old = path.read_text() if path.exists() else _INTRO
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end) + r"\n?", re.DOTALL)
    new = pattern.sub(lambda _m: section, old) if pattern.search(old) else old + "\n" + section
    path.write_text(new)
