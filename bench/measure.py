"""Timing: whole processes (wall time and peak memory) and server time (EXPLAIN ANALYZE).

The machine is shared and noisy: every figure is a median over repeats, ours and its
reference taken in turns (ABBA), so that drift hits both sides alike.
"""

from __future__ import annotations

import hashlib
import os
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, BinaryIO

import psycopg


class CommandFailed(Exception):
    """A measured process exited non-zero (its stderr is in the message)."""


@dataclass(frozen=True)
class Ran:
    """One finished process: wall seconds from spawn to exit, and its peak RSS in MiB."""

    seconds: float
    peak_mib: float


def spawn(argv: list[str], env: Mapping[str, str], stdout: int | BinaryIO | None = None) -> Ran:
    """Run `argv` to its end, stdout to /dev/null unless given; raise CommandFailed on a
    non-zero exit. The peak RSS is this child's own (wait4), not the largest child's so far."""
    with tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        proc = subprocess.Popen(
            argv,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL if stdout is None else stdout,
            stderr=err,
        )
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            err.seek(0)
            message = err.read().decode(errors="replace").strip()
            raise CommandFailed(f"{' '.join(argv)} exited {proc.returncode}: {message}")
    return Ran(seconds, usage.ru_maxrss / 1024)  # ru_maxrss is in KiB on Linux


def output_of(argv: list[str], env: Mapping[str, str]) -> tuple[str, int]:
    """The sha256 of a process's stdout with CR removed (RFC 4180 CSV ends lines in CRLF,
    psql's in LF) and its line count: big outputs are compared without being kept."""
    digest = hashlib.sha256()
    lines = 0
    with subprocess.Popen(
        argv, env=dict(env), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE
    ) as proc:
        assert proc.stdout is not None
        for block in iter(lambda: proc.stdout.read(1 << 20) if proc.stdout else b"", b""):
            digest.update(block.replace(b"\r", b""))
            lines += block.count(b"\n")
    if proc.returncode != 0:
        raise CommandFailed(f"{' '.join(argv)} exited {proc.returncode}")
    return digest.hexdigest(), lines


def in_turns(
    ours: Callable[[], float], reference: Callable[[], float], repeat: int, *, warm: bool = True
) -> Pair:
    """Medians of `repeat` runs of each, taken in turns (ABBA), after one warm-up run of
    each (caches, bytecode) unless the caller warmed them up (`warm` False)."""
    if warm:
        ours()
        reference()
    a: list[float] = []
    b: list[float] = []
    for i in range(repeat):
        if i % 2 == 0:
            a.append(ours())
            b.append(reference())
        else:
            b.append(reference())
            a.append(ours())
    return Pair(statistics.median(a), statistics.median(b), len(a))


@dataclass(frozen=True)
class Pair:
    """Medians of ours and of its reference over `n` runs each."""

    ours: float
    reference: float
    n: int

    @property
    def ratio(self) -> float:
        return self.ours / self.reference if self.reference else float("inf")


# -- server time ----------------------------------------------------------------------
def explain(
    conn: psycopg.Connection[Any], sql: str, params: Mapping[str, object], analyze: bool
) -> Any:
    """EXPLAIN's JSON plan of `sql` (psycopg %(name)s parameters); with `analyze`, run it
    (without per-node timing, whose clock reads would weigh on the side with more rows)."""
    options = "ANALYZE, BUFFERS, TIMING OFF, FORMAT JSON" if analyze else "FORMAT JSON"
    row = conn.execute(f"EXPLAIN ({options}) {sql}", dict(params)).fetchone()
    assert row is not None
    return row[0][0]


def server_ms(conn: psycopg.Connection[Any], sql: str, params: Mapping[str, object]) -> float:
    """Planning plus execution time on the server, in milliseconds."""
    plan = explain(conn, sql, params, analyze=True)
    return float(plan["Planning Time"]) + float(plan["Execution Time"])


def plan_text(conn: psycopg.Connection[Any], sql: str, params: Mapping[str, object]) -> str:
    """EXPLAIN (ANALYZE, BUFFERS) as text, for the plans file."""
    rows = conn.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", dict(params)).fetchall()
    return "\n".join(str(r[0]) for r in rows)


def nodes(plan: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    """Every node of a JSON plan, the root first."""
    yield plan
    for child in plan.get("Plans", ()):
        yield from nodes(child)


def seq_scans(plan: Mapping[str, Any], tables: Mapping[str, str]) -> set[str]:
    """The shop tables (by `tables`, relation name -> table) that the plan reads whole."""
    return {
        tables[n["Relation Name"]]
        for n in nodes(plan["Plan"])
        if n["Node Type"] == "Seq Scan" and n.get("Relation Name") in tables
    }


def relations(plan: Mapping[str, Any]) -> set[str]:
    """Every relation the plan still reads after pruning."""
    return {str(n["Relation Name"]) for n in nodes(plan["Plan"]) if "Relation Name" in n}
