"""A day is its local date, always (issue 15): days whose midnight happens twice or never.

An order every 15 minutes, real UTC instants, from two days before a clock-change day to
two days after; every figure is checked against the orders' local dates as Python's
zoneinfo computes them (`instant.astimezone(zone).date()`): one day, a range, the report
rows (as Python writes them and as COPY does), `daily` and `verify`.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

import psycopg
import pytest
from sqlalchemy.engine import URL

from tests.conftest import plain, run_cli, url_text

STEP = timedelta(minutes=15)
CENT = Decimal("0.01")


def midnights(zone: str, day: date) -> int:
    """How many instants read `day` 00:00 in `zone`: 0 (skipped), 1 or 2 (repeated)."""
    tz = ZoneInfo(zone)
    found = 0
    for fold in (0, 1):
        wall = datetime.combine(day, time(), tzinfo=tz).replace(fold=fold)
        back = wall.astimezone(UTC).astimezone(tz)
        found += back.replace(tzinfo=None) == wall.replace(tzinfo=None) and back.fold == fold
    return found


def spring_forward_at_midnight(zone: str, year: int) -> date:
    """The first day of `year` whose midnight `zone` skips."""
    day = date(year, 1, 1)
    while midnights(zone, day) != 0:
        day += timedelta(days=1)
        assert day.year == year, f"{zone} skips no midnight in {year}"
    return day


# (zone, day, midnights of that day, its hours): two midnights is the case; none
# must stay right; the last two are fall-backs not at midnight (Santiago: Saturday 24:00
# back to 23:00, Berlin: 03:00 back to 02:00), so a day follows a 25-hour day
CASES = [
    ("America/Havana", date(2025, 11, 2), 2, 25),
    ("Atlantic/Azores", date(2025, 10, 26), 2, 25),
    ("America/Havana", date(2025, 3, 9), 0, 23),
    ("America/Santiago", date(2025, 9, 7), 0, 23),
    ("America/Asuncion", spring_forward_at_midnight("America/Asuncion", 2024), 0, 23),
    ("Africa/Cairo", date(2025, 4, 25), 0, 23),
    ("America/Santiago", date(2025, 4, 6), 1, 24),  # after 2025-04-05, 25 hours
    ("Europe/Berlin", date(2025, 10, 26), 1, 25),
]
IDS = [f"{case[0]}-{case[1]}" for case in CASES]


@dataclass
class Day:
    ids: set[int] = field(default_factory=set)
    products: int = 0
    value: Decimal = Decimal(0)


@dataclass
class Shop:
    url: URL
    zone: str
    day: date  # the clock-change day
    days: dict[date, Day]  # every local date that has orders, by zoneinfo

    @property
    def around(self) -> list[date]:
        """The clock-change day and the day either side (all three wholly in the data)."""
        return [self.day + timedelta(days=i) for i in (-1, 0, 1)]

    def expected(self, day: date) -> dict[str, object]:
        got = self.days.get(day, Day())
        n = len(got.ids)

        def avg(x: Decimal) -> Decimal:
            return (x / n).quantize(CENT, ROUND_HALF_UP) if n else Decimal("0.00")

        return {
            "date": day.isoformat(),
            "time_zone": self.zone,
            "currency": None,  # the seed's schema has no currency column
            "total_orders": n,
            "total_products": got.products,
            "total_value": got.value.quantize(CENT),
            "average_products_per_order": avg(Decimal(got.products)),
            "average_order_value": avg(got.value),
        }

    def cli(self, *args: str) -> tuple[int, str, str]:
        r = run_cli(*args, "--database-url", url_text(self.url), "--tz", self.zone)
        return r.code, r.out, r.err


def orders_around(day: date) -> list[tuple[datetime, Decimal, int]]:
    """(instant, amount, lines) every 15 minutes from 2 days before `day` to 2 days after."""
    first = datetime.combine(day - timedelta(days=2), time(), tzinfo=UTC)
    last = datetime.combine(day + timedelta(days=3), time(), tzinfo=UTC)
    out = []
    k = 0
    while first + k * STEP < last:
        out.append((first + k * STEP, Decimal(k % 50 + 1) + Decimal(k % 7) / 100, k % 3))
        k += 1
    return out


def insert_orders(
    conn: psycopg.Connection[tuple[object, ...]], orders: list[tuple[datetime, Decimal, int]]
) -> list[int]:
    """The orders (and their lines) with the seed's schema; their ids, in the same order."""
    user = conn.execute("INSERT INTO users (name, email) VALUES ('u', 'u@x') RETURNING id")
    product = conn.execute(
        "INSERT INTO products (name, price, stock) VALUES ('p', 1.00, 5) RETURNING id"
    )
    ((user_id,),), ((product_id,),) = user.fetchall(), product.fetchall()
    rows = conn.execute(
        "INSERT INTO orders (user_id, total_amount, status, created_at, updated_at) "
        "SELECT %s, a, 'paid', t, t FROM unnest(%s::timestamptz[], %s::numeric[]) "
        "WITH ORDINALITY AS u(t, a, k) ORDER BY k RETURNING id",
        (user_id, [o[0] for o in orders], [o[1] for o in orders]),
    ).fetchall()
    ids = [int(str(r[0])) for r in rows]
    conn.execute(
        "INSERT INTO order_items (order_id, product_id, quantity, price) "
        "SELECT o, %s, 2, 1.00 FROM unnest(%s::int[], %s::int[]) AS u(o, n), "
        "generate_series(1, n)",
        (product_id, ids, [o[2] for o in orders]),
    )
    return ids


def by_local_date(
    zone: str, orders: list[tuple[datetime, Decimal, int]], ids: list[int]
) -> dict[date, Day]:
    days: dict[date, Day] = {}
    for (instant, amount, lines), order_id in zip(orders, ids, strict=True):
        got = days.setdefault(instant.astimezone(ZoneInfo(zone)).date(), Day())
        got.ids.add(order_id)
        got.products += lines
        got.value += amount
    return days


@pytest.fixture(params=CASES, ids=IDS)
def loaded(
    request: pytest.FixtureRequest, db_url: URL, shop: psycopg.Connection[tuple[object, ...]]
) -> Shop:
    zone, day, _, _ = request.param
    orders = orders_around(day)
    return Shop(db_url, zone, day, by_local_date(zone, orders, insert_orders(shop, orders)))


@pytest.mark.parametrize(("zone", "day", "count", "hours"), CASES, ids=IDS)
def test_the_cases_are_what_they_claim(zone: str, day: date, count: int, hours: int) -> None:
    """zoneinfo agrees the day's midnight happens `count` times, and on its length."""
    assert midnights(zone, day) == count
    orders = orders_around(day)
    days = by_local_date(zone, orders, list(range(len(orders))))
    assert len(days[day].ids) == hours * 4  # an order every 15 minutes


def test_summary_of_a_day_and_of_a_range(loaded: Shop) -> None:
    for day in loaded.around:
        code, out, err = loaded.cli("summary", "--date", day.isoformat(), "--json")
        assert code == 0, err
        assert json.loads(out, parse_float=Decimal) == loaded.expected(day), day
    first, last = loaded.day - timedelta(days=2), loaded.day + timedelta(days=2)
    code, out, err = loaded.cli(
        "summary", "--from", first.isoformat(), "--to", last.isoformat(), "--json"
    )
    assert code == 0, err
    span = [first + timedelta(days=i) for i in range(5)]
    assert json.loads(out, parse_float=Decimal) == [loaded.expected(d) for d in span]


def test_report_rows_are_the_days_own_orders(loaded: Shop) -> None:
    for day in loaded.around:
        want = loaded.days[day].ids
        code, out, err = loaded.cli("report", "--date", day.isoformat(), "--format", "json")
        assert code == 0, err
        rows = json.loads(out, parse_float=Decimal)
        assert {r["report_at"] for r in rows} == {day.isoformat()}
        assert sorted(r["order_id"] for r in rows) == sorted(want), day

        code, out, err = loaded.cli("report", "--date", day.isoformat(), "--format", "csv")
        assert code == 0, err  # written by COPY
        table = list(csv.DictReader(io.StringIO(out)))
        assert {r["report_at"] for r in table} == {day.isoformat()}
        assert sorted(int(r["order_id"]) for r in table) == sorted(want), day

        code, out, err = loaded.cli("report", "--date", day.isoformat(), "--format", "jsonl")
        assert code == 0, err  # written by COPY
        lines = [json.loads(line) for line in out.splitlines()]
        assert {r["report_at"] for r in lines} == {day.isoformat()}
        assert sorted(r["order_id"] for r in lines) == sorted(want), day


def test_daily_stores_the_day_and_verify_agrees(loaded: Shop) -> None:
    for day in loaded.around:
        code, _, err = loaded.cli("daily", "--date", day.isoformat())
        assert code == 0, err
        code, _, err = loaded.cli("verify", "--date", day.isoformat())
        assert code == 0, err
        code, out, err = loaded.cli("summary", "--date", day.isoformat(), "--json")
        assert code == 0, err
        live = json.loads(out, parse_float=Decimal)
        assert live == loaded.expected(day)
        with psycopg.connect(plain(loaded.url)) as conn:
            stored = conn.execute(
                "SELECT report_date, total_orders, total_products, total_value, "
                "average_products_per_order, average_order_value "
                "FROM orderreport.daily_reports WHERE time_zone = %s AND report_date = %s",
                (loaded.zone, day),
            ).fetchall()
        assert stored == [
            (
                day,
                live["total_orders"],
                live["total_products"],
                live["total_value"],
                live["average_products_per_order"],
                live["average_order_value"],
            )
        ]


# -- a naive created_at, written in UTC ----------------------------------------------------


def build_naive_shop(url: URL, orders: list[tuple[datetime, Decimal, int]]) -> list[int]:
    """The seed's tables, created_at a `timestamp without time zone` holding UTC wall
    clocks, built with plain SQL (as tests/test_adoption.py builds the old system's)."""
    with psycopg.connect(plain(url), autocommit=True) as conn:
        conn.execute(f"ALTER DATABASE \"{url.database}\" SET timezone TO 'UTC'")
    with psycopg.connect(plain(url), autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE users (id serial PRIMARY KEY, name varchar(100) NOT NULL, "
            "email varchar(100) NOT NULL UNIQUE)"
        )
        conn.execute(
            "CREATE TABLE products (id serial PRIMARY KEY, name varchar(100) NOT NULL, "
            "price numeric(10,2) NOT NULL, stock integer NOT NULL DEFAULT 0)"
        )
        conn.execute(
            "CREATE TABLE orders (id serial PRIMARY KEY, "
            "user_id integer NOT NULL REFERENCES users (id), "
            "total_amount numeric(10,2) NOT NULL, status varchar(20) NOT NULL DEFAULT 'pending', "
            "created_at timestamp NOT NULL DEFAULT now(), "
            "updated_at timestamp NOT NULL DEFAULT now())"
        )
        conn.execute(
            "CREATE TABLE order_items (id serial PRIMARY KEY, "
            "order_id integer NOT NULL REFERENCES orders (id), "
            "product_id integer NOT NULL REFERENCES products (id), "
            "quantity integer NOT NULL, price numeric(10,2) NOT NULL)"
        )
        conn.execute("INSERT INTO users (name, email) VALUES ('u', 'u@x')")
        conn.execute("INSERT INTO products (name, price) VALUES ('p', 1.00)")
        rows = conn.execute(
            "INSERT INTO orders (user_id, total_amount, status, created_at, updated_at) "
            "SELECT 1, a, 'paid', t AT TIME ZONE 'UTC', t AT TIME ZONE 'UTC' "
            "FROM unnest(%s::timestamptz[], %s::numeric[]) WITH ORDINALITY AS u(t, a, k) "
            "ORDER BY k RETURNING id",
            ([o[0] for o in orders], [o[1] for o in orders]),
        ).fetchall()
        ids = [int(str(r[0])) for r in rows]
        conn.execute(
            "INSERT INTO order_items (order_id, product_id, quantity, price) "
            "SELECT o, 1, 2, 1.00 FROM unnest(%s::int[], %s::int[]) AS u(o, n), "
            "generate_series(1, n)",
            (ids, [o[2] for o in orders]),
        )
    return ids


NAIVE_CASES = [c for c in CASES if c[2] == 2]


@pytest.fixture(params=NAIVE_CASES, ids=[f"{c[0]}-{c[1]}" for c in NAIVE_CASES])
def naive_shop(request: pytest.FixtureRequest, empty_url: URL) -> Iterator[Shop]:
    zone, day, _, _ = request.param
    orders = orders_around(day)
    ids = build_naive_shop(empty_url, orders)
    code, _, err = Shop(empty_url, zone, day, {}).cli("migrate", "--naive-tz", "UTC")
    assert code == 0, err
    yield Shop(empty_url, zone, day, by_local_date(zone, orders, ids))


def test_naive_timestamps_written_in_utc(naive_shop: Shop) -> None:
    s = naive_shop
    with psycopg.connect(plain(s.url)) as conn:
        kind = conn.execute(
            "SELECT data_type FROM information_schema.columns "
            "WHERE table_name = 'orders' AND column_name = 'created_at'"
        ).fetchone()
    assert kind == ("timestamp without time zone",)
    for day in s.around:
        code, out, err = s.cli("summary", "--date", day.isoformat(), "--json", "--naive-tz", "UTC")
        assert code == 0, err
        assert json.loads(out, parse_float=Decimal) == s.expected(day), day
        for fmt in ("json", "csv"):
            code, out, err = s.cli(
                "report", "--date", day.isoformat(), "--format", fmt, "--naive-tz", "UTC"
            )
            assert code == 0, err
            rows = (
                json.loads(out, parse_float=Decimal)
                if fmt == "json"
                else list(csv.DictReader(io.StringIO(out)))
            )
            assert {r["report_at"] for r in rows} == {day.isoformat()}
            assert sorted(int(r["order_id"]) for r in rows) == sorted(s.days[day].ids), day
    first, last = s.day - timedelta(days=2), s.day + timedelta(days=2)
    code, out, err = s.cli(
        "summary",
        "--from",
        first.isoformat(),
        "--to",
        last.isoformat(),
        "--json",
        "--naive-tz",
        "UTC",
    )
    assert code == 0, err
    span = [first + timedelta(days=i) for i in range(5)]
    assert json.loads(out, parse_float=Decimal) == [s.expected(d) for d in span]
