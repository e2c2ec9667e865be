"""The morning digest from the command line: `digest`, `daily --digest`, `daily --webhook`
(a loopback endpoint that fails: the day is stored all the same) and `history --format html`.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import psycopg
import pytest
from sqlalchemy.engine import URL

from orderreport.cli.dates import today_in
from tests.conftest import add_order, run_cli, url_text
from tests.test_webhook import Hook, assert_masked
from tests.test_webhook import hook as hook  # the loopback endpoint fixture

pytestmark = pytest.mark.usefixtures("hook")


def yesterday() -> datetime:
    day = today_in("UTC") - timedelta(days=1)
    return datetime(day.year, day.month, day.day, 12, tzinfo=UTC)


@pytest.fixture
def week(shop: psycopg.Connection[tuple[object, ...]]) -> datetime:
    """Orders yesterday (2 of 10.00 and 5.50) and a week before (1 of 20.00), at noon UTC."""
    noon = yesterday()
    add_order(shop, noon, "10.00", 2)
    add_order(shop, noon, "5.50", 1)
    add_order(shop, noon - timedelta(days=7), "20.00", 1)
    return noon


def cli(url: URL, *args: str) -> tuple[int, str, str]:
    r = run_cli(*args, "--database-url", url_text(url))
    return r.code, r.out, r.err


def test_digest_json_and_text(db_url: URL, week: datetime) -> None:
    code, out, err = cli(db_url, "digest", "--format", "json")
    assert code == 0, err
    found = json.loads(out, parse_float=Decimal)
    assert found["date"] == week.date().isoformat()
    assert "15.50" in out and "20.00" in out  # the day's value and its week-before base
    code, out, err = cli(db_url, "digest")
    assert code == 0 and "15.50" in out and "\x1b[" not in out, (out, err)
    code, out, err = cli(db_url, "digest", "--format", "prometheus")
    assert code == 2 and out == "", err


def test_daily_prints_the_digest_instead_of_the_rows(db_url: URL, week: datetime) -> None:
    code, out, err = cli(db_url, "daily", "--digest", "markdown")
    assert code == 0, err
    assert "15.50" in out and "total_orders" not in out, out
    code, out, _ = cli(db_url, "history", "--json")
    assert [r["total_value"] for r in json.loads(out)] == [15.5], out


def test_a_failed_webhook_is_a_warning_not_a_failed_day(
    db_url: URL, week: datetime, hook: Hook
) -> None:
    hook.statuses = [500]
    code, out, err = cli(db_url, "daily", "--webhook", hook.url)
    assert code == 0, err
    (warning,) = [line for line in err.splitlines() if "not posted" in line]
    assert_masked(warning, hook)
    assert len(hook.bodies) == 2  # one retry
    assert json.loads(hook.bodies[0])["text"].count("15.50") >= 1
    code, out, _ = cli(db_url, "runs", "--json")
    (run,) = json.loads(out)
    assert run["status"] == "succeeded" and run["message"] == warning
    code, out, _ = cli(db_url, "history", "--json")
    assert [r["total_value"] for r in json.loads(out)] == [15.5]  # the day is stored


def test_a_webhook_that_answers_gets_the_markdown(db_url: URL, week: datetime, hook: Hook) -> None:
    hook.statuses = [500, 200]
    code, _, err = cli(db_url, "daily", "--webhook", hook.url)
    assert code == 0 and "not posted" not in err, err
    assert set(json.loads(hook.bodies[-1])) == {"text"}


def test_history_as_a_page(db_url: URL, week: datetime) -> None:
    assert cli(db_url, "daily", "--from", week.date().isoformat())[0] == 0
    code, out, err = cli(db_url, "history", "--format", "html")
    assert code == 0, err
    assert out.lstrip().lower().startswith("<!doctype html") and "<svg" in out
    # self-contained: no script, nothing fetched (the SVG namespace is a name, not a fetch)
    assert "<script" not in out.lower() and " src=" not in out and "url(" not in out
    code, out, err = cli(db_url, "summary", "--format", "html")
    assert code == 2 and out == "" and "'html' is not one of 'table'" in err, err
