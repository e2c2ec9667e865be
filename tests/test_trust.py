"""Only PostgreSQL's own code runs in orderreport's sessions (the CVE-2018-1058 class).

A plain login role plants functions, an operator and an aggregate that match orderreport's
calls more exactly than pg_catalog's, in `public` (writable by everyone, as every database
made before PostgreSQL 15 keeps it) and in a shop schema it owns; plus a fake history of
orderreport's first release (`alembic_version` at 0004, a `daily_reports` with a trigger).
Every command then runs as a superuser and as the shop's owner. Each planted object writes
to a trap table and tries to make its author a superuser: the trap must stay empty, the
role unchanged, and nothing planted adopted as orderreport's.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal

import psycopg
import pytest
from sqlalchemy.engine import URL

from tests.conftest import plain, run_cli, url_text

DAY = "2025-12-16"
# Each trap records that it ran and, if it can, makes its author a superuser.
TRAP_BODY = """
BEGIN
    INSERT INTO public.trap VALUES ('{name}', current_user);
    BEGIN
        EXECUTE 'ALTER ROLE {attacker} SUPERUSER';
    EXCEPTION WHEN OTHERS THEN NULL;
    END;
    RETURN {result};
END
"""


def plant(conn: psycopg.Connection[tuple[object, ...]], schema: str, attacker: str) -> None:
    """Functions, an operator and aggregates that out-match pg_catalog's for the calls
    orderreport makes, each a trap."""

    def fn(name: str, args: str, returns: str, result: str) -> None:
        body = TRAP_BODY.format(name=f"{schema}.{name}", attacker=attacker, result=result)
        conn.execute(
            f"CREATE FUNCTION {schema}.{name}({args}) RETURNS {returns} "
            f"LANGUAGE plpgsql AS $f${body}$f$"
        )

    fn("obj_description", "regclass, text", "text", "''")
    fn("obj_description", "oid, text", "text", "''")
    fn("trap_eq", "oid, regclass", "boolean", "$1 = $2::oid")
    conn.execute(
        f"CREATE OPERATOR {schema}.= (LEFTARG = oid, RIGHTARG = regclass, "
        f"FUNCTION = {schema}.trap_eq)"
    )
    fn("trap_count", "bigint, integer", "bigint", "coalesce($1, 0) + 1")
    conn.execute(
        f"CREATE AGGREGATE {schema}.count(integer) (SFUNC = {schema}.trap_count, STYPE = bigint)"
    )
    fn("trap_sum", "numeric, numeric", "numeric", "coalesce($1, 0) + $2 + 1000")
    conn.execute(
        f"CREATE AGGREGATE {schema}.sum(numeric) (SFUNC = {schema}.trap_sum, STYPE = numeric)"
    )
    fn("round", "numeric, bigint", "numeric", "$1 + 1000")
    fn("current_setting", "character varying", "text", "'UTC'")
    fn("to_regclass", "character varying", "regclass", "NULL")
    fn("generate_series", "integer, bigint", "SETOF integer", "NEXT 1")
    fn("to_json", "anyelement", "json", "'1000'::json")


def plant_history(conn: psycopg.Connection[tuple[object, ...]], schema: str) -> None:
    """orderreport 0.1.0's history as an attacker would fake it: alembic_version at 0004, the
    constraint only that release made, and a daily_reports that inflates every stored value."""
    conn.execute(f"CREATE TABLE {schema}.alembic_version (version_num varchar(32) PRIMARY KEY)")
    conn.execute(f"INSERT INTO {schema}.alembic_version VALUES ('0004')")
    conn.execute(
        f"CREATE TABLE {schema}.decoy (price numeric CONSTRAINT products_price_nonnegative "
        "CHECK (price >= 0))"
    )
    conn.execute(
        f"CREATE TABLE {schema}.daily_reports (report_date date, time_zone text, "
        "total_orders bigint, total_products bigint, total_value numeric, "
        "average_products_per_order numeric, average_order_value numeric, "
        "generated_at timestamptz, PRIMARY KEY (time_zone, report_date))"
    )
    conn.execute(
        f"CREATE FUNCTION {schema}.inflate() RETURNS trigger LANGUAGE plpgsql AS "
        "$f$BEGIN NEW.total_value := NEW.total_value + 1000; RETURN NEW; END$f$"
    )
    conn.execute(
        f"CREATE TRIGGER inflate BEFORE INSERT OR UPDATE ON {schema}.daily_reports "
        f"FOR EACH ROW EXECUTE FUNCTION {schema}.inflate()"
    )


@pytest.fixture
def attacked(server_url: URL, empty_url: URL) -> Iterator[tuple[URL, str, str]]:
    """A database whose `public` anyone may create in, an attacker's traps in it, and a
    shop owner; yields (url, attacker, owner). The roles are dropped afterwards."""
    tag = uuid.uuid4().hex[:8]
    attacker, owner = f"attacker_{tag}", f"owner_{tag}"
    with psycopg.connect(plain(empty_url), autocommit=True) as su:
        su.execute(f"CREATE ROLE {attacker} LOGIN")
        su.execute(f"CREATE ROLE {owner} LOGIN")
        su.execute(f'GRANT CREATE ON DATABASE "{empty_url.database}" TO {owner}')
        su.execute("GRANT CREATE, USAGE ON SCHEMA public TO PUBLIC")  # before PostgreSQL 15
        su.execute("CREATE TABLE public.trap (name text, who text)")
        su.execute("GRANT INSERT ON public.trap TO PUBLIC")
    with psycopg.connect(plain(empty_url.set(username=attacker)), autocommit=True) as bad:
        plant(bad, "public", attacker)
        plant_history(bad, "public")
    try:
        yield empty_url, attacker, owner
    finally:
        with psycopg.connect(plain(empty_url), autocommit=True) as su:
            su.execute(f"DROP OWNED BY {attacker}, {owner} CASCADE")
        with psycopg.connect(plain(server_url), autocommit=True) as su:
            su.execute(f'DROP DATABASE IF EXISTS "{empty_url.database}" WITH (FORCE)')
            su.execute(f"DROP ROLE {attacker}, {owner}")


def commands(url: str) -> list[list[str]]:
    at = ["--database-url", url, "--tz", "Europe/Moscow"]
    return [
        ["migrate", "--plan", *at],
        ["migrate", *at],
        ["migrate", *at],  # at head: the view is checked, maybe rebuilt
        ["daily", "--from", "2025-12-15", "--to", "2025-12-17", *at],
        ["summary", "--date", DAY, "--json", *at],
        ["summary", "--from", "2025-12-15", "--to", "2025-12-17", *at],
        ["report", "--date", DAY, "--format", "json", *at],
        ["report", "--date", DAY, "--format", "jsonl", *at],
        ["report", "--all", "--format", "csv", *at],
        ["verify", *at],
        ["history", "--json", *at],
        ["runs", *at],
        ["status", "--json", *at],
        ["status", "--format", "prometheus", *at],
    ]


def run_every_command(url: str) -> None:
    for args in commands(url):
        r = run_cli(*args)
        assert r.code in (0, 1), (args, r)
        assert "unexpected" not in r.err, (args, r.err)


def sprung(url: URL, attacker: str) -> tuple[list[tuple[object, ...]], bool]:
    with psycopg.connect(plain(url), autocommit=True) as su:
        trapped = su.execute("SELECT * FROM public.trap").fetchall()
        row = su.execute("SELECT rolsuper FROM pg_roles WHERE rolname = %s", (attacker,))
        found = row.fetchone()
    assert found is not None
    return trapped, bool(found[0])


def check_figures(url: str) -> None:
    """The stored and live figures are the shop's, not the planted daily_reports'."""
    r = run_cli("summary", "--date", DAY, "--json", "--database-url", url, "--tz", "Europe/Moscow")
    assert r.code == 0, r.err
    live = json.loads(r.out, parse_float=Decimal)
    assert (live["total_orders"], live["total_value"]) == (2, Decimal("309.96"))
    r = run_cli("history", "--json", "--database-url", url, "--tz", "Europe/Moscow")
    stored = {row["date"]: row for row in json.loads(r.out, parse_float=Decimal)}
    assert stored[DAY]["total_value"] == live["total_value"]


@pytest.mark.parametrize("runner", ["superuser", "owner"])
def test_planted_objects_never_run(attacked: tuple[URL, str, str], runner: str) -> None:
    url, attacker, owner = attacked
    as_runner = url if runner == "superuser" else url.set(username=owner)
    # the shop's own tables, made by its owner before orderreport ever runs
    with psycopg.connect(plain(as_runner), autocommit=True) as conn:
        conn.execute("CREATE SCHEMA shop")
        shop_tables(conn)
    # and the path as README once advised: the shop's schema, then public (the attacker's)
    target = url_text(as_runner) + "&options=-c%20search_path%3Dshop,public"
    run_every_command(target)
    assert sprung(url, attacker) == ([], False)
    check_figures(target)
    with psycopg.connect(plain(url), autocommit=True) as su:
        # nothing of the attacker's was taken for orderreport's first release
        assert su.execute("SELECT count(*) FROM public.alembic_version").fetchone() == (1,)
        assert su.execute("SELECT to_regclass('public.daily_reports')").fetchone() != (None,)
        triggers = su.execute(
            "SELECT tgname FROM pg_trigger WHERE tgrelid = 'orderreport.daily_reports'::regclass"
        ).fetchall()
        assert triggers == []


def test_a_shop_schema_the_attacker_owns(attacked: tuple[URL, str, str]) -> None:
    """The shop's tables in a schema another role owns (it may create functions there), put
    on the path with the URL's options: still only pg_catalog's code runs."""
    url, attacker, _owner = attacked
    with psycopg.connect(plain(url), autocommit=True) as su:
        su.execute(f"CREATE SCHEMA shop AUTHORIZATION {attacker}")
        shop_tables(su)
    with psycopg.connect(plain(url.set(username=attacker)), autocommit=True) as bad:
        plant(bad, "shop", attacker)
    target = url_text(url) + "&options=-c%20search_path%3Dshop"
    run_every_command(target)
    assert sprung(url, attacker) == ([], False)
    check_figures(target)


def shop_tables(conn: psycopg.Connection[tuple[object, ...]]) -> None:
    """The shop's orders and lines in schema shop (indexed as a shop would), two orders."""
    conn.execute(
        "CREATE TABLE shop.orders (id bigserial PRIMARY KEY, total_amount numeric(12,2) "
        "NOT NULL, created_at timestamptz NOT NULL DEFAULT now())"
    )
    conn.execute(
        "CREATE TABLE shop.order_items (id bigserial PRIMARY KEY, "
        "order_id bigint NOT NULL REFERENCES shop.orders, product_id integer)"
    )
    conn.execute("CREATE INDEX ON shop.orders (created_at)")
    conn.execute("CREATE INDEX ON shop.order_items (order_id)")
    for instant, total, lines in (
        (datetime(2025, 12, 16, 9, tzinfo=UTC), "299.96", 2),
        (datetime(2025, 12, 16, 10, tzinfo=UTC), "10.00", 1),
    ):
        row = conn.execute(
            "INSERT INTO shop.orders (total_amount, created_at) VALUES (%s, %s) RETURNING id",
            (Decimal(total), instant),
        ).fetchone()
        assert row is not None
        for _ in range(lines):
            conn.execute("INSERT INTO shop.order_items (order_id) VALUES (%s)", (row[0],))


def test_status_warns_of_schemas_others_can_write(attacked: tuple[URL, str, str]) -> None:
    url, _attacker, _owner = attacked
    with psycopg.connect(plain(url), autocommit=True) as su:
        su.execute("CREATE SCHEMA shop")
        shop_tables(su)
    target = url_text(url) + "&options=-c%20search_path%3Dshop"
    assert run_cli("migrate", "--database-url", target).code == 0
    r = run_cli("status", "--json", "--database-url", target)
    assert json.loads(r.out)["writable_schemas"] is None, r.out  # shop: its owner's alone
    with psycopg.connect(plain(url), autocommit=True) as su:
        su.execute("GRANT CREATE ON SCHEMA shop TO PUBLIC")
    r = run_cli("status", "--json", "--database-url", target)
    assert json.loads(r.out)["writable_schemas"] == "shop (PUBLIC)", r.out
    assert "warning: roles other than the owner may create objects in shop (PUBLIC)" in r.err
