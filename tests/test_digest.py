"""The morning digest: figures against Decimal arithmetic done here, every format pinned.

The histories are made by hand: rows inserted into orderreport.daily_reports (as `daily`
would store them) with gaps that the digest computes live from the orders, days without
orders, two currencies (and one seen on a comparison day only), and the week of Europe/
Berlin's spring-forward day (2025-03-30, 23 hours). Each format's bytes are pinned by a
file in tests/data/digest/: a missing file is written and the test fails, so a new golden
file is looked at before it is trusted (delete one to regenerate it).
"""

from __future__ import annotations

import json as json_mod
import re
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg
import pytest
from sqlalchemy.engine import URL

from orderreport.render import digest as digest_render
from orderreport.render import html as html_render
from orderreport.reports import digest, session
from orderreport.reports.digest import BASES, FIGURES, Digest
from orderreport.reports.queries import Summary
from tests.conftest import add_order, settings_for

Conn = psycopg.Connection[tuple[object, ...]]
GOLDEN = Path(__file__).resolve().parent / "data" / "digest"
CENT, TENTH = Decimal("0.01"), Decimal("0.1")
BERLIN = "Europe/Berlin"
DAY = date(2025, 3, 30)  # a Sunday, and Berlin's 23-hour day
START = DAY - timedelta(days=28)  # the first day a digest of DAY reads
Figures = tuple[int, int, Decimal]  # orders, lines, value
NONE: Figures = (0, 0, Decimal("0.00"))


def golden(name: str, actual: str) -> None:
    """`actual` must be the file's bytes; a missing file is written and the test fails."""
    path = GOLDEN / name
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(actual.encode("utf-8"))
        pytest.fail(f"wrote {path}: look at it, then run the test again")
    assert actual == path.read_bytes().decode("utf-8"), f"output differs from {path}"


def half_up(value: Decimal, places: Decimal = CENT) -> Decimal:
    return value.quantize(places, ROUND_HALF_UP)


def store(conn: Conn, day: date, tz: str, currency: str | None, figures: Figures) -> None:
    """One row of daily_reports as `daily` stores it ('' for no currency)."""
    orders, lines, value = figures
    aov = half_up(value / orders) if orders else Decimal("0.00")
    lpo = half_up(Decimal(lines) / orders) if orders else Decimal("0.00")
    conn.execute(
        "INSERT INTO orderreport.daily_reports (report_date, time_zone, currency, total_orders, "
        "total_products, total_value, average_products_per_order, average_order_value, "
        "generated_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, now())",
        (day, tz, currency or "", orders, lines, value, lpo, aov),
    )


def the_digest(url: URL, day: date, tz: str) -> Digest:
    with session.shop_session(settings_for(url, tz)) as (conn, shop):
        return digest.digest(conn, shop, day, tz=tz)


# -- a history in two currencies --------------------------------------------------------

CLOSED = date(2025, 3, 2)  # stored as a day without orders
GAPS = (date(2025, 3, 9), date(2025, 3, 20))  # never stored, no orders: computed live


def two_currency_history() -> dict[date, dict[str | None, Figures]]:
    """Every stored day's rows: EUR daily, USD on even days, GBP once (on the day before)."""
    found: dict[date, dict[str | None, Figures]] = {}
    for i in range(29):
        day = START + timedelta(days=i)
        if day in GAPS:
            continue
        if day == CLOSED:
            found[day] = {None: (0, 0, Decimal("0.00"))}
            continue
        n = 18 + (day.day * 7) % 11
        rows: dict[str | None, Figures] = {
            "EUR": (n, 2 * n + day.day % 3, n * Decimal("41.37") + Decimal(day.day) / 100)
        }
        if day.day % 2 == 0:
            u = 3 + day.day % 4
            rows["USD"] = (u, u + 1, u * Decimal("19.99"))
        if day == DAY - timedelta(days=1):
            rows["GBP"] = (1, 2, Decimal("50.00"))
        found[day] = rows
    return found


@pytest.fixture
def two_currencies(shop: Conn) -> dict[date, dict[str | None, Figures]]:
    history = two_currency_history()
    for day, rows in history.items():
        for currency, figures in rows.items():
            store(shop, day, BERLIN, currency, figures)
    return history


def day_figures(figures: Figures) -> dict[str, Decimal]:
    """A day's five figures from its orders, lines and value, computed here."""
    orders, lines, value = figures
    return {
        "total_orders": Decimal(orders),
        "total_products": Decimal(lines),
        "total_value": value,
        "average_order_value": half_up(value / orders) if orders else Decimal("0.00"),
        "average_products_per_order": half_up(lines / Decimal(orders))
        if orders
        else Decimal("0.00"),
    }


def expected_base(
    history: dict[date, dict[str | None, Figures]], currency: str | None, name: str, basis: str
) -> Decimal:
    """The base, computed here: a day's own figure, or the four weeks' mean (an average:
    the four days' total over their orders)."""
    back = {"previous_day": [1], "week_before": [7], "four_week_mean": [7, 14, 21, 28]}[basis]
    rows = [history.get(DAY - timedelta(days=n), {}).get(currency, NONE) for n in back]
    if len(rows) == 1:
        return day_figures(rows[0])[name]
    total = (
        sum(r[0] for r in rows),
        sum(r[1] for r in rows),
        sum((r[2] for r in rows), Decimal(0)),
    )
    if name.startswith("average_"):
        return day_figures(total)[name]  # the four days' totals, divided
    return half_up(day_figures(total)[name] / 4)


def test_every_comparison_is_the_decimal_arithmetic(
    db_url: URL, two_currencies: dict[date, dict[str | None, Figures]]
) -> None:
    d = the_digest(db_url, DAY, BERLIN)
    assert [c.currency for c in d.currencies] == ["EUR", "GBP", "USD"]
    assert d.live_days == GAPS and not d.live
    checked = 0
    for c in d.currencies:
        values = day_figures(two_currencies[DAY].get(c.currency, NONE))
        for name in FIGURES:
            figure = c.figure(name)
            assert figure.value == values[name], (c.currency, name)
            for basis in BASES:
                got = figure.against(basis)
                base = expected_base(two_currencies, c.currency, name, basis)
                change = values[name] - base
                assert (got.base, got.change) == (base, change), (c.currency, name, basis)
                if base == 0:
                    assert got.percent is None
                    assert got.trend == ("same" if change == 0 else "new")
                else:
                    assert got.percent == half_up(change / base * 100, TENTH)
                # the four weeks hold 2025-03-09, a gap computed live
                assert got.live is (basis == "four_week_mean")
                checked += 1
    assert checked == 3 * 5 * 3
    # the history: 28 days of total value, oldest first; gaps and other currencies' days 0
    eur = d.currencies[0]
    assert [day for day, _ in eur.history] == [DAY - timedelta(days=n) for n in range(27, -1, -1)]
    assert dict(eur.history)[date(2025, 3, 20)] == 0
    assert dict(eur.history)[DAY] == two_currencies[DAY]["EUR"][2]
    assert dict(d.currencies[1].history) == {
        day: (Decimal("50.00") if day == DAY - timedelta(days=1) else 0) for day, _ in eur.history
    }


def test_new_where_the_base_is_zero(
    db_url: URL, two_currencies: dict[date, dict[str | None, Figures]]
) -> None:
    usd = the_digest(db_url, DAY, BERLIN).currencies[2]
    assert usd.currency == "USD"
    value = usd.figure("total_value")
    # no USD on Saturday nor the Sunday before: new; on the four Sundays, one day of USD
    assert value.previous_day.trend == value.week_before.trend == "new"
    assert value.previous_day.percent is None and value.previous_day.change == value.value
    assert value.four_week_mean.base == half_up(two_currencies[date(2025, 3, 16)]["USD"][2] / 4)
    gbp = the_digest(db_url, DAY, BERLIN).currencies[1]
    assert gbp.orders == 0
    assert gbp.figure("total_value").previous_day.percent == Decimal("-100.0")
    # nothing against nothing: no change, and no percent
    assert gbp.figure("total_value").week_before.trend == "same"
    assert gbp.figure("total_value").week_before.percent is None


def test_two_currencies_in_every_format(db_url: URL, two_currencies: object) -> None:
    d = the_digest(db_url, DAY, BERLIN)
    golden("two_currencies.txt", digest_render.text(d))
    golden("two_currencies.md", digest_render.markdown(d))
    golden("two_currencies.html", html_render.html(d))
    golden("two_currencies.json", digest_render.json(d))


def test_a_day_without_orders(db_url: URL, two_currencies: object) -> None:
    d = the_digest(db_url, GAPS[1], BERLIN)  # a Thursday nobody stored and nobody ordered on
    assert d.live and not d.has_orders and d.has_history
    assert [c.currency for c in d.currencies] == ["EUR", "USD"]
    assert d.currencies[0].figure("total_orders").previous_day.percent == Decimal("-100.0")
    text = digest_render.text(d)
    assert "EUR: no orders on this day" in text and "Average order value" not in text
    golden("quiet_day.txt", text)
    golden("quiet_day.md", digest_render.markdown(d))


def test_a_shop_without_history(db_url: URL) -> None:
    d = the_digest(db_url, DAY, "UTC")
    assert not d.has_orders and not d.has_history
    assert len(d.live_days) == 29 and [c.currency for c in d.currencies] == [None]
    text = digest_render.text(d)
    assert "No orders on Sunday 30 March 2025, nor on the days it is compared with" in text
    golden("no_history.txt", text)
    golden("no_history.md", digest_render.markdown(d))
    golden("no_history.html", html_render.html(d))
    golden("no_history.json", digest_render.json(d))


# -- Berlin's spring-forward week, computed live ----------------------------------------

BERLIN_TZ = ZoneInfo(BERLIN)


def local(y: int, mo: int, d: int, h: int, mi: int, s: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, s, tzinfo=BERLIN_TZ)


# (instant, total, lines) around the 23-hour day; 02:00-02:59 does not exist on it
DST_ORDERS = [
    (local(2025, 3, 22, 23, 30), "7.00", 1),
    (local(2025, 3, 23, 0, 30), "12.34", 1),
    (local(2025, 3, 23, 12, 0), "56.78", 2),
    (local(2025, 3, 29, 23, 59, 59), "5.00", 1),
    (local(2025, 3, 30, 0, 0, 0), "10.00", 1),
    (local(2025, 3, 30, 1, 59, 59), "20.05", 2),
    (local(2025, 3, 30, 3, 0, 0), "30.10", 0),  # the first instant after the jump
    (local(2025, 3, 30, 23, 59, 59), "40.15", 3),
    (local(2025, 3, 31, 0, 0, 0), "99.99", 1),  # Monday's
]
# stored for the shop without currencies; the 29th differs from its live figures on purpose
DST_STORED = {
    date(2025, 3, 29): (2, 3, Decimal("15.00")),
    date(2025, 3, 16): (3, 4, Decimal("30.00")),
    date(2025, 3, 9): (0, 0, Decimal("0.00")),
    date(2025, 3, 2): (1, 1, Decimal("9.99")),
}


@pytest.fixture
def dst_week(shop: Conn) -> Iterator[None]:
    for instant, total, lines in DST_ORDERS:
        add_order(shop, instant, total, lines)
    for day, figures in DST_STORED.items():
        store(shop, day, BERLIN, None, figures)
    yield


def live_figures(day: date) -> Figures:
    """The day's orders as zoneinfo groups them, computed here."""
    rows = [(t, Decimal(v), n) for t, v, n in DST_ORDERS if t.astimezone(BERLIN_TZ).date() == day]
    return len(rows), sum(n for *_, n in rows), sum((v for _, v, _ in rows), Decimal(0))


def test_berlin_spring_forward_week_computed_live(db_url: URL, dst_week: None) -> None:
    d = the_digest(db_url, DAY, BERLIN)
    assert d.live  # the day itself is not stored
    (c,) = d.currencies
    assert c.currency is None
    orders, lines, value = live_figures(DAY)
    assert (orders, lines, value) == (4, 6, Decimal("100.30"))  # 23 hours, four orders
    assert c.figure("total_orders").value == orders
    assert c.figure("total_products").value == lines
    assert c.figure("total_value").value == value
    assert c.figure("average_order_value").value == half_up(value / orders) == Decimal("25.08")
    # the day before comes from the store (2 orders), not from its live figures (1)
    before = c.figure("total_orders").previous_day
    assert (before.base, before.live) == (Decimal(2), False)
    # the week before is not stored: computed live, from the 23rd's own orders only
    week = c.figure("total_value").week_before
    assert (week.base, week.live) == (live_figures(date(2025, 3, 23))[2], True)
    assert week.base == Decimal("69.12")
    # the four weeks: the live 23rd and the stored 16th, 9th (no orders) and 2nd
    four = [live_figures(date(2025, 3, 23)), *(DST_STORED[date(2025, 3, n)] for n in (16, 9, 2))]
    mean_value = half_up(sum((f[2] for f in four), Decimal(0)) / 4)
    mean = c.figure("total_value").four_week_mean
    assert (mean.base, mean.live) == (mean_value, True) and mean_value == Decimal("27.28")
    assert mean.percent == half_up((value - mean_value) / mean_value * 100, TENTH)
    weighted = half_up(sum((f[2] for f in four), Decimal(0)) / sum(f[0] for f in four))
    assert c.figure("average_order_value").four_week_mean.base == weighted == Decimal("18.19")
    history = dict(c.history)
    assert history[date(2025, 3, 22)] == Decimal("7.00")  # live, 23:30 on the 22nd
    assert history[DAY] == value and date(2025, 3, 31) not in history
    golden("berlin_dst.txt", digest_render.text(d))
    golden("berlin_dst.json", digest_render.json(d))


# -- the arithmetic's edges, without a database -----------------------------------------


def summary(day: date, orders: int, lines: int, value: str) -> Summary:
    v = Decimal(value)
    aov = half_up(v / orders) if orders else Decimal("0.00")
    lpo = half_up(Decimal(lines) / orders) if orders else Decimal("0.00")
    return Summary(day, "UTC", "EUR", orders, lines, v, lpo, aov)


def test_rounding_is_half_up() -> None:
    days = {
        DAY: [summary(DAY, 449, 449, "0.02")],
        DAY - timedelta(days=1): [summary(DAY - timedelta(days=1), 400, 400, "0.01")],
        DAY - timedelta(days=7): [summary(DAY - timedelta(days=7), 3, 3, "0.02")],
    }
    c = digest.build(DAY, "UTC", days).currencies[0]
    orders = c.figure("total_orders")
    assert orders.previous_day.percent == Decimal("12.3")  # 49/400 = 12.25%: half up
    assert orders.four_week_mean.base == Decimal("0.75")  # 3/4
    assert orders.week_before.percent == Decimal("14866.7")  # 446/3 * 100
    value = c.figure("total_value")
    assert value.four_week_mean.base == Decimal("0.01")  # 0.02/4 = 0.005: half up
    assert value.previous_day.percent == Decimal("100.0")


def test_nothing_beside_nothing_is_no_change() -> None:
    c = digest.build(DAY, "UTC", {}).currencies[0]
    for figure in c.figures:
        for basis in BASES:
            got = figure.against(basis)
            assert got.base == got.change == 0
            assert (got.percent, got.trend) == (None, "same")


def test_text_is_plain_and_narrow(db_url: URL, two_currencies: object) -> None:
    d = the_digest(db_url, DAY, BERLIN)
    huge = digest.build(
        DAY, BERLIN, {DAY: [summary(DAY, 12_345_678_901, 1, "98765432109876543.21")]}
    )
    for found in (d, huge):
        text = digest_render.text(found)
        assert text.isascii() and "\x1b" not in text
        assert max(len(line) for line in text.splitlines()) <= digest_render.TEXT_WIDTH
    assert "98,765,432,109,876,543.21" in digest_render.text(huge)


def test_json_decimals_are_exact(
    db_url: URL, two_currencies: dict[date, dict[str | None, Figures]]
) -> None:
    d = the_digest(db_url, DAY, BERLIN)
    text = digest_render.json(d)
    parsed = json_mod.loads(text, parse_float=Decimal)
    eur = parsed["currencies"][0]
    assert eur["currency"] == "EUR"
    value = eur["figures"]["total_value"]
    assert value["value"] == two_currencies[DAY]["EUR"][2]
    assert (
        value["four_week_mean"]["base"] == d.currencies[0].figure("total_value").four_week_mean.base
    )
    # every number is written with its own digits: two places for money, never an exponent
    money = [m.group(1) for m in re.finditer(r'"(?:base|change|total_value)": (-?[0-9.]+)', text)]
    assert money and all(re.fullmatch(r"-?[0-9]+(\.[0-9]{2})?", m) for m in money)
    assert f'"value": {two_currencies[DAY]["EUR"][2]}' in text
    assert "e" not in "".join(re.findall(r": (-?[0-9][0-9.eE+-]*)", text)).lower()
    assert parsed["live_days"] == [g.isoformat() for g in GAPS]
