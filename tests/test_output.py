"""Tables never lie: at any width every figure, date and status is shown whole (no database)."""

from __future__ import annotations

import io
from collections.abc import Set
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from rich.cells import cell_len
from rich.console import Console

from orderreport import output, queries, runs

WIDTHS = [20, 40, 80, 200]
DAY = date(2025, 12, 16)
SUMMARY = queries.Summary(
    date=DAY,
    time_zone="America/Argentina/Buenos_Aires",
    currency="EUR",
    total_orders=1234,
    total_products=5678,
    total_value=Decimal("52167.40"),
    average_products_per_order=Decimal("4.60"),
    average_order_value=Decimal("42.27"),
)
RUN = runs.RunRecord(
    id=1042,
    time_zone="UTC",
    status="interrupted",
    exit_code=130,
    started_at=datetime(2025, 12, 17, 1, 0, 5, tzinfo=UTC),
    finished_at=datetime(2025, 12, 17, 1, 2, 0, tzinfo=UTC),
    duration_seconds=Decimal("115.250"),
    catch_up=True,
    first_day=date(2025, 12, 10),
    last_day=DAY,
    days_planned=7,
    days_stored=3,
    days_restated=1,
    days_changed=1,
    host="reports-cron-01.example.com",
    pid=4242,
    message="interrupted (SIGINT) after storing 2025-12-12",
)
ESSENTIAL = ("id", "started_at", "status", "exit_code", "days_stored")


def console(width: int) -> Console:
    return Console(file=io.StringIO(), width=width, highlight=False)


def text_of(c: Console) -> str:
    file = c.file
    assert isinstance(file, io.StringIO)
    return file.getvalue()


def cells(records: list[Any], fields: tuple[str, ...]) -> set[str]:
    return {output.table_cell(f, getattr(r, f)) for r in records for f in fields} - {""}


def assert_whole(text: str, width: int, expected: set[str], values: Set[str] = frozenset()) -> None:
    """Every expected cell appears unbroken, nothing is cut with an ellipsis, and only a
    value (of `expected` or `values`) too wide for this console is written past its edge."""
    assert "…" not in text and "..." not in text, text
    missing = {cell for cell in expected if cell not in text}
    assert not missing, f"{missing} not whole in\n{text}"
    for line in text.splitlines():
        assert cell_len(line.rstrip()) <= width or line.strip() in expected | values, line


@pytest.mark.parametrize("width", WIDTHS)
def test_one_record_is_whole(width: int) -> None:
    c = console(width)
    output.write_record(SUMMARY, queries.SUMMARY_FIELDS, c, f"Summary {DAY} (UTC)")
    text = text_of(c)
    assert_whole(text, width, cells([SUMMARY], queries.SUMMARY_FIELDS))
    # the two-column table where it fits, `field: value` lines where it does not
    folded = "total value: 52,167.40" in text or "total value:\n  52,167.40" in text
    assert folded == (width < 50), text


@pytest.mark.parametrize("width", WIDTHS)
def test_runs_keep_their_essential_columns_whole(width: int) -> None:
    other = replace(RUN, id=7, status="succeeded", exit_code=0, message=None)
    c = console(width)
    output.write_rich_table([RUN, other], runs.RUN_TABLE_FIELDS, c, essential=ESSENTIAL)
    text = text_of(c)
    every = cells([RUN, other], runs.RUN_TABLE_FIELDS)
    assert_whole(text, width, cells([RUN, other], ESSENTIAL), every)
    header = next((line.split() for line in text.splitlines() if "started" in line), [])
    if width == 80:  # the low-value columns go, right to left
        assert header == ["id", "started", "seconds", "status", "exit", "stored"]
        assert "not shown at this width: from, to, planned, restated, changed, host" in text
    elif width == 200:  # all but the long message fit
        assert_whole(text, width, every - {RUN.message or ""})
        assert header[-1] == "host" and "not shown at this width: message" in text
    else:  # not even those fit: each run as `field: value` lines, every field of it
        assert_whole(text, width, every)
        assert "status: interrupted" in text and "\n\nid: 7\n" in text


@pytest.mark.parametrize("width", WIDTHS)
def test_a_listing_without_essentials_folds_rather_than_crops(width: int) -> None:
    c = console(width)
    output.write_rich_table([RUN], runs.RUN_TABLE_FIELDS, c, title="runs")
    assert_whole(text_of(c), width, cells([RUN], runs.RUN_TABLE_FIELDS))


@pytest.mark.parametrize("width", WIDTHS)
def test_a_streamed_table_folds_when_too_wide(width: int) -> None:
    days = [replace(SUMMARY, date=date(2025, 12, d), time_zone="UTC") for d in range(1, 4)]
    total = {f: getattr(SUMMARY, f) for f in queries.SUMMARY_FIELDS} | {"date": "total"}
    c = console(width)
    assert output.write_table(days, queries.SUMMARY_FIELDS, c, title="t", footer=[total]) == 3
    text = text_of(c)
    footer = cells([SUMMARY], queries.SUMMARY_FIELDS) - {str(DAY)} | {"total"}
    assert_whole(text, width, cells(days, queries.SUMMARY_FIELDS) | footer)
    assert ("date: 2025-12-03" in text) == (width < 91), text


def test_a_later_chunk_too_wide_folds_from_there_on() -> None:
    days = [replace(SUMMARY, time_zone="UTC")] * output.TABLE_CHUNK + [SUMMARY]
    c = console(100)
    output.write_table(days, queries.SUMMARY_FIELDS, c)
    text = text_of(c)
    assert_whole(text, 100, cells(days, queries.SUMMARY_FIELDS))
    table = [line for line in text.splitlines() if line.startswith(f" {DAY}   UTC ")]
    assert len(table) == output.TABLE_CHUNK  # the rows that fit: a table, then one record
    assert text.count("date: ") == 1 and "\nzone: America/Argentina/Buenos_Aires\n" in text


@pytest.mark.parametrize("width", WIDTHS)
def test_a_chart_never_cuts_its_figures(width: int) -> None:
    points = [(date(2025, 12, d), Decimal("5216.74") * d) for d in range(1, 11)]
    c = console(width)
    output.bar_chart(points, c, title="Total value per day")
    text = text_of(c)
    assert_whole(text, min(width, 80), {f"{v:,.2f}" for _, v in points})
    assert text.count("█") >= 10 and text.count("2025-12-") == 10
