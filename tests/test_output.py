"""The renderers, with no database: each format's exact bytes, and tables that never lie (at
any width every figure, date and status is shown whole)."""

from __future__ import annotations

import io
from collections.abc import Callable, Set
from dataclasses import fields, replace
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest
from rich.cells import cell_len
from rich.console import Console

from orderreport import columns, schema
from orderreport.config import sources
from orderreport.render import records as output
from orderreport.render.records import Format
from orderreport.reports import daily, health, queries, runs, verify

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


# --- every renderer's exact output -------------------------------------------------------

EMPTY_DAY = replace(
    SUMMARY,
    currency=None,
    total_orders=0,
    total_products=0,
    total_value=Decimal("0.00"),
    average_products_per_order=Decimal("0.00"),
    average_order_value=Decimal("0.00"),
)
TOTAL = {f: getattr(SUMMARY, f) for f in queries.SUMMARY_FIELDS} | {"date": "total"}
ROWS = [
    queries.ReportRow(DAY, 17, "EUR", 3, Decimal("1919.90")),
    queries.ReportRow(DAY, UUID(int=5), None, 1, Decimal("0.50")),
]
DIFFERENCE = verify.Difference(DAY, "UTC", "EUR", "total_value", Decimal("10.00"), Decimal("12.50"))
STORED = daily.StoredReport(
    **{f: getattr(SUMMARY, f) for f in queries.SUMMARY_FIELDS},
    generated_at=datetime(2025, 12, 17, 0, 5, 1, 250000, tzinfo=UTC),
)
STEP = schema.Step("create", "orderreport.daily_reports", "the stored reports")
ENTRY = sources.Entry("seed", "public.orders", "public.order_items", "created_at", "every order")
NOTHING: dict[str, Any] = {f.name: None for f in fields(health.Status)}
STATUS = health.Status(
    **NOTHING
    | {
        "database": "postgresql+psycopg://u:***@db/shop",
        "head_revision": "0006",
        "currency": "orders.currency",
        "time_zone": "Europe/Moscow",
        "lag_days": 0,
        "max_lag": 1,
        "last_run_exit_code": 0,
        "healthy": True,
    }
)


def rendered(records: list[Any], fields: tuple[str, ...], fmt: Format, **kw: Any) -> str:
    out = io.StringIO()
    output.render(records, fields, fmt, out, **kw)
    return out.getvalue()


def drawn(width: int, draw: Callable[[Console], object]) -> str:
    c = console(width)
    draw(c)
    return text_of(c)


def lines(*texts: str) -> str:
    return "".join(text + "\n" for text in texts)


SUMMARIES = [SUMMARY, EMPTY_DAY]
CASES: dict[str, Callable[[], str]] = {
    "summary table": lambda: rendered(SUMMARIES, queries.SUMMARY_FIELDS, Format.table, title="t"),
    "summary table, footer": lambda: rendered(
        [SUMMARY], queries.SUMMARY_FIELDS, Format.table, footer=[TOTAL]
    ),
    "summary json": lambda: rendered(SUMMARIES, queries.SUMMARY_FIELDS, Format.json),
    "summary jsonl": lambda: rendered(SUMMARIES, queries.SUMMARY_FIELDS, Format.jsonl),
    "summary csv": lambda: rendered(SUMMARIES, queries.SUMMARY_FIELDS, Format.csv),
    "summary, one record, json": lambda: rendered(
        [SUMMARY], queries.SUMMARY_FIELDS, Format.json, single=True
    ),
    "summary, one record, table": lambda: rendered(
        [SUMMARY], queries.SUMMARY_FIELDS, Format.table, single=True, title="Summary"
    ),
    "summary, one record, csv": lambda: rendered(
        [SUMMARY], queries.SUMMARY_FIELDS, Format.csv, single=True
    ),
    "nothing, table": lambda: rendered([], queries.SUMMARY_FIELDS, Format.table),
    "nothing, json": lambda: rendered([], queries.SUMMARY_FIELDS, Format.json),
    "nothing, jsonl": lambda: rendered([], queries.SUMMARY_FIELDS, Format.jsonl),
    "nothing, csv": lambda: rendered([], queries.SUMMARY_FIELDS, Format.csv),
    "report table": lambda: rendered(ROWS, queries.REPORT_FIELDS, Format.table),
    "report json": lambda: rendered(ROWS, queries.REPORT_FIELDS, Format.json),
    "report csv": lambda: rendered(ROWS, queries.REPORT_FIELDS, Format.csv),
    "history table": lambda: rendered([STORED], daily.HISTORY_FIELDS, Format.table),
    "history jsonl": lambda: rendered([STORED], daily.HISTORY_FIELDS, Format.jsonl),
    "verify table": lambda: rendered([DIFFERENCE], verify.DIFFERENCE_FIELDS, Format.table),
    "plan table": lambda: rendered([STEP], schema.PLAN_FIELDS, Format.table),
    "platforms table": lambda: rendered([ENTRY], sources.CATALOGUE_FIELDS, Format.table),
    "runs json": lambda: rendered([RUN], runs.RUN_FIELDS, Format.json),
    "runs csv": lambda: rendered([RUN], runs.RUN_FIELDS, Format.csv),
    "runs listing": lambda: drawn(
        200,
        lambda c: output.write_rich_table(
            [RUN], runs.RUN_TABLE_FIELDS, c, title="runs", essential=ESSENTIAL
        ),
    ),
    "status table": lambda: rendered(
        [STATUS], health.STATUS_FIELDS, Format.table, single=True, title="status"
    ),
    "status json": lambda: rendered([STATUS], health.STATUS_FIELDS, Format.json, single=True),
    # the records fallback: `field: value` lines where a table would not fit
    "summary folded": lambda: drawn(
        40, lambda c: output.write_table(SUMMARIES, queries.SUMMARY_FIELDS, c, title="t")
    ),
    "summary folded, footer": lambda: drawn(
        40, lambda c: output.write_table([SUMMARY], queries.SUMMARY_FIELDS, c, footer=[TOTAL])
    ),
    "one record folded": lambda: drawn(
        30, lambda c: output.write_record(SUMMARY, queries.SUMMARY_FIELDS, c, "Summary")
    ),
    "runs folded": lambda: drawn(
        30, lambda c: output.write_rich_table([RUN], runs.RUN_TABLE_FIELDS, c, title="runs")
    ),
}

# SUMMARY's fields after its date as `field: value` lines
FOLDED = [
    "zone: America/Argentina/Buenos_Aires",
    "cur: EUR",
    "orders: 1,234",
    "lines: 5,678",
    "total value: 52,167.40",
    "avg lines/order: 4.60",
    "avg order value: 42.27",
    "",
]
EXPECTED = {
    "summary table": lines(
        "                                                           t",
        " date         zone                             cur   orders   lines   total value   avg lines/order   avg order value",
        " ────────────────────────────────────────────────────────────────────────────────────────────────────────────────────",
        " 2025-12-16   America/Argentina/Buenos_Aires   EUR    1,234   5,678     52,167.40              4.60             42.27",
        " 2025-12-16   America/Argentina/Buenos_Aires              0       0          0.00              0.00              0.00",
    ),
    "summary table, footer": lines(
        " date         zone                             cur   orders   lines   total value   avg lines/order   avg order value",
        " ────────────────────────────────────────────────────────────────────────────────────────────────────────────────────",
        " 2025-12-16   America/Argentina/Buenos_Aires   EUR    1,234   5,678     52,167.40              4.60             42.27",
        " ────────────────────────────────────────────────────────────────────────────────────────────────────────────────────",
        " total        America/Argentina/Buenos_Aires   EUR    1,234   5,678     52,167.40              4.60             42.27",
    ),
    "summary json": lines(
        "[",
        '  {"date": "2025-12-16", "time_zone": "America/Argentina/Buenos_Aires", "currency": "EUR", "total_orders": 1234, "total_products": 5678, "total_value": 52167.40, "average_products_per_order": 4.60, "average_order_value": 42.27},',
        '  {"date": "2025-12-16", "time_zone": "America/Argentina/Buenos_Aires", "currency": null, "total_orders": 0, "total_products": 0, "total_value": 0.00, "average_products_per_order": 0.00, "average_order_value": 0.00}',
        "]",
    ),
    "summary jsonl": lines(
        '{"date": "2025-12-16", "time_zone": "America/Argentina/Buenos_Aires", "currency": "EUR", "total_orders": 1234, "total_products": 5678, "total_value": 52167.40, "average_products_per_order": 4.60, "average_order_value": 42.27}',
        '{"date": "2025-12-16", "time_zone": "America/Argentina/Buenos_Aires", "currency": null, "total_orders": 0, "total_products": 0, "total_value": 0.00, "average_products_per_order": 0.00, "average_order_value": 0.00}',
    ),
    "summary csv": lines(
        "date,time_zone,currency,total_orders,total_products,total_value,average_products_per_order,average_order_value\r",
        "2025-12-16,America/Argentina/Buenos_Aires,EUR,1234,5678,52167.40,4.60,42.27\r",
        "2025-12-16,America/Argentina/Buenos_Aires,,0,0,0.00,0.00,0.00\r",
    ),
    "summary, one record, json": lines(
        '{"date": "2025-12-16", "time_zone": "America/Argentina/Buenos_Aires", "currency": "EUR", "total_orders": 1234, "total_products": 5678, "total_value": 52167.40, "average_products_per_order": 4.60, "average_order_value": 42.27}',
    ),
    "summary, one record, table": lines(
        "                     Summary                      ",
        "                                                  ",
        " date                                  2025-12-16 ",
        " zone              America/Argentina/Buenos_Aires ",
        " cur                                          EUR ",
        " orders                                     1,234 ",
        " lines                                      5,678 ",
        " total value                            52,167.40 ",
        " avg lines/order                             4.60 ",
        " avg order value                            42.27 ",
        "                                                  ",
    ),
    "summary, one record, csv": lines(
        "date,time_zone,currency,total_orders,total_products,total_value,average_products_per_order,average_order_value\r",
        "2025-12-16,America/Argentina/Buenos_Aires,EUR,1234,5678,52167.40,4.60,42.27\r",
    ),
    "nothing, table": lines(
        " date   zone   cur   orders   lines   total value   avg lines/order   avg order value",
        " ────────────────────────────────────────────────────────────────────────────────────",
    ),
    "nothing, json": lines(
        "[]",
    ),
    "nothing, jsonl": "",
    "nothing, csv": lines(
        "date,time_zone,currency,total_orders,total_products,total_value,average_products_per_order,average_order_value\r",
    ),
    "report table": lines(
        " day                                         order   cur   lines      total",
        " ──────────────────────────────────────────────────────────────────────────",
        " 2025-12-16                                     17   EUR       3   1,919.90",
        " 2025-12-16   00000000-0000-0000-0000-000000000005             1       0.50",
    ),
    "report json": lines(
        "[",
        '  {"report_at": "2025-12-16", "order_id": 17, "currency": "EUR", "count_product": 3, "total_amount": 1919.90},',
        '  {"report_at": "2025-12-16", "order_id": "00000000-0000-0000-0000-000000000005", "currency": null, "count_product": 1, "total_amount": 0.50}',
        "]",
    ),
    "report csv": lines(
        "report_at,order_id,currency,count_product,total_amount\r",
        "2025-12-16,17,EUR,3,1919.90\r",
        "2025-12-16,00000000-0000-0000-0000-000000000005,,1,0.50\r",
    ),
    "history table": lines(
        " date         zone                             cur   orders   lines   total value   avg lines/order   avg order value   generated at",
        " ────────────────────────────────────────────────────────────────────────────────────────────────────────────────────────────────────────────────",
        " 2025-12-16   America/Argentina/Buenos_Aires   EUR    1,234   5,678     52,167.40              4.60             42.27   2025-12-17 00:05:01+00:00",
    ),
    "history jsonl": lines(
        '{"date": "2025-12-16", "time_zone": "America/Argentina/Buenos_Aires", "currency": "EUR", "total_orders": 1234, "total_products": 5678, "total_value": 52167.40, "average_products_per_order": 4.60, "average_order_value": 42.27, "generated_at": "2025-12-17T00:05:01.250000+00:00"}',
    ),
    "verify table": lines(
        " date         zone   cur   field         stored    live",
        " ──────────────────────────────────────────────────────",
        " 2025-12-16   UTC    EUR   total_value    10.00   12.50",
    ),
    "plan table": lines(
        " action   object                      detail",
        " ───────────────────────────────────────────────────────",
        " create   orderreport.daily_reports   the stored reports",
    ),
    "platforms table": lines(
        " platform   orders          lines                placed_at    counts",
        " ────────────────────────────────────────────────────────────────────────",
        " seed       public.orders   public.order_items   created_at   every order",
    ),
    "runs json": lines(
        "[",
        '  {"id": 1042, "time_zone": "UTC", "status": "interrupted", "exit_code": 130, "started_at": "2025-12-17T01:00:05+00:00", "finished_at": "2025-12-17T01:02:00+00:00", "duration_seconds": 115.250, "catch_up": true, "first_day": "2025-12-10", "last_day": "2025-12-16", "days_planned": 7, "days_stored": 3, "days_restated": 1, "days_changed": 1, "host": "reports-cron-01.example.com", "pid": 4242, "message": "interrupted (SIGINT) after storing 2025-12-12"}',
        "]",
    ),
    "runs csv": lines(
        "id,time_zone,status,exit_code,started_at,finished_at,duration_seconds,catch_up,first_day,last_day,days_planned,days_stored,days_restated,days_changed,host,pid,message\r",
        "1042,UTC,interrupted,130,2025-12-17T01:00:05+00:00,2025-12-17T01:02:00+00:00,115.250,True,2025-12-10,2025-12-16,7,3,1,1,reports-cron-01.example.com,4242,interrupted (SIGINT) after storing 2025-12-12\r",
    ),
    "runs listing": lines(
        "                                                                               runs                                                                               ",
        "                                                                                                                                                                  ",
        "    id   started                     seconds   status        exit   from         to           planned   stored   restated   changed   host                        ",
        " ──────────────────────────────────────────────────────────────────────────────────────────────────────────────────────────────────────────────────────────────── ",
        " 1,042   2025-12-17 01:00:05+00:00   115.250   interrupted    130   2025-12-10   2025-12-16         7        3          1         1   reports-cron-01.example.com ",
        "                                                                                                                                                                  ",
        "                                                        not shown at this width: message (--json has all)                                                         ",
    ),
    "status table": lines(
        "                           status                           ",
        "                                                            ",
        " database                postgresql+psycopg://u:***@db/shop ",
        " schema_revision                                            ",
        " head_revision                                         0006 ",
        " shop_schema                                                ",
        " platform                                                   ",
        " orders                                                     ",
        " lines                                                      ",
        " placed_at                                                  ",
        " amount                                                     ",
        " cur                                        orders.currency ",
        " counts                                                     ",
        " missing_indexes                                            ",
        " whole_reads                                                ",
        " writable_schemas                                           ",
        " money_type                                                 ",
        " money_read_as                                              ",
        " created_at_type                                            ",
        " created_at_read_as                                         ",
        " undated_orders                                             ",
        " orders_without_amount                                      ",
        " zone                                         Europe/Moscow ",
        " oldest_report                                              ",
        " newest_report                                              ",
        " lag_days                                                 0 ",
        " missing_days                                               ",
        " max_lag                                                  1 ",
        " last_run_id                                                ",
        " last_run_status                                            ",
        " last_run_started                                           ",
        " last_run_finished                                          ",
        " last_run_exit_code                                       0 ",
        " last_run_host                                              ",
        " healthy                                               True ",
        " problem                                                    ",
        "                                                            ",
    ),
    "status json": lines(
        '{"database": "postgresql+psycopg://u:***@db/shop", "schema_revision": null, "head_revision": "0006", "shop_schema": null, "platform": null, "orders": null, "lines": null, "placed_at": null, "amount": null, "currency": "orders.currency", "counts": null, "missing_indexes": null, "whole_reads": null, "writable_schemas": null, "money_type": null, "money_read_as": null, "created_at_type": null, "created_at_read_as": null, "undated_orders": null, "orders_without_amount": null, "time_zone": "Europe/Moscow", "oldest_report": null, "newest_report": null, "lag_days": 0, "missing_days": null, "max_lag": 1, "last_run_id": null, "last_run_status": null, "last_run_started": null, "last_run_finished": null, "last_run_exit_code": 0, "last_run_host": null, "healthy": true, "problem": null}',
    ),
    "summary folded": lines(
        "t",
        "date: 2025-12-16",
        *FOLDED,
        "date: 2025-12-16",
        "zone: America/Argentina/Buenos_Aires",
        "cur:",
        "orders: 0",
        "lines: 0",
        "total value: 0.00",
        "avg lines/order: 0.00",
        "avg order value: 0.00",
        "",
    ),
    "summary folded, footer": lines("date: 2025-12-16", *FOLDED, "date: total", *FOLDED),
    "one record folded": lines(
        "Summary", "date: 2025-12-16", "zone:", "America/Argentina/Buenos_Aires", *FOLDED[1:]
    ),
    "runs folded": lines(
        "runs",
        "id: 1,042",
        "started:",
        "  2025-12-17 01:00:05+00:00",
        "seconds: 115.250",
        "status: interrupted",
        "exit: 130",
        "from: 2025-12-10",
        "to: 2025-12-16",
        "planned: 7",
        "stored: 3",
        "restated: 1",
        "changed: 1",
        "host:",
        "  reports-cron-01.example.com",
        "message:",
        "interrupted (SIGINT) after storing 2025-12-12",
        "",
    ),
}


def test_every_case_has_its_output() -> None:
    assert CASES.keys() == EXPECTED.keys()


@pytest.mark.parametrize("case", list(CASES))
def test_the_exact_output(case: str) -> None:
    assert CASES[case]() == EXPECTED[case]


def test_a_listing_names_only_fields_of_its_record() -> None:
    listing = columns.fields_of(runs.RunRecord, first=("id", "started_at"), omit=("pid",))
    assert listing[:3] == ("id", "started_at", "time_zone") and "pid" not in listing
    assert output.table_headers(listing)[:3] == ["id", "started", "zone"]
    assert output.table_headers(("id", "started_at")) == ["id", "started_at"]  # plain names
    with pytest.raises(ValueError, match="RunRecord has no field started"):
        columns.fields_of(runs.RunRecord, first=("started",))
