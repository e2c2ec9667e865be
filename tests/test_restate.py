"""No lost order: restatement by every `daily`, and `verify` against the live data.

The midnight case is reproduced as it happens: an order inserted at 23:59:58 by a
transaction that is still open while `daily` stores its day, committed after.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import URL

from orderreport.cli.dates import today_in
from orderreport.reports import daily
from tests import sales
from tests.conftest import add_order, plain, run_cli, url_text

Conn = psycopg.Connection[tuple[object, ...]]


def cli(url: URL, *args: str) -> tuple[int, str, str]:
    r = run_cli(*args, "--database-url", url_text(url), "--tz", "UTC")
    return r.code, r.out, r.err


def stored(url: URL) -> dict[date, tuple[int, Decimal, datetime]]:
    with psycopg.connect(plain(url)) as conn:
        rows = conn.execute(
            "SELECT report_date, total_orders, total_value, generated_at "
            "FROM orderreport.daily_reports ORDER BY report_date"
        ).fetchall()
    return {d: (n, v, g) for d, n, v, g in rows}


def orders_on(shop: Conn, day: date, count: int, amount: str = "1.00") -> None:
    """`count` orders of `amount` (one line each) spread over `day` (UTC), in one go."""
    shop.execute("INSERT INTO users (name, email) VALUES ('b', 'b@x') ON CONFLICT DO NOTHING")
    shop.execute("INSERT INTO products (name, price, stock) VALUES ('p', 1.00, 5)")
    shop.execute(
        "WITH o AS (INSERT INTO orders (user_id, total_amount, status, created_at, updated_at) "
        "SELECT (SELECT min(id) FROM users), %s, 'paid', "
        "%s::date::timestamp AT TIME ZONE 'UTC' + g * (INTERVAL '1 day' / (%s + 1)), now() "
        "FROM generate_series(1, %s) g RETURNING id) "
        "INSERT INTO order_items (order_id, product_id, quantity, price) "
        "SELECT id, (SELECT min(id) FROM products), 1, 1.00 FROM o",
        (Decimal(amount), day, count, count),
    )


def last_second(day: date) -> datetime:
    return datetime.combine(day, time(23, 59, 58), UTC)


def test_an_order_committed_after_midnight_is_restated_by_the_next_night(
    db_url: URL, shop: Conn
) -> None:
    today = today_in("UTC")
    day, yesterday = today - timedelta(days=2), today - timedelta(days=1)
    orders_on(shop, day, 2000)
    orders_on(shop, yesterday, 10)
    # the shop's transaction opens at 23:59:58 and is still open at midnight
    with psycopg.connect(plain(db_url)) as late:
        add_order(late, last_second(day), "5.00", 1)
        # midnight: that night's run stores the day without the order it cannot see
        code, _, err = cli(db_url, "daily", "--date", day.isoformat())
        assert code == 0, err
        late.commit()  # a second later
    assert stored(db_url)[day][:2] == (2000, Decimal("2000.00"))
    code, out, err = cli(db_url, "verify", "--json")
    assert code == 1
    assert json.loads(out, parse_float=Decimal) == [
        {
            "date": day.isoformat(),
            "time_zone": "UTC",
            "currency": None,
            "field": "total_orders",
            "stored": 2000,
            "live": 2001,
        },
        {
            "date": day.isoformat(),
            "time_zone": "UTC",
            "currency": None,
            "field": "total_products",
            "stored": 2000,
            "live": 2001,
        },
        {
            "date": day.isoformat(),
            "time_zone": "UTC",
            "currency": None,
            "field": "total_value",
            "stored": Decimal("2000.00"),
            "live": Decimal("2005.00"),
        },
    ]
    assert err == (
        "orderreport: error: 1 of 1 stored day(s) differ from the live data: "
        f"re-store them with `orderreport daily --date {day}`\n"
    )

    # the next night's run, with the default --restate, stores yesterday and fixes the day
    code, out, err = cli(db_url, "daily", "--json")
    assert code == 0, err
    assert [d["date"] for d in json.loads(out)] == [yesterday.isoformat()]  # stdout: new days
    assert (
        f"restated {day} (UTC): total_orders 2000 → 2001, total_products 2000 → 2001, "
        "total_value 2000.00 → 2005.00"
    ) in err
    assert stored(db_url)[day][:2] == (2001, Decimal("2005.00"))
    code, out, err = cli(db_url, "verify", "--json")
    assert (code, json.loads(out)) == (0, [])
    assert f"verified 2 stored day(s) {day} to {yesterday}: all match" in err


def test_without_restatement_the_late_order_stays_lost(db_url: URL, shop: Conn) -> None:
    """--restate 0 is the old behaviour: the next night's run does not see the late order."""
    today = today_in("UTC")
    day = today - timedelta(days=2)
    with psycopg.connect(plain(db_url)) as late:
        add_order(late, last_second(day), "5.00", 1)
        assert cli(db_url, "daily", "--date", day.isoformat())[0] == 0
        late.commit()
    code, _, err = cli(db_url, "daily", "--restate", "0")
    assert code == 0 and "restat" not in err
    assert stored(db_url)[day][0] == 0
    assert cli(db_url, "verify")[0] == 1


def test_an_order_edited_after_its_day_was_stored(db_url: URL, shop: Conn) -> None:
    today = today_in("UTC")
    first = today - timedelta(days=5)
    for i in range(5):
        orders_on(shop, first + timedelta(days=i), 3)
    assert cli(db_url, "daily", "--from", first.isoformat(), "--to", "yesterday")[0] == 0
    before = stored(db_url)
    day = first + timedelta(days=2)
    # a refund: the order's amount drops and a line goes
    refunded = shop.execute(
        "SELECT id FROM orders WHERE created_at::date = %s ORDER BY id LIMIT 1", (day,)
    ).fetchone()
    assert refunded is not None
    shop.execute("UPDATE orders SET total_amount = 0.40 WHERE id = %s", (refunded[0],))
    shop.execute("DELETE FROM order_items WHERE order_id = %s", (refunded[0],))

    code, out, err = cli(db_url, "verify", "-f", "csv")
    assert code == 1
    rows = list(csv.DictReader(io.StringIO(out, newline="")))
    assert [(r["date"], r["field"], r["stored"], r["live"]) for r in rows] == [
        (day.isoformat(), "total_products", "3", "2"),
        (day.isoformat(), "total_value", "3.00", "2.40"),
        (day.isoformat(), "average_products_per_order", "1.00", "0.67"),
        (day.isoformat(), "average_order_value", "1.00", "0.80"),
    ]
    code, out, err = cli(db_url, "daily")
    assert code == 0, err
    assert "nothing new to store" in err
    assert f"restating 5 stored day(s) {first} to {today - timedelta(days=1)}" in err
    assert (
        f"restated {day} (UTC): total_products 3 → 2, total_value 3.00 → 2.40, "
        "average_products_per_order 1.00 → 0.67, average_order_value 1.00 → 0.80"
    ) in err
    assert err.count("restated ") == 1  # only the day that changed is named
    after = stored(db_url)
    assert after[day][:2] == (3, Decimal("2.40"))
    # the days whose figures did not change were not rewritten (generated_at kept)
    assert all(after[d] == before[d] for d in before if d != day)
    assert after[day][2] > before[day][2]
    assert cli(db_url, "verify")[0] == 0
    code, _, err = cli(db_url, "daily")  # and again: nothing left to change
    assert code == 0 and "restated 5 stored day(s): no figure changed" in err


@pytest.mark.parametrize(("restate", "caught"), [(3, True), (2, False)])
def test_restatement_reaches_exactly_the_newest_n_stored_days(
    db_url: URL, shop: Conn, restate: int, caught: bool
) -> None:
    """A change on the 3rd newest stored day: --restate 3 fixes it, --restate 2 does not."""
    today = today_in("UTC")
    first = today - timedelta(days=5)
    orders_on(shop, first, 1)
    assert cli(db_url, "daily", "--from", first.isoformat(), "--to", "yesterday")[0] == 0
    third_newest = today - timedelta(days=3)
    add_order(shop, datetime.combine(third_newest, time(12), UTC), "7.00", 1)
    code, _, err = cli(db_url, "daily", "--restate", str(restate))
    assert code == 0, err
    oldest_restated = today - timedelta(days=restate)
    assert f"restating {restate} stored day(s) {oldest_restated} to" in err
    assert (stored(db_url)[third_newest][0] == 1) is caught
    assert (f"restated {third_newest}" in err) is caught


def test_restate_bound_is_exact() -> None:
    """--restate takes 0 to MAX_RESTATE; one past either end is bad input."""
    assert daily.MAX_RESTATE == 366
    for bad in (str(daily.MAX_RESTATE + 1), "-1"):
        r = run_cli("daily", "--restate", bad)
        assert (r.code, r.out) == (2, "") and "--restate" in r.err and r.err.count("\n") == 1


def test_restating_the_most_days_allowed(db_url: URL, shop: Conn) -> None:
    today = today_in("UTC")
    first = today - timedelta(days=daily.MAX_RESTATE + 1)
    orders_on(shop, first, 1)
    code, _, err = cli(db_url, "daily", "--from", first.isoformat(), "--to", "yesterday")
    assert code == 0, err
    add_order(shop, datetime.combine(first, time(12), UTC), "7.00", 1)
    code, _, err = cli(db_url, "daily", "--restate", str(daily.MAX_RESTATE))
    assert code == 0, err
    # the oldest stored day is one past the bound: not restated
    assert f"restating {daily.MAX_RESTATE} stored day(s) {first + timedelta(days=1)} to" in err
    assert stored(db_url)[first][0] == 1
    assert f"orderreport daily --date {first}" in cli(db_url, "verify")[2]


@pytest.mark.parametrize(("missing", "code"), [(5, 0), (6, 1)])
def test_catch_up_bound_still_holds_with_restatement(
    db_url: URL, shop: Conn, missing: int, code: int
) -> None:
    """--max-catch-up 5 stores 5 new days at most, whatever --restate recomputes besides."""
    today = today_in("UTC")
    newest = today - timedelta(days=missing + 1)
    first = newest - timedelta(days=9)
    assert cli(db_url, "daily", "--from", first.isoformat(), "--to", newest.isoformat())[0] == 0
    got, out, err = cli(db_url, "daily", "--max-catch-up", "5", "--restate", "4", "--json")
    assert got == code, err
    assert [d["date"] for d in json.loads(out)] == [
        (today - timedelta(days=i)).isoformat() for i in range(5, 0, -1)
    ]
    assert f"restating 4 stored day(s) {newest - timedelta(days=3)} to {newest}" in err
    assert len(stored(db_url)) == 10 + 5
    if code:
        gap = today - timedelta(days=6)
        assert f"store them with `orderreport daily --from {gap} --to {gap}`" in err


def test_verify_formats_ranges_and_messages(db_url: URL, shop: Conn) -> None:
    first = date(2025, 3, 1)
    for i in range(6):
        orders_on(shop, first + timedelta(days=i), 2)
    assert cli(db_url, "daily", "--from", "2025-03-01", "--to", "2025-03-06")[0] == 0
    for day in (date(2025, 3, 2), date(2025, 3, 5)):
        add_order(shop, datetime.combine(day, time(12), UTC), "1.00", 1)
    code, out, err = cli(db_url, "verify")
    assert code == 1 and "2025-03-02" in out and "2025-03-05" in out and "total_orders" in out
    assert err.endswith(
        "2 of 6 stored day(s) differ from the live data: "
        "re-store them with `orderreport daily --from 2025-03-02 --to 2025-03-05`\n"
    )
    code, out, _ = cli(db_url, "verify", "-f", "jsonl")
    assert code == 1 and {json.loads(x)["date"] for x in out.splitlines()} == {
        "2025-03-02",
        "2025-03-05",
    }
    code, out, err = cli(db_url, "verify", "--from", "2025-03-03", "--to", "2025-03-04", "--json")
    assert (code, json.loads(out)) == (0, []) and "verified 2 stored day(s)" in err
    code, out, err = cli(db_url, "verify", "--date", "2025-03-05", "--json")
    assert code == 1 and {d["date"] for d in json.loads(out)} == {"2025-03-05"}
    assert "`orderreport daily --date 2025-03-05`" in err
    code, out, err = cli(db_url, "verify", "--date", "2024-01-01", "--json")
    assert (code, json.loads(out)) == (0, []) and "no stored reports to verify" in err
    code, out, err = cli(db_url, "verify", "--date", "2025-03-05", "--from", "2025-03-01")
    assert code == 2 and "--date cannot be combined" in err
    # the message's own command fixes them
    assert cli(db_url, "daily", "--from", "2025-03-02", "--to", "2025-03-05")[0] == 0
    assert cli(db_url, "verify")[0] == 0


def test_verify_writes_nothing(db_url: URL, shop: Conn) -> None:
    day = date(2025, 3, 1)
    orders_on(shop, day, 2)
    assert cli(db_url, "daily", "--date", day.isoformat())[0] == 0
    add_order(shop, datetime.combine(day, time(12), UTC), "1.00", 1)
    runs_before = shop.execute("SELECT count(*) FROM orderreport.runs").fetchone()
    before = stored(db_url)
    # its transactions are read-only: a database that refuses every write still verifies
    name = db_url.database
    shop.execute(f'ALTER DATABASE "{name}" SET default_transaction_read_only = on')
    try:
        code, out, err = cli(db_url, "verify", "--json")
    finally:
        with psycopg.connect(plain(db_url), autocommit=True) as admin:
            admin.execute("SET default_transaction_read_only = off")
            admin.execute(f'ALTER DATABASE "{name}" RESET default_transaction_read_only')
    assert code == 1 and len(json.loads(out)) == 3, err
    assert stored(db_url) == before
    assert shop.execute("SELECT count(*) FROM orderreport.runs").fetchone() == runs_before


def last_run(url: URL) -> tuple[int, int, str]:
    """days_restated, days_changed and status of the newest run in the run log."""
    with psycopg.connect(plain(url)) as conn:
        row = conn.execute(
            "SELECT days_restated, days_changed, status FROM orderreport.runs "
            "ORDER BY id DESC LIMIT 1"
        ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1]), str(row[2])


def metric(path: Path, name: str) -> str:
    """The value of the one sample of `name` in a Prometheus text file."""
    (value,) = [
        line.rsplit(" ", 1)[1]
        for line in path.read_text("utf-8").splitlines()
        if line.startswith(f"{name} ") or line.startswith(f"{name}{{")
    ]
    return value


@pytest.mark.parametrize("currencies", [("EUR", "USD"), ("EUR", "GBP", "USD")])
@pytest.mark.parametrize(("restate", "stale"), [(4, 0), (3, 1)])
def test_restate_n_is_n_days_with_every_currency_of_each(
    empty_url: URL, tmp_path: Path, currencies: tuple[str, ...], restate: int, stale: int
) -> None:
    """Four stored days in two or three currencies (one day without orders in the last
    currency), every one changed afterwards in every currency: --restate 4 restates all four
    days, --restate 3 the three newest whole and leaves the oldest — days, not rows."""
    today = today_in("UTC")
    days = [today - timedelta(days=i) for i in range(4, 0, -1)]
    sales.build(empty_url)
    config = str(sales.config(tmp_path))
    with sales.connect(empty_url) as conn:
        for day in days:
            for currency in currencies:
                if (day, currency) != (days[2], currencies[-1]):
                    sales.sale(conn, sales.noon(day), "10.00", currency)
    assert cli(empty_url, "migrate", "--config", config)[0] == 0
    span = ("--from", days[0].isoformat(), "--to", days[-1].isoformat())
    code, _, err = cli(empty_url, "daily", *span, "--restate", "0", "--config", config)
    assert code == 0, err
    with sales.connect(empty_url) as conn:  # late: one more order on every day, each currency
        for day in days:
            for currency in currencies:
                sales.sale(conn, sales.noon(day, 1), "1.00", currency)

    metrics = tmp_path / "daily.prom"
    args = ("--restate", str(restate), "--metrics-file", str(metrics), "--config", config)
    code, _, err = cli(empty_url, "daily", *args)
    assert code == 0, err
    restated = days[-restate:]
    assert f"restating {restate} stored day(s) {restated[0]} to {restated[-1]}\n" in err, err
    assert all(f"restated {day} (UTC): " in err for day in restated), err
    assert last_run(empty_url) == (restate, restate, "succeeded")
    assert float(metric(metrics, "orderreport_daily_last_run_days_restated")) == restate
    assert float(metric(metrics, "orderreport_daily_last_run_days_changed")) == restate

    code, out, _ = cli(empty_url, "verify", "--json", "--config", config)
    assert code == (1 if stale else 0)
    differing = {(d["date"], d["currency"]) for d in json.loads(out)}
    assert differing == {(day.isoformat(), c) for day in days[:stale] for c in currencies}
    with sales.connect(empty_url) as conn:
        rows = conn.execute(
            "SELECT report_date, currency, total_orders FROM orderreport.daily_reports "
            "WHERE report_date = ANY(%s) ORDER BY 1, 2",
            (restated,),
        ).fetchall()
    want = [
        (day, c, 1 if (day, c) == (days[2], currencies[-1]) else 2)
        for day in restated
        for c in sorted(currencies)
    ]
    assert rows == want


@pytest.mark.parametrize("change", ["a 0.00 order", "an order without amount", "an added line"])
def test_a_late_change_that_leaves_the_total_value_alone_is_restated(
    empty_url: URL, tmp_path: Path, change: str
) -> None:
    """Restatement compares every figure, not the value alone: an order worth nothing, an
    order whose amount is unknown yet, or a line added to an order all change the day."""
    today = today_in("UTC")
    day = today - timedelta(days=2)
    sales.build(empty_url)
    config = str(sales.config(tmp_path))
    with sales.connect(empty_url) as conn:
        first = sales.sale(conn, sales.noon(day), "10.00", "EUR")
        sales.sale(conn, sales.noon(day + timedelta(days=1)), "10.00", "EUR")
    assert cli(empty_url, "migrate", "--config", config)[0] == 0
    code, _, err = cli(
        empty_url, "daily", "--from", day.isoformat(), "--to", "yesterday", "--config", config
    )
    assert code == 0, err
    with sales.connect(empty_url) as conn:
        if change == "a 0.00 order":
            sales.sale(conn, sales.noon(day, 1), "0.00", "EUR")
        elif change == "an order without amount":
            sales.sale(conn, sales.noon(day, 1), None, "EUR")
        else:
            sales.add_line(conn, first)
    assert cli(empty_url, "verify", "--config", config)[0] == 1

    code, _, err = cli(empty_url, "daily", "--config", config)
    assert code == 0, err
    assert f"restated {day} (UTC): EUR total_" in err, err
    assert "total_value" not in err.split(f"restated {day} (UTC): ")[1].splitlines()[0]
    code, _, err = cli(empty_url, "verify", "--config", config)
    assert code == 0, err
    with sales.connect(empty_url) as conn:
        row = conn.execute(
            "SELECT total_orders, total_products, total_value FROM orderreport.daily_reports "
            "WHERE report_date = %s",
            (day,),
        ).fetchone()
    assert row == (
        (1, 2, Decimal("10.00")) if change == "an added line" else (2, 2, Decimal("10.00"))
    )
