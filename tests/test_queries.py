"""Report and summary figures against independent computations (Decimal in the test, and the
order_reports view queried the way a person would in psql)."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

import psycopg
import pytest
from sqlalchemy.engine import URL

from orderreport.reports import queries, session
from tests.conftest import add_order, plain, settings_for

UTC = ZoneInfo("UTC")
NY = ZoneInfo("America/New_York")
MSK = ZoneInfo("Europe/Moscow")
CENT = Decimal("0.01")


def at(
    zone: ZoneInfo, y: int, mo: int, d: int, h: int = 0, mi: int = 0, s: int = 0, fold: int = 0
) -> datetime:
    return datetime(y, mo, d, h, mi, s, tzinfo=zone, fold=fold)


# (instant, total, lines): chosen to sit on every edge the issue names
ORDERS: list[tuple[datetime, str, int]] = [
    # the old system's example, on 2025-12-16 in Moscow
    (at(MSK, 2025, 12, 16, 10, 0, 0), "1359.97", 2),
    (at(MSK, 2025, 12, 16, 12, 30, 0), "299.96", 2),
    (at(MSK, 2025, 12, 16, 18, 45, 0), "259.97", 2),
    # one second either side of Moscow midnight (both are 2025-12-15 in UTC)
    (at(MSK, 2025, 12, 15, 23, 59, 59), "10.00", 1),
    (at(MSK, 2025, 12, 16, 0, 0, 0), "20.00", 1),
    # float-inexact amounts and an order without lines, 2025-12-18
    (at(UTC, 2025, 12, 18, 12, 0, 0), "0.10", 1),
    (at(UTC, 2025, 12, 18, 13, 0, 0), "0.20", 1),
    (at(UTC, 2025, 12, 18, 14, 0, 0), "0.30", 0),
    # New York spring forward: 2025-03-09 has 23 hours
    (at(NY, 2025, 3, 8, 23, 59, 59), "1.00", 1),
    (at(NY, 2025, 3, 9, 0, 0, 0), "2.00", 1),
    (at(NY, 2025, 3, 9, 3, 30, 0), "3.00", 2),
    (at(NY, 2025, 3, 9, 23, 59, 59), "4.00", 3),
    (at(NY, 2025, 3, 10, 0, 0, 0), "5.00", 1),
    # New York fall back: 2025-11-02 has 25 hours; 01:30 happens twice
    (at(NY, 2025, 11, 1, 23, 59, 59), "6.00", 1),
    (at(NY, 2025, 11, 2, 1, 30, 0, fold=0), "7.00", 1),
    (at(NY, 2025, 11, 2, 1, 30, 0, fold=1), "8.00", 1),
    (at(NY, 2025, 11, 2, 23, 59, 59), "9.00", 2),
    (at(NY, 2025, 11, 3, 0, 0, 0), "10.01", 1),
    # averages that round half up: 0.005 → 0.01 (2 orders totalling 0.01, on 2025-06-01 UTC)
    (at(UTC, 2025, 6, 1, 9, 0, 0), "0.00", 1),
    (at(UTC, 2025, 6, 1, 10, 0, 0), "0.01", 0),
]

ZONES = ["UTC", "Europe/Moscow", "America/New_York", "Asia/Kathmandu", "Pacific/Honolulu"]


@pytest.fixture
def loaded(
    shop: psycopg.Connection[tuple[object, ...]],
) -> dict[int, tuple[datetime, Decimal, int]]:
    ids = {}
    for instant, total, lines in ORDERS:
        ids[add_order(shop, instant, total, lines)] = (instant, Decimal(total), lines)
    return ids


def expected_days(
    orders: dict[int, tuple[datetime, Decimal, int]], tz: str
) -> dict[date, list[tuple[int, int, Decimal]]]:
    """Independent: group by local calendar day with zoneinfo, in Python."""
    days: dict[date, list[tuple[int, int, Decimal]]] = defaultdict(list)
    for oid, (instant, total, lines) in orders.items():
        days[instant.astimezone(ZoneInfo(tz)).date()].append((oid, lines, total))
    return days


def expected_summary(
    rows: list[tuple[int, int, Decimal]],
) -> tuple[int, int, Decimal, Decimal, Decimal]:
    n = len(rows)
    lines = sum(r[1] for r in rows)
    value = sum((r[2] for r in rows), Decimal(0))
    if n == 0:
        return 0, 0, Decimal("0.00"), Decimal("0.00"), Decimal("0.00")
    return (
        n,
        lines,
        value.quantize(CENT),
        (Decimal(lines) / n).quantize(CENT, ROUND_HALF_UP),
        (value / n).quantize(CENT, ROUND_HALF_UP),
    )


@pytest.mark.parametrize("tz", ZONES)
def test_every_day_matches_independent_computation(
    db_url: URL, loaded: dict[int, tuple[datetime, Decimal, int]], tz: str
) -> None:
    expected = expected_days(loaded, tz)
    with session.shop_session(settings_for(db_url, tz)) as (s, found):
        for day in [*sorted(expected), date(2025, 7, 4)]:  # plus a day with no orders
            got = queries.summary(s, found, day)[0]
            assert (
                got.total_orders,
                got.total_products,
                got.total_value,
                got.average_products_per_order,
                got.average_order_value,
            ) == expected_summary(expected.get(day, []))
            assert got.date == day and got.time_zone == tz
            rows = list(queries.report_rows(s, found, day, day))
            assert [(r.order_id, r.count_product, r.total_amount) for r in rows] == sorted(
                expected.get(day, [])
            )
            assert all(r.report_at == day for r in rows)


def test_old_system_example_is_exact(db_url: URL, loaded: object) -> None:
    with session.shop_session(settings_for(db_url, "Europe/Moscow")) as (s, found):
        got = queries.summary(s, found, date(2025, 12, 16))[0]
    # 1359.97 + 299.96 + 259.97 and the order at 00:00:00 Moscow time (20.00)
    assert got.total_orders == 4
    assert got.total_products == 7
    assert got.total_value == Decimal("1939.90")
    assert str(got.total_value) == "1939.90"


def test_old_example_alone(shop: psycopg.Connection[tuple[object, ...]], db_url: URL) -> None:
    for total in ("1359.97", "299.96", "259.97"):
        add_order(shop, at(MSK, 2025, 12, 16, 12, 0, 0), total, 2)
    with session.shop_session(settings_for(db_url, "Europe/Moscow")) as (s, found):
        got = queries.summary(s, found, date(2025, 12, 16))[0]
    assert (got.total_orders, got.total_products, str(got.total_value)) == (3, 6, "1919.90")
    assert str(got.average_order_value) == "639.97"  # 1919.90 / 3 = 639.9666… → 639.97


def test_inexact_float_sum_is_exact(db_url: URL, loaded: object) -> None:
    assert 0.10 + 0.20 + 0.30 != 0.60  # the float defect we must not have
    with session.shop_session(settings_for(db_url, "UTC")) as (s, found):
        got = queries.summary(s, found, date(2025, 12, 18))[0]
    assert str(got.total_value) == "0.60"
    assert got.total_products == 2  # the order without lines counts 0


def test_average_rounds_half_up(db_url: URL, loaded: object) -> None:
    with session.shop_session(settings_for(db_url, "UTC")) as (s, found):
        got = queries.summary(s, found, date(2025, 6, 1))[0]
    assert str(got.average_order_value) == "0.01"  # 0.005 rounds up, not to even
    assert str(got.average_products_per_order) == "0.50"


def test_clock_change_days_have_23_and_25_hours(db_url: URL, loaded: object) -> None:
    with session.shop_session(settings_for(db_url, "America/New_York")) as (s, found):
        spring = queries.summary(s, found, date(2025, 3, 9))[0]
        fall = queries.summary(s, found, date(2025, 11, 2))[0]
        hours = s.execute(
            "SELECT EXTRACT(EPOCH FROM ((DATE '2025-03-10')::timestamptz "
            "- (DATE '2025-03-09')::timestamptz)) / 3600 AS spring, "
            "EXTRACT(EPOCH FROM ((DATE '2025-11-03')::timestamptz "
            "- (DATE '2025-11-02')::timestamptz)) / 3600 AS fall"
        ).fetchone()
    assert hours is not None
    assert (float(hours[0]), float(hours[1])) == (23.0, 25.0)
    assert (spring.total_orders, str(spring.total_value)) == (3, "9.00")
    assert (fall.total_orders, str(fall.total_value)) == (3, "24.00")


def test_every_order_falls_in_exactly_one_day(db_url: URL, loaded: dict[int, object]) -> None:
    with session.shop_session(settings_for(db_url, "America/New_York")) as (s, found):
        days = queries.summaries(s, found, date(2025, 1, 1), date(2025, 12, 31))
    assert len(days) == 365
    assert sum(d.total_orders for d in days) == len(ORDERS)


@pytest.mark.parametrize("tz", ["Europe/Moscow", "America/New_York"])
def test_same_rows_as_the_view_in_psql(
    db_url: URL, loaded: dict[int, tuple[datetime, Decimal, int]], tz: str
) -> None:
    """A person in psql who sets the zone and reads the view gets what orderreport prints."""
    with psycopg.connect(plain(db_url)) as conn:
        conn.execute(f"SET TIME ZONE '{tz}'")
        by_hand = conn.execute(
            "SELECT report_at, order_id, count_product, total_amount "
            "FROM orderreport.order_reports ORDER BY report_at DESC, order_id"
        ).fetchall()
    with session.shop_session(settings_for(db_url, tz)) as (s, found):
        ours = [
            (r.report_at, r.order_id, r.count_product, r.total_amount)
            for r in queries.report_rows(s, found, None, None)
        ]
    assert ours == by_hand
    assert len(ours) == len(ORDERS)


def test_range_has_every_day_and_total(db_url: URL, loaded: object) -> None:
    with session.shop_session(settings_for(db_url, "Europe/Moscow")) as (s, found):
        days = queries.summaries(s, found, date(2025, 12, 14), date(2025, 12, 19))
        total = queries.range_total(s, found, date(2025, 12, 14), date(2025, 12, 19))[0]
        rows = list(queries.report_rows(s, found, date(2025, 12, 14), date(2025, 12, 19)))
    assert [d.date for d in days] == [date(2025, 12, 14) + timedelta(days=i) for i in range(6)]
    assert days[0].total_orders == 0 and str(days[0].total_value) == "0.00"
    assert total.total_orders == sum(d.total_orders for d in days)
    assert total.total_value == sum((d.total_value for d in days), Decimal(0))
    assert [(r.report_at, r.order_id) for r in rows] == sorted(
        (r.report_at, r.order_id) for r in rows
    )


@pytest.mark.parametrize(
    "tz, first, day",
    [
        ("Europe/Moscow", "2024-01-01", date(2024, 3, 1)),
        # a day whose midnight happens twice: its bounds (queries._day_start) still an index range
        ("America/Havana", "2025-06-01 00:00Z", date(2025, 11, 2)),
    ],
)
def test_one_day_query_uses_the_created_at_index(
    db_url: URL, shop: psycopg.Connection[tuple[object, ...]], tz: str, first: str, day: date
) -> None:
    shop.execute("INSERT INTO users (name, email) VALUES ('u', 'u@x')")
    shop.execute(
        "INSERT INTO orders (user_id, total_amount, status, created_at, updated_at) "
        "SELECT (SELECT min(id) FROM users), (g %% 1000) / 10.0, 'paid', "
        "CAST(%s AS timestamptz) + g * INTERVAL '2 minutes', now() "
        "FROM generate_series(1, 200000) g",
        (first,),
    )
    shop.execute("ANALYZE orders")
    with session.shop_session(settings_for(db_url, tz)) as (s, _found):
        for clause in (
            queries._SUMMARIES["instant"],
            queries._REPORT_RANGE["instant"],
            queries._RANGE_TOTAL["instant"],
        ):
            plan = s.execute(
                "EXPLAIN (FORMAT TEXT) " + clause, {"start": day, "end": day, "fallback": None}
            ).fetchall()
            plan_text = "\n".join(str(line[0]) for line in plan)
            assert "Seq Scan on orders" not in plan_text, plan_text
            assert "ix_orders_created_at" in plan_text, plan_text


def test_report_streams_with_a_server_side_cursor(db_url: URL, loaded: object) -> None:
    with session.shop_session(settings_for(db_url, "UTC")) as (s, found):
        rows = queries.report_rows(s, found, None, None)
        next(rows)
        cursors = s.execute("SELECT count(*) FROM pg_cursors").fetchone()
        assert cursors is not None and cursors[0] >= 1
        assert len(list(rows)) == len(ORDERS) - 1
