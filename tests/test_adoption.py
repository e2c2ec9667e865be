"""orderreport on a shop's own database: the old system's schema, built with plain SQL.

Float money, naive timestamps written by a server in Moscow or on UTC, the old service's
`order_reports` view, the application's own `alembic_version`, the tables in schema
`shop`, a shop without created_at, and one with numeric(10,2) and timestamptz. Every
test checks the shop's own data is untouched, and every figure against Decimal
arithmetic on the values the shop meant.
"""

from __future__ import annotations

import json
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg
import pytest
from sqlalchemy.engine import URL

from orderreport import objects
from orderreport.reports import queries, session
from tests.conftest import ORDERREPORT, plain, run_cli, settings_for, subprocess_env, url_text

DATA = Path(__file__).parent / "data"


@dataclass(frozen=True)
class Variant:
    name: str
    schema: str = "public"
    money: str = "double precision"
    timestamps: str | None = "timestamp"  # None: no created_at / updated_at at all
    server_tz: str = "UTC"  # the zone the shop's server wrote naive timestamps in
    old_view: bool = True
    app_alembic: bool = True


VARIANTS = [
    Variant("float-naive-moscow", server_tz="Europe/Moscow"),
    Variant("float-naive-utc"),
    Variant("schema-shop", schema="shop"),
    Variant("no-created-at", timestamps=None, old_view=False),
    Variant("numeric-timestamptz", money="numeric(10,2)", timestamps="timestamptz"),
    Variant("real-money-naive-moscow", money="real", server_tz="Europe/Moscow", old_view=False),
    Variant("money-type", money="money", timestamps="timestamptz", app_alembic=False),
]

# (instant, amounts the application added up in the column's own type, lines)
ORDERS = [
    (datetime(2025, 12, 16, 20, 59, 59, tzinfo=UTC), ("299.96",), 2),  # Moscow 23:59:59
    (datetime(2025, 12, 16, 21, 0, 0, tzinfo=UTC), ("0.1", "0.2"), 1),  # Moscow 00:00 next day
    (datetime(2025, 12, 16, 10, 0, 0, tzinfo=UTC), ("1359.97",), 0),  # an order with no lines
    (datetime(2025, 12, 15, 21, 0, 0, tzinfo=UTC), ("259.97",), 2),
    (datetime(2025, 12, 17, 20, 59, 59, tzinfo=UTC), ("0.10",), 1),
]
DAYS = [date(2025, 12, 15) + timedelta(days=i) for i in range(4)]
ZONES = ["Europe/Moscow", "UTC"]


def connect(url: URL) -> psycopg.Connection[tuple[object, ...]]:
    return psycopg.connect(plain(url), autocommit=True)


def build_old_shop(url: URL, v: Variant) -> None:
    """The old system's schema and data, as its application made them (plain SQL)."""
    s, m = v.schema, v.money
    stamps = ""
    if v.timestamps:
        stamps = (
            f", created_at {v.timestamps} NOT NULL DEFAULT now()"
            f", updated_at {v.timestamps} NOT NULL DEFAULT now()"
        )
    with connect(url) as conn:
        conn.execute(f"ALTER DATABASE \"{url.database}\" SET timezone TO '{v.server_tz}'")
    with connect(url) as conn:  # a new session: the server's zone is now v.server_tz
        if s != "public":
            conn.execute(f"CREATE SCHEMA {s}")
        conn.execute(
            f"CREATE TABLE {s}.users (id serial PRIMARY KEY, name varchar(100) NOT NULL, "
            "email varchar(100) NOT NULL UNIQUE)"
        )
        conn.execute(
            f"CREATE TABLE {s}.products (id serial PRIMARY KEY, name varchar(100) NOT NULL, "
            f"price {m} NOT NULL, stock integer NOT NULL DEFAULT 0)"
        )
        conn.execute(
            f"CREATE TABLE {s}.orders (id serial PRIMARY KEY, "
            f"user_id integer NOT NULL REFERENCES {s}.users (id), total_amount {m} NOT NULL, "
            f"status varchar(20) NOT NULL DEFAULT 'pending'{stamps})"
        )
        conn.execute(
            f"CREATE TABLE {s}.order_items (id serial PRIMARY KEY, "
            f"order_id integer NOT NULL REFERENCES {s}.orders (id), "
            f"product_id integer NOT NULL REFERENCES {s}.products (id), "
            f"quantity integer NOT NULL, price {m} NOT NULL)"
        )
        if v.old_view:
            conn.execute(
                f"CREATE VIEW {s}.order_reports AS "
                "SELECT o.created_at::DATE AS report_at, o.id AS order_id, "
                "COUNT(oi.product_id) AS count_product, o.total_amount AS total_amount "
                f"FROM {s}.orders o LEFT JOIN {s}.order_items oi ON oi.order_id = o.id "
                "GROUP BY o.created_at::DATE, o.id, o.total_amount"
            )
        if v.app_alembic:
            conn.execute(f"CREATE TABLE {s}.alembic_version (version_num varchar(32) PRIMARY KEY)")
            conn.execute(f"INSERT INTO {s}.alembic_version VALUES ('abc123def456')")
        conn.execute(f"INSERT INTO {s}.users (name, email) VALUES ('Ann', 'ann@example.com')")
        conn.execute(f"INSERT INTO {s}.products (name, price) VALUES ('Lamp', CAST('9.99' AS {m}))")
        for instant, amounts, lines in ORDERS:
            total = " + ".join(f"CAST('{a}' AS {m})" for a in amounts)
            columns, values = "user_id, total_amount", f"1, {total}"
            if v.timestamps == "timestamp":
                # what now() gave a naive column on that server: its wall clock
                columns += ", created_at, updated_at"
                values += f", CAST(%(t)s AS timestamptz) AT TIME ZONE '{v.server_tz}'" * 2
            elif v.timestamps == "timestamptz":
                columns += ", created_at, updated_at"
                values += ", CAST(%(t)s AS timestamptz)" * 2
            row = conn.execute(
                f"INSERT INTO {s}.orders ({columns}) VALUES ({values}) RETURNING id",
                {"t": instant.isoformat()},
            ).fetchone()
            assert row is not None
            for _ in range(lines):
                conn.execute(
                    f"INSERT INTO {s}.order_items (order_id, product_id, quantity, price) "
                    f"VALUES (%s, 1, 3, CAST('9.99' AS {m}))",
                    (row[0],),
                )


def expected(day: date, zone: str, dated: bool = True) -> dict[str, object]:
    """The day's summary by hand: Decimal arithmetic on the amounts the shop meant."""
    mine = [
        (sum((Decimal(a) for a in amounts), Decimal(0)), lines)
        for instant, amounts, lines in ORDERS
        if dated and instant.astimezone(ZoneInfo(zone)).date() == day
    ]
    n = len(mine)
    total = sum((t for t, _ in mine), Decimal(0))
    lines = sum(c for _, c in mine)
    avg = (lambda x: x.quantize(Decimal("0.01"))) if n else (lambda _x: Decimal("0.00"))
    return {
        "date": day.isoformat(),
        "time_zone": zone,
        "currency": None,  # the old system's schema has no currency column
        "total_orders": n,
        "total_products": lines,
        "total_value": total.quantize(Decimal("0.01")),
        "average_products_per_order": avg(Decimal(lines) / n if n else Decimal(0)),
        "average_order_value": avg(total / n if n else Decimal(0)),
    }


def expected_rows(day: date, zone: str) -> list[list[object]]:
    rows = []
    for i, (instant, amounts, lines) in enumerate(ORDERS, start=1):
        if instant.astimezone(ZoneInfo(zone)).date() == day:
            total = sum((Decimal(a) for a in amounts), Decimal(0)).quantize(Decimal("0.01"))
            rows.append([day.isoformat(), i, None, lines, total])
    return rows


def snapshot(url: URL) -> dict[str, object]:
    """Everything a migration could change: relations, columns, and each table's rows."""
    with connect(url) as conn:
        rels = conn.execute(
            "SELECT n.nspname, c.relname, c.relkind FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast') "
            "ORDER BY 1, 2"
        ).fetchall()
        columns = conn.execute(
            "SELECT table_schema, table_name, column_name, data_type, is_nullable, "
            "column_default FROM information_schema.columns "
            "WHERE table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1, 2, 3"
        ).fetchall()
        rows: dict[str, object] = {}
        for schema, name, kind in rels:
            if kind == "r":
                rows[f"{schema}.{name}"] = conn.execute(
                    f"SELECT md5(COALESCE(string_agg(t::text, '|' ORDER BY t::text), '')) "
                    f'FROM "{schema}"."{name}" t'
                ).fetchone()
        schemas = conn.execute("SELECT nspname FROM pg_namespace ORDER BY 1").fetchall()
    return {"relations": rels, "columns": columns, "rows": rows, "schemas": schemas}


def shop_part(snap: dict[str, object], schema: str, added: set[str]) -> dict[str, object]:
    """The shop's own tables, rows and columns in a snapshot (minus columns we may add).

    Rows are compared on the columns the shop had: with created_at added, a row's text
    grows by the new columns, so those tables are compared by column definitions only and
    by the values read back in `shop_rows`.
    """
    tables = {f"{schema}.{t}" for t in ("users", "products", "orders", "order_items")}
    columns = [c for c in snap["columns"] if f"{c[0]}.{c[1]}" in tables]  # type: ignore[attr-defined]
    return {
        "columns": [c for c in columns if not (c[1] == "orders" and c[2] in added)],
        "rows": {k: v for k, v in snap["rows"].items() if k in tables and not added},  # type: ignore[attr-defined]
    }


def shop_rows(url: URL, schema: str) -> list[tuple[object, ...]]:
    with connect(url) as conn:
        return conn.execute(
            f"SELECT id, user_id, total_amount::text, status FROM {schema}.orders ORDER BY id"
        ).fetchall()


def cli(url: URL, *args: str, tz: str = "UTC") -> tuple[int, str, str]:
    r = run_cli(*args, "--database-url", url_text(url), "--tz", tz)
    return r.code, r.out, r.err


@pytest.fixture(params=VARIANTS, ids=[v.name for v in VARIANTS])
def old_shop(request: pytest.FixtureRequest, empty_url: URL) -> Iterator[tuple[URL, Variant]]:
    variant: Variant = request.param
    build_old_shop(empty_url, variant)
    yield empty_url, variant


def test_demo_refuses_with_nothing_created(old_shop: tuple[URL, Variant]) -> None:
    url, v = old_shop
    before = snapshot(url)
    code, out, err = cli(url, "demo", "--days", "1")
    assert (code, out) == (1, "")
    assert err.count("\n") == 1 and "tables orderreport did not create" in err
    assert f"{v.schema}.orders" in err or f"{v.schema}.order_items" in err
    assert snapshot(url) == before


def test_migrate_adopts_the_shop_without_touching_it(old_shop: tuple[URL, Variant]) -> None:
    url, v = old_shop
    before = snapshot(url)
    orders_before = shop_rows(url, v.schema)

    code, out, err = cli(url, "migrate", "--plan", "--json")
    assert code == 0, err
    plan = json.loads(out)
    assert snapshot(url) == before, "--plan changed the database"
    actions = {(s["action"], s["object"]) for s in plan}
    assert ("create", "orderreport.order_reports") in actions
    if v.old_view:
        assert ("leave", f"{v.schema}.order_reports") in actions
    if v.app_alembic:
        assert ("leave", f"{v.schema}.alembic_version") in actions
    if v.timestamps is None:
        assert ("add", f"{v.schema}.orders.created_at") in actions

    code, out, err = cli(url, "migrate")
    assert code == 0, err
    if v.timestamps is None:
        assert "the 5 orders already there have no date (NULL)" in err
    after = snapshot(url)
    added = {"created_at", "updated_at"} if v.timestamps is None else set()
    assert shop_part(after, v.schema, added) == shop_part(before, v.schema, added)
    assert shop_rows(url, v.schema) == orders_before
    # the old view and the application's history are exactly as they were
    for rel in before["relations"]:  # type: ignore[attr-defined]
        assert rel in after["relations"]  # type: ignore[operator]
    if v.app_alembic:
        with connect(url) as conn:
            assert conn.execute(
                f"SELECT version_num FROM {v.schema}.alembic_version"
            ).fetchall() == [("abc123def456",)]

    # migrate twice is a no-op
    code, _, err = cli(url, "migrate")
    assert code == 0 and "nothing to do" in err, err
    assert snapshot(url) == after

    if v.timestamps is None:
        code, out, _ = cli(url, "status", "--json")
        status = json.loads(out)
        assert status["undated_orders"] == 5 and status["created_at_type"]
        for zone in ZONES:
            for day in DAYS:
                code, out, err = cli(url, "summary", "--date", day.isoformat(), "--json", tz=zone)
                assert code == 0, err
                got = json.loads(out, parse_float=Decimal)
                assert got == expected(day, zone, dated=False)
        return

    for zone in ZONES:
        for day in DAYS:
            code, out, err = cli(url, "summary", "--date", day.isoformat(), "--json", tz=zone)
            assert code == 0, err
            assert json.loads(out, parse_float=Decimal) == expected(day, zone), (zone, day)
            code, out, err = cli(url, "report", "--date", day.isoformat(), "--json", tz=zone)
            assert code == 0, err
            rows = [list(r.values()) for r in json.loads(out, parse_float=Decimal)]
            assert rows == expected_rows(day, zone), (zone, day)
            assert "0000000" not in out and "9999999" not in out  # no float noise, ever

    code, out, err = cli(url, "status", "--json")
    status = json.loads(out)
    assert status["shop_schema"] == v.schema and status["undated_orders"] == 0
    assert status["money_type"].startswith(v.money.split("(")[0])
    if v.timestamps == "timestamp":
        assert status["created_at_read_as"] == f"naive, written in {v.server_tz} (server TimeZone)"
    code, out, err = cli(url, "daily", "--from", "2025-12-15", "--to", "2025-12-18", tz="UTC")
    assert code == 0, err
    with connect(url) as conn:
        stored = conn.execute(
            "SELECT report_date, total_value FROM orderreport.daily_reports ORDER BY 1"
        ).fetchall()
    assert stored == [(d, expected(d, "UTC")["total_value"]) for d in DAYS]


def test_the_view_reads_like_the_reports_in_psql(empty_url: URL) -> None:
    v = Variant("naive-moscow", server_tz="Europe/Moscow")
    build_old_shop(empty_url, v)
    assert cli(empty_url, "migrate")[0] == 0
    with connect(empty_url) as conn:
        conn.execute("SET TIME ZONE 'Europe/Moscow'")
        by_hand = conn.execute(
            "SELECT report_at, order_id, count_product, total_amount "
            "FROM orderreport.order_reports WHERE report_at = '2025-12-16' ORDER BY order_id"
        ).fetchall()
    assert [[str(d), i, None, c, t] for d, i, c, t in by_hand] == expected_rows(
        date(2025, 12, 16), "Europe/Moscow"
    )


def test_naive_tz_setting_rebuilds_the_view(empty_url: URL) -> None:
    """Naive timestamps written on a UTC server read as Moscow only when told so."""
    build_old_shop(empty_url, Variant("naive-utc"))
    assert cli(empty_url, "migrate")[0] == 0
    code, _, err = cli(empty_url, "summary", "--date", "2025-12-16", "--naive-tz", "Asia/Tokyo")
    assert code == 1 and "run `orderreport migrate`" in err and err.count("\n") == 1
    code, _, err = cli(empty_url, "migrate", "--naive-tz", "Asia/Tokyo")
    assert code == 0 and "rebuilt orderreport.order_reports" in err, err
    code, out, _ = cli(empty_url, "status", "--json", "--naive-tz", "Asia/Tokyo")
    assert json.loads(out)["created_at_read_as"] == "naive, written in Asia/Tokyo (setting)"


def test_orders_in_several_schemas_need_a_choice(empty_url: URL) -> None:
    build_old_shop(empty_url, Variant("a"))
    build_old_shop(empty_url, Variant("b", schema="shop", app_alembic=False))
    before = snapshot(empty_url)
    code, _, err = cli(empty_url, "migrate")
    assert code == 2 and err.count("\n") == 1
    assert "several shops (seed in public, seed in shop)" in err and "--shop-schema" in err
    assert snapshot(empty_url) == before
    code, out, err = cli(empty_url, "status", "--json")
    assert code == 1 and json.loads(out)["healthy"] is False
    assert "several shops" in json.loads(out)["problem"]
    # chosen by the setting, or by a search_path the user put in the URL's options
    assert cli(empty_url, "migrate", "--shop-schema", "shop")[0] == 0
    code, out, err = cli(
        empty_url, "summary", "--date", "2025-12-16", "--json", "--shop-schema", "shop"
    )
    assert code == 0 and json.loads(out)["total_orders"] == 3, err
    with_path = url_text(empty_url) + "&options=-c%20search_path%3Dshop"
    r = run_cli("summary", "--date", "2025-12-16", "--json", "--database-url", with_path)
    code, out, err = r.code, r.out, r.err
    assert code == 0 and json.loads(out)["total_orders"] == 3, err
    code, _, err = cli(empty_url, "migrate", "--shop-schema", "nowhere")
    assert code == 2 and "'nowhere' has no shop orderreport can read" in err


def test_naive_days_around_clock_changes_and_the_index(empty_url: URL) -> None:
    """New York days over naive UTC timestamps: 23 and 25 hours, served by the index."""
    build_old_shop(empty_url, Variant("naive-utc", old_view=False, app_alembic=False))
    ny = ZoneInfo("America/New_York")
    edges = [
        datetime(2025, 3, 9, 0, 0, tzinfo=ny),  # spring forward: a 23-hour day
        datetime(2025, 3, 9, 23, 59, 59, tzinfo=ny),
        datetime(2025, 3, 10, 0, 0, tzinfo=ny),
        datetime(2025, 11, 2, 0, 0, tzinfo=ny),  # fall back: a 25-hour day
        datetime(2025, 11, 2, 23, 59, 59, tzinfo=ny),
        datetime(2025, 11, 1, 23, 59, 59, tzinfo=ny),
    ]
    with connect(empty_url) as conn:
        for t in edges:
            conn.execute(
                "INSERT INTO orders (user_id, total_amount, created_at, updated_at) "
                "VALUES (1, 1.5, %s AT TIME ZONE 'UTC', now())",
                (t,),
            )
        conn.execute(
            "INSERT INTO orders (user_id, total_amount, created_at, updated_at) "
            "SELECT 1, 1, TIMESTAMP '2024-01-01' + g * INTERVAL '1 minute', now() "
            "FROM generate_series(1, 50000) g"
        )
        conn.execute("ANALYZE orders")
    assert cli(empty_url, "migrate")[0] == 0
    for day, n in ((date(2025, 3, 9), 2), (date(2025, 11, 2), 2), (date(2025, 11, 1), 1)):
        code, out, err = cli(
            empty_url, "summary", "--date", day.isoformat(), "--json", tz="America/New_York"
        )
        assert code == 0 and json.loads(out)["total_orders"] == n, (day, out, err)
    with session.shop_session(settings_for(empty_url, "America/New_York")) as (s, found):
        assert found.naive
        plan = "\n".join(
            str(r[0])
            for r in s.execute(
                "EXPLAIN " + queries._SUMMARIES["naive"],
                {
                    "start": date(2025, 3, 9),
                    "end": date(2025, 3, 9),
                    "naive_tz": "UTC",
                    "fallback": None,
                },
            )
        )
    assert "ix_orders_created_at" in plan and "Seq Scan on orders" not in plan, plan


def test_a_locked_shop_stops_migrate_within_the_lock_timeout(empty_url: URL) -> None:
    """ALTER TABLE facing a reader: one line after --lock-timeout, the shop goes on, rerun works."""
    build_old_shop(empty_url, Variant("no-created-at", timestamps=None, old_view=False))
    env = subprocess_env(ORDERREPORT_DATABASE_URL=url_text(empty_url))
    with connect(empty_url) as holder, connect(empty_url) as other:
        holder.execute("BEGIN")
        holder.execute("SELECT count(*) FROM orders")  # ACCESS SHARE until the end
        started = time.monotonic()
        proc = subprocess.Popen(
            [*ORDERREPORT, "migrate", "--lock-timeout", "1"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        time.sleep(0.5)
        # the shop's own reads queue behind the waiting ALTER, but no longer than its bound
        waited = time.monotonic()
        other.execute("SELECT count(*) FROM orders")
        blocked_for = time.monotonic() - waited
        out, err = proc.communicate(timeout=60)
        elapsed = time.monotonic() - started
        holder.execute("COMMIT")
    assert proc.returncode == 1 and out == "" and err.count("\n") == 1, err
    assert "stayed locked for over 1 s" in err and "rerun" in err
    assert blocked_for < 3 and elapsed < 15, (blocked_for, elapsed)
    code, _, err = cli(empty_url, "migrate")
    assert code == 0, err
    code, out, _ = cli(empty_url, "status", "--json")
    assert json.loads(out)["schema_revision"] == objects.SCHEMA_HEAD


def test_a_failed_concurrent_index_is_rebuilt(empty_url: URL) -> None:
    """CREATE INDEX CONCURRENTLY waits for open transactions; given up, it is rebuilt later."""
    build_old_shop(
        empty_url, Variant("numeric-timestamptz", money="numeric(10,2)", timestamps="timestamptz")
    )
    with connect(empty_url) as holder:
        holder.execute("BEGIN")  # a shop transaction writing an order, still open
        holder.execute("INSERT INTO orders (user_id, total_amount) VALUES (1, 5)")
        code, _, err = cli(empty_url, "migrate", "--lock-timeout", "1")
        holder.execute("ROLLBACK")
    assert code == 1 and err.count("\n") == 1, err
    with connect(empty_url) as conn:
        invalid = conn.execute(
            "SELECT count(*) FROM pg_index WHERE NOT indisvalid "
            "AND indrelid IN ('orders'::regclass, 'order_items'::regclass)"
        ).fetchone()
    assert invalid == (1,)  # what a failed concurrent build leaves behind
    code, out, err = cli(empty_url, "migrate", "--plan", "--json")
    assert ("rebuild", "public.ix_orders_created_at") in {
        (s["action"], s["object"]) for s in json.loads(out)
    }, out
    code, _, err = cli(empty_url, "migrate")
    assert code == 0, err
    with connect(empty_url) as conn:
        assert conn.execute("SELECT count(*) FROM pg_index WHERE NOT indisvalid").fetchone() == (0,)
        names = {
            r[0]
            for r in conn.execute("SELECT indexname FROM pg_indexes WHERE schemaname = 'public'")
        }
    assert {"ix_orders_created_at", "ix_order_items_order_id"} <= names


def test_first_release_database_moves_to_its_own_version_table(empty_url: URL) -> None:
    """A database migrated by 0.1.0 (history in alembic_version at 0004) keeps every stored day."""
    with connect(empty_url) as conn:
        conn.execute((DATA / "first_release.sql").read_text())
        conn.execute("INSERT INTO users (name, email) VALUES ('a', 'a@x')")
        conn.execute(
            "INSERT INTO orders (user_id, total_amount, created_at) "
            "VALUES (1, 299.96, '2025-12-16 10:00+00'), (1, 0.30, '2025-12-16 11:00+00')"
        )
        conn.execute(
            "INSERT INTO daily_reports VALUES ('2025-12-16', 'UTC', 2, 0, 300.26, 0, 150.13, now())"
        )
        stored = conn.execute("SELECT * FROM daily_reports").fetchall()
    code, _, err = cli(empty_url, "summary", "--date", "2025-12-16")
    assert code == 1 and "earlier orderreport" in err and "orderreport migrate" in err
    code, _, err = cli(empty_url, "migrate")
    assert code == 0, err
    assert "moved public.daily_reports" in err
    with connect(empty_url) as conn:
        # the first release's rows keep every figure, with no currency (0007)
        moved = conn.execute("SELECT * FROM orderreport.daily_reports").fetchall()
        assert moved == [(*row, "") for row in stored]
        assert conn.execute("SELECT to_regclass('public.alembic_version')").fetchone() == (None,)
        assert conn.execute("SELECT to_regclass('public.order_reports')").fetchone() == (None,)
        assert conn.execute(
            "SELECT version_num FROM orderreport.orderreport_version"
        ).fetchall() == [(objects.SCHEMA_HEAD,)]
    code, out, err = cli(empty_url, "summary", "--date", "2025-12-16", "--json")
    assert code == 0 and json.loads(out, parse_float=Decimal)["total_value"] == Decimal("300.26")
    code, out, _ = cli(empty_url, "history", "--json")
    assert len(json.loads(out)) == 1
    assert "nothing to do" in cli(empty_url, "migrate")[2]


@pytest.fixture
def stranger(empty_url: URL) -> Iterator[str]:
    """A plain login role (not the database's owner, not the shop's) that may create in
    `public`, as every role could before PostgreSQL 15; dropped with all it made afterwards."""
    role = f"stranger_{uuid.uuid4().hex[:8]}"
    with connect(empty_url) as su:
        su.execute(f"CREATE ROLE {role} LOGIN")
        su.execute(f"GRANT CREATE, USAGE ON SCHEMA public TO {role}")
    try:
        yield role
    finally:
        with connect(empty_url) as su:
            su.execute(f"DROP OWNED BY {role} CASCADE")  # its objects and its grants here
            su.execute(f"DROP ROLE {role}")


def owners_of_daily_reports(url: URL) -> dict[str, str]:
    """{schema: owner} of every relation named daily_reports."""
    with connect(url) as conn:
        rows = conn.execute(
            "SELECT n.nspname, pg_get_userbyid(c.relowner) FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relname = 'daily_reports'"
        ).fetchall()
    return {str(schema): str(owner) for schema, owner in rows}


def test_a_first_release_daily_reports_made_by_another_role_stays_where_it_is(
    empty_url: URL, stranger: str
) -> None:
    """A real first-release history whose `public.daily_reports` another role made (with a
    trigger of its own on it) is migrated like any other, but that table is not adopted:
    README's Security, "we adopt only objects their rightful owner made". Moved, it would
    bring its author's trigger into orderreport's schema, where every `daily` run (often a
    superuser's) fires it. test_trust fakes the history too, so the ownership check is
    never reached there; here only the table's owner differs from the same-owner case."""
    with connect(empty_url) as conn:
        conn.execute((DATA / "first_release.sql").read_text())
        conn.execute("DROP TABLE public.daily_reports")  # made again below, by the stranger
        conn.execute("INSERT INTO users (name, email) VALUES ('a', 'a@x')")
        conn.execute(
            "INSERT INTO orders (user_id, total_amount, created_at) "
            "VALUES (1, 299.96, '2025-12-16 10:00+00'), (1, 0.30, '2025-12-16 11:00+00')"
        )
        me = conn.execute("SELECT current_user").fetchone()
    assert me is not None
    runner = str(me[0])  # the role migrate runs as, owner of the rest of the first release
    with connect(empty_url.set(username=stranger)) as bad:
        bad.execute(
            "CREATE TABLE public.daily_reports (report_date DATE NOT NULL, "
            "time_zone TEXT NOT NULL, total_orders BIGINT NOT NULL, "
            "total_products BIGINT NOT NULL, total_value NUMERIC NOT NULL, "
            "average_products_per_order NUMERIC(14, 2) NOT NULL, "
            "average_order_value NUMERIC(14, 2) NOT NULL, "
            "generated_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL, "
            "CONSTRAINT daily_reports_pkey PRIMARY KEY (time_zone, report_date))"
        )
        bad.execute(f"CREATE TABLE public.{stranger}_fired (op text, who text)")
        bad.execute(
            f"CREATE FUNCTION public.{stranger}_fire() RETURNS trigger LANGUAGE plpgsql AS "
            f"$f$BEGIN INSERT INTO public.{stranger}_fired VALUES (TG_OP, current_user); "
            "RETURN COALESCE(NEW, OLD); END$f$"
        )
        bad.execute(
            "CREATE TRIGGER fire BEFORE INSERT OR UPDATE OR DELETE ON public.daily_reports "
            f"FOR EACH ROW EXECUTE FUNCTION public.{stranger}_fire()"
        )
        bad.execute(
            "INSERT INTO public.daily_reports "
            "VALUES ('2025-12-16', 'UTC', 9, 9, 999.99, 1, 111.11, now())"
        )
        bad.execute(f"TRUNCATE public.{stranger}_fired")  # its own insert is no sign
        planted = bad.execute("SELECT * FROM public.daily_reports").fetchall()

    code, _, err = cli(empty_url, "migrate")
    assert code == 0, err
    assert owners_of_daily_reports(empty_url) == {"public": stranger, "orderreport": runner}
    assert "moved public.daily_reports" not in err
    assert "created orderreport.daily_reports" in err
    with connect(empty_url) as conn:
        foreign = conn.execute(
            "SELECT c.relname, t.tgname FROM pg_trigger t "
            "JOIN pg_class c ON c.oid = t.tgrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "JOIN pg_proc p ON p.oid = t.tgfoid "
            "WHERE n.nspname = 'orderreport' AND pg_get_userbyid(p.proowner) = %s",
            (stranger,),
        ).fetchall()
        assert foreign == [], "a trigger of the other role's is on a table of orderreport's"
        # the stranger's table is as it made it, its row and trigger with it
        assert conn.execute("SELECT * FROM public.daily_reports").fetchall() == planted
        assert conn.execute("SELECT * FROM orderreport.daily_reports").fetchall() == []
        # the rest of the first release's history is taken as in the same-owner case
        assert conn.execute("SELECT to_regclass('public.alembic_version')").fetchone() == (None,)
        assert conn.execute("SELECT to_regclass('public.order_reports')").fetchone() == (None,)
        assert conn.execute(
            "SELECT version_num FROM orderreport.orderreport_version"
        ).fetchall() == [(objects.SCHEMA_HEAD,)]

    code, _, err = cli(empty_url, "daily", "--date", "2025-12-16")
    assert code == 0, err
    code, out, _ = cli(empty_url, "history", "--json")
    assert [(d["date"], d["total_value"]) for d in json.loads(out, parse_float=Decimal)] == [
        ("2025-12-16", Decimal("300.26"))
    ]
    with connect(empty_url) as conn:
        assert conn.execute(f"SELECT * FROM public.{stranger}_fired").fetchall() == []
    assert "nothing to do" in cli(empty_url, "migrate")[2]


def test_an_applications_alembic_0001_is_not_taken_for_ours(empty_url: URL) -> None:
    build_old_shop(empty_url, Variant("app", money="numeric(10,2)", timestamps="timestamptz"))
    with connect(empty_url) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '0001'")
    assert cli(empty_url, "migrate")[0] == 0
    with connect(empty_url) as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchall() == [("0001",)]


def test_an_object_of_ours_made_by_someone_else_is_adopted_only_on_request(
    empty_url: URL,
) -> None:
    build_old_shop(empty_url, Variant("x", money="numeric(10,2)", timestamps="timestamptz"))
    with connect(empty_url) as conn:
        conn.execute("CREATE SCHEMA orderreport")
        conn.execute("CREATE VIEW orderreport.order_reports AS SELECT 1 AS x")
    code, _, err = cli(empty_url, "migrate")
    assert code == 1 and "orderreport.order_reports already exists" in err and "--adopt" in err
    with connect(empty_url) as conn:
        assert conn.execute("SELECT * FROM orderreport.order_reports").fetchall() == [(1,)]
    code, _, err = cli(empty_url, "migrate", "--adopt")
    assert code == 0, err
    code, out, _ = cli(empty_url, "summary", "--date", "2025-12-16", "--json")
    assert json.loads(out)["total_orders"] == 3


_FROM_VIEW = """
SELECT report_at, order_id, currency, count_product, total_amount FROM orderreport.order_reports
ORDER BY report_at DESC, order_id
"""


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_copy_exports_are_byte_identical_to_the_row_writer(empty_url: URL, fmt: str) -> None:
    """report's COPY path writes exactly what output.py writes for the same rows."""
    import io

    from orderreport.render import records as output

    build_old_shop(empty_url, Variant("float-naive-moscow", server_tz="Europe/Moscow"))
    with connect(empty_url) as conn:  # more rows, amounts of every size, no-line orders
        conn.execute(
            "INSERT INTO orders (user_id, total_amount, created_at, updated_at) "
            "SELECT 1, (g * 7919 % 1000000) / 100.0 + 0.1 + 0.2, "
            "TIMESTAMP '2025-12-10' + g * INTERVAL '17 minutes', now() "
            "FROM generate_series(1, 3000) g"
        )
    assert cli(empty_url, "migrate")[0] == 0
    writer = {"csv": output.write_csv, "jsonl": output.write_jsonl}[fmt]
    spans: list[tuple[date | None, date | None]] = [
        (date(2025, 12, 16), date(2025, 12, 16)),
        (date(2025, 12, 10), date(2025, 12, 31)),
        (None, None),
    ]
    for tz in ("Europe/Moscow", "America/New_York"):
        with session.shop_session(settings_for(empty_url, tz)) as (s, found):
            for first, last in spans:
                by_rows = io.StringIO(newline="")
                writer(queries.report_rows(s, found, first, last), queries.REPORT_FIELDS, by_rows)
                by_copy = io.StringIO(newline="")
                s.execute("SET DateStyle = 'German'")  # a user's: the export stays ISO
                output.write_blocks(
                    queries.copy_report(s, found, first, last, fmt), by_copy, crlf=fmt == "csv"
                )
                s.execute("RESET DateStyle")
                assert by_copy.getvalue() == by_rows.getvalue(), (tz, first, last)
                assert by_rows.getvalue().count("\n") > 1
            # the whole history is read in one grouped pass, not through the view: same rows
            whole = [tuple(vars(r).values()) for r in queries.report_rows(s, found, None, None)]
            viewed = s.execute(_FROM_VIEW).fetchall()
            assert whole == [tuple(r) for r in viewed] and len(whole) > 3000


def test_a_line_whose_product_was_deleted_still_counts(empty_url: URL) -> None:
    """count_product counts order lines (count(*)): a line whose product is gone (NULL) is
    still a line the customer bought; the old view's COUNT(oi.product_id) dropped it."""
    build_old_shop(empty_url, Variant("nullable", money="numeric(10,2)", timestamps="timestamptz"))
    with connect(empty_url) as conn:
        conn.execute("ALTER TABLE order_items ALTER COLUMN product_id DROP NOT NULL")
        conn.execute(
            "INSERT INTO order_items (order_id, product_id, quantity, price) VALUES (1, NULL, 1, 1)"
        )
    assert cli(empty_url, "migrate")[0] == 0
    _, day, _ = cli(empty_url, "summary", "--date", "2025-12-16", "--json")
    lines = expected(date(2025, 12, 16), "UTC")["total_products"]
    assert isinstance(lines, int)
    assert json.loads(day)["total_products"] == lines + 1
    with connect(empty_url) as conn:
        comment = conn.execute(
            "SELECT obj_description('orderreport.order_reports'::regclass, 'pg_class')"
        ).fetchone()
    assert comment is not None and "lines=count(*)" in str(comment[0])
    # the whole history (counted in one grouped pass) counts the same line
    _, out, _ = cli(empty_url, "report", "--all", "--json")
    on_the_day = [r for r in json.loads(out) if r["report_at"] == "2025-12-16"]
    assert sum(r["count_product"] for r in on_the_day) == json.loads(day)["total_products"]


def test_an_order_without_an_amount_is_worth_zero(empty_url: URL) -> None:
    """A NULL amount: null in JSON and JSONL, empty in CSV, 0 in the figures (so total_value
    = average_order_value * total_orders), counted by status."""
    build_old_shop(
        empty_url, Variant("nullable-amount", money="numeric(10,2)", timestamps="timestamptz")
    )
    with connect(empty_url) as conn:
        conn.execute("ALTER TABLE orders ALTER COLUMN total_amount DROP NOT NULL")
        conn.execute("UPDATE orders SET total_amount = NULL WHERE id = 3")  # 2025-12-16 10:00 UTC
    assert cli(empty_url, "migrate")[0] == 0
    day = "2025-12-16"
    _, out, _ = cli(empty_url, "summary", "--date", day, "--json")
    got = json.loads(out, parse_float=Decimal)
    assert got["total_orders"] == 3 and got["total_value"] == Decimal("300.26")
    assert got["average_order_value"] == Decimal("100.09")  # 300.26 / 3: the NULL is a 0
    for fmt in ("json", "jsonl"):
        _, out, _ = cli(empty_url, "report", "--date", day, "--format", fmt)
        rows = json.loads(out) if fmt == "json" else [json.loads(x) for x in out.splitlines()]
        assert [r["total_amount"] for r in rows if r["order_id"] == 3] == [None], out
    _, out, _ = cli(empty_url, "report", "--date", day, "--format", "csv")
    assert [line for line in out.splitlines() if ",3,," in line] == [f"{day},3,,0,"], out
    _, out, _ = cli(empty_url, "status", "--json")
    assert json.loads(out)["orders_without_amount"] == 1


def test_the_widest_amounts_are_stored_whole(empty_url: URL) -> None:
    """A day of the widest amounts a numeric(16,2) column holds fits every stored column."""
    build_old_shop(empty_url, Variant("wide", money="numeric(16,2)", timestamps="timestamptz"))
    with connect(empty_url) as conn:
        conn.execute("UPDATE orders SET total_amount = 99999999999999.99")
    assert cli(empty_url, "migrate")[0] == 0
    code, _, err = cli(empty_url, "daily", "--date", "2025-12-16")
    assert code == 0, err
    _, out, _ = cli(empty_url, "history", "--json")
    (stored,) = json.loads(out, parse_float=Decimal)
    assert stored["total_value"] == Decimal("99999999999999.99") * 3
    assert stored["average_order_value"] == Decimal("99999999999999.99")
