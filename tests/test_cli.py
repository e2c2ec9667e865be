"""The CLI: every format parsed back value by value, bad input, exit codes, stdout vs stderr."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import subprocess
import sys
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import psycopg
import pytest
from sqlalchemy.engine import URL

from orderreport import __version__
from orderreport.errors import EXIT_CODES
from tests.conftest import add_order, run_cli, subprocess_env, url_text

MSK = ZoneInfo("Europe/Moscow")
DAY = "2025-12-16"


@pytest.fixture
def example(shop: psycopg.Connection[tuple[object, ...]]) -> list[int]:
    """The old system's example day in Moscow, plus an order without lines on the next day."""
    ids = [
        add_order(shop, datetime(2025, 12, 16, 9, 0, tzinfo=MSK), total, 2)
        for total in ("1359.97", "299.96", "259.97")
    ]
    ids.append(add_order(shop, datetime(2025, 12, 17, 0, 0, tzinfo=MSK), "0.30", 0))
    return ids


def cli(url: URL, *args: str) -> tuple[int, str, str]:
    r = run_cli(*args, "--database-url", url_text(url), "--tz", "Europe/Moscow")
    return r.code, r.out, r.err


SUMMARY_KEYS = [
    "date",
    "time_zone",
    "currency",
    "total_orders",
    "total_products",
    "total_value",
    "average_products_per_order",
    "average_order_value",
]


def test_summary_json_is_exact(db_url: URL, example: list[int]) -> None:
    code, out, err = cli(db_url, "summary", "--date", DAY, "--json")
    assert code == 0, err
    assert '"total_value": 1919.90' in out  # two decimals, as a JSON number
    obj = json.loads(out, parse_float=Decimal)
    assert list(obj) == SUMMARY_KEYS
    assert obj == {
        "date": DAY,
        "time_zone": "Europe/Moscow",
        "currency": None,  # the seed's schema has no currency column
        "total_orders": 3,
        "total_products": 6,
        "total_value": Decimal("1919.90"),
        "average_products_per_order": Decimal("2.00"),
        "average_order_value": Decimal("639.97"),
    }


def test_report_every_format(db_url: URL, example: list[int]) -> None:
    expected = [
        {
            "report_at": DAY,
            "order_id": oid,
            "currency": None,
            "count_product": 2,
            "total_amount": Decimal(t),
        }
        for oid, t in zip(example[:3], ("1359.97", "299.96", "259.97"), strict=True)
    ]
    code, out, _ = cli(db_url, "report", "--date", DAY, "--format", "json")
    assert code == 0
    assert json.loads(out, parse_float=Decimal) == expected

    code, out, _ = cli(db_url, "report", "--date", DAY, "--format", "jsonl")
    assert [json.loads(line, parse_float=Decimal) for line in out.splitlines()] == expected

    code, out, _ = cli(db_url, "report", "--date", DAY, "--format", "csv")
    assert out.startswith("report_at,order_id,currency,count_product,total_amount\r\n")
    rows = list(csv.DictReader(io.StringIO(out, newline="")))
    assert [
        {
            "report_at": r["report_at"],
            "order_id": int(r["order_id"]),
            "currency": r["currency"] or None,
            "count_product": int(r["count_product"]),
            "total_amount": Decimal(r["total_amount"]),
        }
        for r in rows
    ] == expected
    assert [r["total_amount"] for r in rows] == ["1359.97", "299.96", "259.97"]

    code, out, _ = cli(db_url, "report", "--date", DAY)
    assert code == 0
    printed = [line for line in out.splitlines() if line.startswith(f" {DAY}")]
    assert [line.split()[-1] for line in printed] == ["1,359.97", "299.96", "259.97"]
    assert len({len(line) for line in printed}) == 1  # numbers right-aligned: rows end together


def test_summary_range_formats(db_url: URL, example: list[int]) -> None:
    code, out, _ = cli(db_url, "summary", "--from", "2025-12-15", "--to", "2025-12-17", "--json")
    days = json.loads(out, parse_float=Decimal)
    assert [d["date"] for d in days] == ["2025-12-15", "2025-12-16", "2025-12-17"]
    assert days[0]["total_orders"] == 0 and days[0]["total_value"] == Decimal("0.00")
    assert days[2]["total_products"] == 0 and days[2]["total_value"] == Decimal("0.30")

    code, out, _ = cli(db_url, "summary", "--from", "2025-12-15", "--to", "2025-12-17", "-f", "csv")
    rows = list(csv.reader(io.StringIO(out, newline="")))
    assert rows[0] == SUMMARY_KEYS
    assert rows[2] == ["2025-12-16", "Europe/Moscow", "", "3", "6", "1919.90", "2.00", "639.97"]

    code, out, _ = cli(
        db_url, "summary", "--from", "2025-12-15", "--to", "2025-12-17", "-f", "jsonl"
    )
    assert [json.loads(x)["date"] for x in out.splitlines()] == [
        "2025-12-15",
        "2025-12-16",
        "2025-12-17",
    ]

    code, out, _ = cli(db_url, "summary", "--from", "2025-12-15", "--to", "2025-12-17")
    assert code == 0
    total_line = next(line for line in out.splitlines() if line.strip().startswith("total"))
    assert "1,920.20" in total_line and "4" in total_line


def test_empty_results_are_not_errors(db_url: URL) -> None:
    code, out, err = cli(db_url, "report", "--date", DAY, "--json")
    assert (code, json.loads(out)) == (0, [])
    assert "no orders on 2025-12-16" in err
    code, out, err = cli(db_url, "summary", "--date", DAY, "--json")
    assert code == 0
    assert json.loads(out)["total_orders"] == 0 and '"average_order_value": 0.00' in out
    assert "no orders on 2025-12-16" in err


def test_no_date_flag_means_yesterday_in_the_shop_zone(
    db_url: URL, shop: psycopg.Connection[tuple[object, ...]]
) -> None:
    yesterday = datetime.now(MSK).date() - timedelta(days=1)
    add_order(shop, datetime.combine(yesterday, datetime.min.time(), MSK), "5.00", 1)
    _, out, _ = cli(db_url, "summary", "--json")
    assert json.loads(out)["date"] == yesterday.isoformat()
    assert json.loads(out)["total_orders"] == 1
    _, out, _ = cli(db_url, "report", "--json")
    assert len(json.loads(out)) == 1
    _, out, _ = cli(db_url, "summary", "--date", "yesterday", "--json")
    assert json.loads(out)["date"] == yesterday.isoformat()
    _, out, _ = cli(db_url, "summary", "--date", "today", "--json")
    assert json.loads(out)["date"] == (yesterday + timedelta(days=1)).isoformat()


def test_report_all_newest_day_first(db_url: URL, example: list[int]) -> None:
    _code, out, _ = cli(db_url, "report", "--all", "--json")
    rows = json.loads(out)
    assert [(r["report_at"], r["order_id"]) for r in rows] == [("2025-12-17", example[3])] + [
        (DAY, oid) for oid in example[:3]
    ]


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["summary", "--date", "2025-02-30"], "--date: invalid date '2025-02-30'"),
        (["report", "--date", "16.12.2025"], "--date: invalid date '16.12.2025'"),
        (
            ["summary", "--from", "2025-12-17", "--to", "2025-12-16"],
            "--from 2025-12-17 is after --to",
        ),
        (["summary", "--date", DAY, "--from", DAY], "--date cannot be combined"),
        (["report", "--all", "--date", DAY], "--all cannot be combined"),
        (["report", "--format", "xml"], "'xml' is not one of"),
        (["summary", "--tz", "Mars/Olympus"], "--tz: unknown time zone 'Mars/Olympus'"),
        (["report", "--bogus"], "No such option"),
        (["summary", "--to", DAY], "--to needs --from"),
        (["report", "--json", "--format", "csv"], "--json cannot be combined with --format csv"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args: list[str], needle: str) -> None:
    r = run_cli(*args)
    assert r.code == 2
    assert r.out == ""
    assert r.err.count("\n") == 1 and needle in r.err, r.err
    assert "Traceback" not in r.err


def test_unreachable_database_is_exit_1_without_password() -> None:
    r = run_cli("summary", "--database-url", "postgresql://shop:hunter2@127.0.0.1:9/shop")
    assert r.code == 1
    assert "hunter2" not in r.err and "***" in r.err
    assert r.err.count("\n") == 1 and r.out == ""


def test_unmigrated_database_says_run_migrate(empty_url: URL) -> None:
    for command in ("report", "summary", "daily", "history"):
        r = run_cli(command, "--database-url", url_text(empty_url))
        assert r.code == 1, command
        assert "run `orderreport migrate`" in r.err and r.err.count("\n") == 1


_IMPORTED = """
import contextlib, io, json, sys
from orderreport import entry
with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):
    entry.run(json.loads(sys.argv[1]))
print(json.dumps(sorted(m for m in json.loads(sys.argv[2]) if m in sys.modules)))
"""
_CORE = ("sqlalchemy", "psycopg", "alembic", "rich.progress", "prometheus_client")


def _imported(args: list[str], watched: tuple[str, ...], **env: str) -> list[str]:
    argv = [sys.executable, "-c", _IMPORTED, json.dumps(args), json.dumps(watched)]
    done = subprocess.run(argv, env=subprocess_env(**env), capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return list(json.loads(done.stdout))


def test_help_and_completion_load_none_of_the_core() -> None:
    """Start-up: what a command does not use is not imported (a fifth of a second each)."""
    assert _imported(["--help"], _CORE) == []
    assert _imported(["summary", "--help"], _CORE) == []
    completing = {"_ORDERREPORT_COMPLETE": "complete_bash", "COMP_WORDS": "orderreport su"}
    assert _imported([], _CORE, COMP_CWORD="1", **completing) == []


def test_a_report_loads_only_what_it_uses(db_url: URL) -> None:
    """`summary --json` is psycopg and Typer: no SQLAlchemy, Alembic or metrics, no Rich
    (nothing is drawn), no delivery library (Apprise, requests, smtplib), no pydantic
    (Typer 0.29 would load it to convert the options: half the start-up budget), no
    schema.py (the DDL), no platformdirs (root's home is fixed)."""
    args = ["summary", "--date", "2025-12-16", "--json", "--database-url", url_text(db_url)]
    drawn = ("rich", "pydantic", "orderreport.schema")
    delivery = ("apprise", "requests", "smtplib", "orderreport.deliver.notify")  # only to send
    watched = ("sqlalchemy", "psycopg", *_CORE[2:], "sqlalchemy.orm", *drawn, *delivery)
    assert _imported(args, watched) == ["psycopg"]
    if os.geteuid() == 0:
        assert _imported(args, ("platformdirs",)) == []
    table = _imported([*args[:-3], "--database-url", url_text(db_url)], ("rich",))
    assert table == ["rich"]  # the check can fail: a table does load it


@pytest.mark.parametrize(
    "message",
    [
        "orderreport: error: cannot connect to postgresql://u:***@h/db: refused",
        "no orders on 2025-12-16 (Europe/Moscow)",
        "a :thumbs_up: emoji code and :not_one: and ::",
        "tab\there, bell\a, carriage\rreturn, escape \x1b[31m",
        "two\nlines",
        "wide 漢字 and accents é, trailing spaces   ",
        "",
    ],
)
def test_say_writes_what_rich_would(message: str) -> None:
    """say() writes plain lines itself (Rich costs a tenth of a second to import); every
    line is byte for byte what Rich's console printed before."""
    from rich.console import Console

    from orderreport.cli import console

    ours, rich = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(ours):
        console.say(message)
    Console(file=rich, highlight=False).print(message, markup=False, soft_wrap=True)
    assert ours.getvalue() == rich.getvalue()


def test_version_and_help() -> None:
    r = run_cli("--version")
    assert (r.code, r.out.strip()) == (0, f"orderreport {__version__}")
    r = run_cli("--help")
    assert r.code == 0
    commands = ("migrate", "demo", "report", "summary", "daily", "verify", "runs", "history")
    for command in (*commands, "status"):
        assert f"  {command} " in r.out, command
        assert f"orderreport {command}" in r.out, f"no example for {command}"
    for code in EXIT_CODES:
        assert f"    {code} " in r.out
    for command in ("report", "summary", "daily", "verify", "runs", "status"):
        sub = run_cli(command, "--help")
        assert sub.code == 0 and "Example:" in sub.out and "--format" in sub.out


def test_summary_range_table_includes_dates(db_url: URL, example: list[int]) -> None:
    code, out, _ = cli(db_url, "summary", "--from", "2025-12-16", "--to", "2025-12-16")
    assert code == 0 and "2025-12-16" in out


def test_today_is_computed_in_zone_not_server() -> None:
    from orderreport.cli.dates import today_in

    instant = datetime(2025, 12, 15, 21, 30, tzinfo=ZoneInfo("UTC"))  # 00:30 in Moscow
    assert today_in("Europe/Moscow", instant) == date(2025, 12, 16)
    assert today_in("UTC", instant) == date(2025, 12, 15)
    assert today_in("America/New_York", instant) == date(2025, 12, 15)


class _Sink(io.StringIO):
    """A stdout that keeps nothing, so only orderreport's own memory is measured."""

    def write(self, s: str) -> int:
        return len(s)


@pytest.mark.parametrize("fmt", ["table", "json", "jsonl", "csv"])
def test_report_memory_stays_flat(
    db_url: URL, shop: psycopg.Connection[tuple[object, ...]], fmt: str
) -> None:
    import contextlib
    import tracemalloc

    rows = 25_000
    shop.execute("INSERT INTO users (name, email) VALUES ('m', 'm@x')")
    shop.execute(
        "INSERT INTO orders (user_id, total_amount, status, created_at, updated_at) "
        "SELECT (SELECT min(id) FROM users), g / 100.0, 'paid', "
        "TIMESTAMPTZ '2025-01-01 00:00+03' + g * INTERVAL '1 second', now() "
        "FROM generate_series(1, %s) g",
        (rows,),
    )
    args = ["report", "--all", "-f", fmt, "--database-url", url_text(db_url)]
    run_cli(*args)  # warm caches (SQL compilation, imports) outside the measurement
    tracemalloc.start()
    try:
        with contextlib.redirect_stdout(_Sink()), contextlib.redirect_stderr(_Sink()):
            from orderreport.entry import run as main

            with contextlib.suppress(SystemExit):
                main(args)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # 25,000 report rows held at once take about 7 MB of Python objects; streaming, about 1
    assert peak < 3 * 1024 * 1024, f"peak {peak / 1e6:.1f} MB for {rows} rows"


def test_bare_command_shows_the_whole_help() -> None:
    r = run_cli()
    assert r.code == 2 and r.out == ""
    assert r.err.startswith("Usage: orderreport") and "Exit codes:" in r.err
    assert "\n    orderreport daily " in r.err  # formatted as help, not folded into one line


def test_version_loads_no_database_code() -> None:
    """`orderreport --version` answers before the CLI, SQLAlchemy or Rich are imported."""
    import subprocess
    import sys

    code = (
        "import sys; sys.argv = ['orderreport', '--version']; "
        "from orderreport.entry import main; main(); "
        "print(sorted(m for m in ('sqlalchemy', 'rich', 'typer', 'psycopg') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    version, loaded = done.stdout.splitlines()
    assert version.startswith("orderreport ") and loaded == "[]"


def test_verbose_shows_the_sql_logger_scrubbed(db_url: URL) -> None:
    """--verbose turns on the logger the database code writes statements to (DEBUG, on
    stderr, through redact.scrub); without it nothing of it shows."""
    import logging

    from orderreport.cli import console

    secret = "postgresql://u:Very-Secret-Pw@h/db"
    try:
        console.set_verbose(True)
        err = io.StringIO()
        with contextlib.redirect_stderr(err):
            logging.getLogger(console.SQL_LOGGER).debug("SELECT 1 -- from %s", secret)
        assert err.getvalue() == "SELECT 1 -- from postgresql://u:***@h/db\n"
        console.set_verbose(False)
        quiet = io.StringIO()
        with contextlib.redirect_stderr(quiet):
            logging.getLogger(console.SQL_LOGGER).debug("SELECT 2")
        assert quiet.getvalue() == ""
    finally:
        console.reset()
    r = run_cli("--verbose", "summary", "--date", DAY, "--database-url", url_text(db_url))
    assert r.code == 0 and logging.getLogger(console.SQL_LOGGER).level == logging.DEBUG
    run_cli("summary", "--date", DAY, "--database-url", url_text(db_url))
    assert logging.getLogger(console.SQL_LOGGER).level == logging.NOTSET  # reset per run
