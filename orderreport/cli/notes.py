"""What the commands print besides output.render's rows: titles, notes, footers, styles,
the digest in its chosen format. No database, no Typer."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import TYPE_CHECKING

from orderreport.render.records import DigestFormat

if TYPE_CHECKING:
    from orderreport.reports import queries, runs
    from orderreport.reports.digest import Digest


class Counting:
    """Wraps an iterator and counts what passed through (for the "no orders" note)."""

    def __init__(self, rows: Iterator[queries.ReportRow]) -> None:
        self.rows = rows
        self.count = 0

    def __iter__(self) -> Iterator[queries.ReportRow]:
        for row in self.rows:
            self.count += 1
            yield row


def span_text(span: tuple[date, date] | None) -> str:
    if span is None:
        return "at all"
    if span[0] == span[1]:
        return f"on {span[0]}"
    return f"from {span[0]} to {span[1]}"


def title(what: str, span: tuple[date, date] | None, tz: str) -> str:
    return f"{what} {span_text(span).removeprefix('on ')} ({tz})"


def total_rows(totals: list[queries.Summary] | None) -> list[dict[str, object]] | None:
    """A range's totals as the table's footer rows, one per currency."""
    from orderreport.reports import queries

    if totals is None:
        return None
    rows = []
    for total in totals:
        row = {f: getattr(total, f) for f in queries.SUMMARY_FIELDS}
        row["date"] = "total"
        rows.append(row)
    return rows


def digest_text(found: Digest, fmt: DigestFormat) -> str:
    from orderreport.render import forms

    return forms.DIGEST[fmt.value](found)


def run_style(run: runs.RunRecord) -> str | None:
    return {"succeeded": None, "running": "cyan", "busy": "dim"}.get(run.status, "bold red")
