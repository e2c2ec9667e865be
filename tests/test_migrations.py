"""Migrations: up, all the way down, up again; concurrent `migrate`; --sql; alembic CLI; wheel."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import URL

from orderreport import objects
from orderreport.schema import migrate
from tests.conftest import (
    ORDERREPORT,
    REPO,
    add_order,
    plain,
    run_cli,
    settings_for,
    subprocess_env,
    url_text,
)

TABLES = {
    "public.users",
    "public.products",
    "public.orders",
    "public.order_items",
    "orderreport.daily_reports",
    "orderreport.created_objects",
    "orderreport.runs",
}


def relations(url: URL) -> set[str]:
    with psycopg.connect(plain(url)) as conn:
        rows = conn.execute(
            "SELECT table_schema || '.' || table_name FROM information_schema.tables "
            "WHERE table_schema IN ('public', 'orderreport')"
        ).fetchall()
    return {str(r[0]) for r in rows}


def columns(url: URL, table: str) -> dict[str, str]:
    with psycopg.connect(plain(url)) as conn:
        rows = conn.execute(
            "SELECT column_name, data_type || coalesce('(' || numeric_precision || ','"
            " || numeric_scale || ')', '') FROM information_schema.columns"
            " WHERE table_name = %s",
            (table,),
        ).fetchall()
    return {str(a): str(b) for a, b in rows}


def test_up_down_up(empty_url: URL) -> None:
    settings = settings_for(empty_url)
    result = migrate.migrate(settings)
    assert result.applied == ("0001", "0002", "0003", "0004", "0005", "0006", "0007", "0008")
    assert result.start is None
    assert TABLES | {
        "orderreport.order_reports",
        "orderreport.orderreport_version",
    } <= relations(empty_url)
    assert columns(empty_url, "orders")["total_amount"] == "numeric(12,2)"
    assert columns(empty_url, "orders")["created_at"] == "timestamp with time zone"
    assert columns(empty_url, "order_items")["price"] == "numeric(12,2)"
    assert not any("double" in t or "real" in t for t in columns(empty_url, "orders").values())
    migrate.downgrade(settings, "0005")
    assert "orderreport.order_reports" in relations(empty_url)  # 0006's rebuilds the view
    migrate.downgrade(settings, "0004")
    assert "orderreport.runs" not in relations(empty_url)  # 0005's downgrade drops the run log
    assert "orderreport.daily_reports" in relations(empty_url)
    for step in ("0003", "0002", "0001", "base"):
        migrate.downgrade(settings, step)
    assert relations(empty_url) == {"orderreport.orderreport_version"}
    again = migrate.migrate(settings)
    assert again.applied == ("0001", "0002", "0003", "0004", "0005", "0006", "0007", "0008")
    assert migrate.migrate(settings).applied == ()


def test_created_at_defaults_to_the_database_clock(db_url: URL) -> None:
    with psycopg.connect(plain(db_url), autocommit=True) as conn:
        conn.execute("INSERT INTO users (name, email) VALUES ('a', 'a@x')")
        row = conn.execute(
            "INSERT INTO orders (user_id, total_amount) SELECT id, 1 FROM users "
            "RETURNING created_at = now(), updated_at = now()"
        ).fetchone()
    assert row == (True, True)


def test_five_migrate_processes_at_once(empty_url: URL) -> None:
    env = subprocess_env(ORDERREPORT_DATABASE_URL=url_text(empty_url))
    procs = [
        subprocess.Popen(
            [*ORDERREPORT, "migrate"],
            env=env,
            cwd="/",
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(5)
    ]
    results = [(p.wait(timeout=120), *p.communicate()) for p in procs]
    assert [code for code, _, _ in results] == [0] * 5, results
    applied = [err for _, _, err in results if "from empty to 0008" in err]
    already = [err for _, _, err in results if "already at 0008" in err]
    assert (len(applied), len(already)) == (1, 4), results
    with psycopg.connect(plain(empty_url)) as conn:
        assert conn.execute(
            "SELECT version_num FROM orderreport.orderreport_version"
        ).fetchall() == [("0008",)]


def test_migrate_sql_touches_no_database() -> None:
    r = run_cli("migrate", "--sql", "--database-url", "postgresql://nobody:pw@127.0.0.1:9/none")
    assert r.code == 0, r.err
    assert "CREATE TABLE orders" in r.out and "CREATE VIEW orderreport.order_reports" in r.out
    assert "NUMERIC(12, 2)" in r.out and "CREATE TABLE orderreport.daily_reports" in r.out
    assert "for an EMPTY database" in r.err and "--plan" in r.err


def test_alembic_cli_reads_orderreport_configuration(empty_url: URL) -> None:
    env = subprocess_env(ORDERREPORT_DATABASE_URL=url_text(empty_url))
    alembic = [sys.executable, "-m", "alembic"]
    up = subprocess.run(
        [*alembic, "upgrade", "head"], cwd=REPO, env=env, capture_output=True, text=True
    )
    assert up.returncode == 0, up.stderr
    current = subprocess.run(
        [*alembic, "current"], cwd=REPO, env=env, capture_output=True, text=True
    )
    assert "0008 (head)" in current.stdout
    assert "sqlalchemy.url" not in (REPO / "alembic.ini").read_text().replace("# ", "")


def test_status_reports_revision_behind_head(empty_url: URL) -> None:
    settings = settings_for(empty_url)
    migrate.migrate(settings)
    migrate.downgrade(settings, "0003")
    r = run_cli("status", "--database-url", url_text(empty_url), "--json")
    assert (
        r.code == 1
        and '"schema_revision": "0003"' in r.out
        and "run `orderreport migrate`" in r.err
    )


@pytest.fixture(scope="module")
def wheel(built_wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    unpacked = tmp_path_factory.mktemp("wheel") / "site"
    with zipfile.ZipFile(built_wheel) as zf:
        names = zf.namelist()
        assert "orderreport/migrations/env.py" in names
        assert "orderreport/migrations/versions/0007_per_currency.py" in names
        zf.extractall(unpacked)
    return unpacked


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_migrate_from_an_installed_wheel_anywhere(
    wheel: Path, empty_url: URL, tmp_path: Path
) -> None:
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); "
        "import orderreport.db as d; assert d.__file__.startswith(sys.argv[1]), d.__file__; "
        "from orderreport.entry import run as main; main(sys.argv[2:])"
    )
    env = subprocess_env(ORDERREPORT_DATABASE_URL=url_text(empty_url))
    result = subprocess.run(
        [sys.executable, "-c", code, str(wheel), "migrate"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert "from empty to 0008" in result.stderr


def test_schema_head_constant_matches_the_scripts() -> None:
    assert migrate.head_revision() == objects.SCHEMA_HEAD


def test_unknown_revision_in_the_database_is_one_line(db_url: URL) -> None:
    with psycopg.connect(plain(db_url), autocommit=True) as conn:
        conn.execute("UPDATE orderreport.orderreport_version SET version_num = '9999'")
    r = run_cli("migrate", "--database-url", url_text(db_url))
    assert r.code == 1 and r.err.count("\n") == 1
    assert r.err.startswith("orderreport: error: migration failed:") and "9999" in r.err


def test_the_run_log_revision_on_a_database_at_0004(db_url: URL) -> None:
    settings = settings_for(db_url)
    migrate.downgrade(settings, "0004")
    r = run_cli("migrate", "--plan", "--json", "--database-url", url_text(db_url))
    steps = {(step["action"], step["object"]) for step in json.loads(r.out)}
    assert ("create", "orderreport.runs") in steps
    # daily stops on the schema, before it could log anything
    r = run_cli("daily", "--database-url", url_text(db_url))
    assert r.code == 1 and "run `orderreport migrate`" in r.err and r.err.count("\n") == 1
    assert migrate.migrate(settings).applied == ("0005", "0006", "0007", "0008")
    assert "orderreport.runs" in relations(db_url)


def test_a_runs_table_orderreport_did_not_create_is_not_taken(db_url: URL) -> None:
    settings = settings_for(db_url)
    migrate.downgrade(settings, "0004")
    with psycopg.connect(plain(db_url), autocommit=True) as conn:
        conn.execute("CREATE TABLE orderreport.runs (x int)")
        conn.execute("INSERT INTO orderreport.runs VALUES (1)")
    for args in ((), ("--adopt",)):
        r = run_cli("migrate", *args, "--database-url", url_text(db_url))
        assert r.code == 1 and "orderreport.runs already exists" in r.err, r.err
    with psycopg.connect(plain(db_url)) as conn:
        assert conn.execute("SELECT * FROM orderreport.runs").fetchall() == [(1,)]


_VIEW_ROWS = "SELECT * FROM orderreport.order_reports ORDER BY order_id"
_VIEW_TEXT = "SELECT pg_get_viewdef('orderreport.order_reports'::regclass)"


def test_0006_rebuilds_the_view_to_count_lines_once_and_back(
    db_url: URL, shop: psycopg.Connection[tuple[object, ...]]
) -> None:
    # an order with no lines, one with one, one with three
    for lines in (0, 1, 3):
        add_order(shop, datetime(2026, 3, 1, 12, tzinfo=UTC), "10.05", lines)
    settings = settings_for(db_url)
    # at head the view has each order's currency as a last column (0007): compare the rest
    at_head = [row[:5] for row in shop.execute(_VIEW_ROWS).fetchall()]
    assert [row[2] for row in at_head] == [0, 1, 3]
    assert "LATERAL" in str(shop.execute(_VIEW_TEXT).fetchone())
    migrate.downgrade(settings, "0005")
    assert shop.execute(_VIEW_ROWS).fetchall() == at_head
    assert "LATERAL" not in str(shop.execute(_VIEW_TEXT).fetchone())
    r = run_cli("migrate", "--plan", "--json", "--database-url", url_text(db_url))
    steps = [(s["action"], s["object"], s["detail"]) for s in json.loads(r.out)]
    view = "orderreport.order_reports"
    assert [s for s in steps if s[1] == view] == [  # 0006, 0007, then 0008
        ("replace", view, "rebuilt to count each order's lines once"),
        ("replace", view, "rebuilt with each order's currency"),
        ("replace", view, "rebuilt to compute each order's amount and currency once"),
    ], steps
    # a report at 0005 asks for the migration instead of reading the older view
    r = run_cli("summary", "--date", "2026-03-01", "--database-url", url_text(db_url))
    assert r.code == 1 and "run `orderreport migrate`" in r.err, r.err
    assert migrate.migrate(settings).applied == ("0006", "0007", "0008")
    assert [row[:5] for row in shop.execute(_VIEW_ROWS).fetchall()] == at_head
    assert "LATERAL" in str(shop.execute(_VIEW_TEXT).fetchone())


def test_a_view_rebuild_keeps_its_grants(
    db_url: URL, shop: psycopg.Connection[tuple[object, ...]]
) -> None:
    """Replaced in place where the columns allow (0006 -> 0007 adds one), else dropped and
    created with its privileges given back (0007 -> 0006 takes one away)."""
    role = f"reader_{uuid.uuid4().hex[:8]}"
    shop.execute(f"CREATE ROLE {role}")
    try:
        shop.execute(f"GRANT SELECT ON orderreport.order_reports TO {role} WITH GRANT OPTION")
        settings = settings_for(db_url)
        check = (
            "SELECT has_table_privilege(%s, 'orderreport.order_reports', 'SELECT WITH GRANT "
            "OPTION'), pg_get_viewdef('orderreport.order_reports'::regclass) LIKE '%%currency%%'"
        )
        for revision, currency in (("0006", False), ("head", True)):
            if revision == "head":
                migrate.migrate(settings)
            else:
                migrate.downgrade(settings, revision)
            assert shop.execute(check, (role,)).fetchone() == (True, currency), revision
    finally:
        shop.execute(f"DROP OWNED BY {role}")
        shop.execute(f"DROP ROLE {role}")
