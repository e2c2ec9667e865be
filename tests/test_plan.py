"""`migrate --plan` says exactly what `migrate` then does, in every state a database can be in.

Both walk the same step functions (schema.Walk; --plan with applying off), so the plan's
steps must equal the steps `migrate` reports it took (MigrationResult.steps), and a second
plan after it has nothing to do. One test per adoption state: an empty database, the old
service's shop (each variant), a first-release database, each platform's shop, a database
at every revision, an invalid index of ours (with and without another index serving), and
a same-named object in schema orderreport that orderreport did not create. And the
revisions are self-contained: today's DDL constants do not change what an old revision
does to a database.
"""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy.engine import URL

from orderreport import objects, schema
from orderreport.config.settings import Settings, load_settings
from orderreport.errors import ObjectExists
from orderreport.schema import Step, migrate
from tests.conftest import REPO, plain, run_cli, url_text
from tests.platforms.shops import PLATFORMS
from tests.test_adoption import DATA, VARIANTS, Variant, build_old_shop

NOTHING_TO_DO = Step("keep", "orderreport", f"at {objects.SCHEMA_HEAD} (head): nothing to do")
IDLE = ("keep", "leave", "advise")  # what a step says when it changes nothing


def settings_of(url: URL, platform: str | None = None) -> Settings:
    return load_settings(database_url=url_text(url), tz="UTC", platform=platform, env={})


def connect(url: URL) -> psycopg.Connection[tuple[Any, ...]]:
    return psycopg.connect(plain(url), autocommit=True)


def plan_equals_migrate(settings: Settings, **flags: bool) -> list[Step]:
    """Plan, migrate, and plan again: the first plan is what migrate did, step for step,
    and the second has nothing left to do. Returns the first plan."""
    planned = migrate.migration_plan(settings, **flags)
    done = migrate.migrate(settings, **flags)
    assert list(done.steps) == planned
    revisions = [s.object.removeprefix("revision ") for s in planned if s.action == "apply"]
    assert revisions == list(done.applied)
    again = migrate.migration_plan(settings, **flags)
    assert all(s.action in IDLE for s in again[:-1]) and again[-1] == NOTHING_TO_DO, again
    assert list(migrate.migrate(settings, **flags).steps) == again
    return planned


def acts(steps: list[Step]) -> set[tuple[str, str]]:
    return {(s.action, s.object) for s in steps if s.action not in IDLE}


def test_an_empty_database(empty_url: URL) -> None:
    planned = plan_equals_migrate(settings_of(empty_url))
    assert {
        ("create", "orderreport"),
        ("create", "orderreport.orderreport_version"),
        ("create", "orderreport.created_objects"),
        ("create", "public.users, products, orders, order_items"),
        ("add", "public.orders.created_at"),  # on the table 0001 just created
        ("add", "public.orders.updated_at"),
        ("build", "public.ix_orders_created_at"),
        ("build", "public.ix_order_items_order_id"),
        ("create", "orderreport.daily_reports"),
        ("create", "orderreport.runs"),
        ("add", "orderreport.daily_reports.currency"),
        ("create", "orderreport.order_reports"),
        ("replace", "orderreport.order_reports"),  # 0006, 0007, 0008
        *{("apply", f"revision 000{n}") for n in range(1, 9)},
    } == acts(planned)


def test_the_cli_plan_is_the_plan(empty_url: URL) -> None:
    r = run_cli("migrate", "--plan", "--json", "--database-url", url_text(empty_url))
    assert r.code == 0, r.err
    steps = [Step(**s) for s in json.loads(r.out)]
    assert steps == migrate.migration_plan(settings_of(empty_url))


@pytest.mark.parametrize("variant", VARIANTS, ids=[v.name for v in VARIANTS])
def test_the_old_services_shop(empty_url: URL, variant: Variant) -> None:
    build_old_shop(empty_url, variant)
    planned = plan_equals_migrate(settings_of(empty_url))
    where = variant.schema
    assert ("add", f"{where}.orders.created_at") in acts(planned) or variant.timestamps
    assert ("leave", f"{where}.order_reports") in {(s.action, s.object) for s in planned} or (
        not variant.old_view
    )


def test_a_first_release_database(empty_url: URL) -> None:
    with connect(empty_url) as conn:
        conn.execute((DATA / "first_release.sql").read_text())
    planned = plan_equals_migrate(settings_of(empty_url))
    assert {
        ("move", "public.daily_reports"),
        ("replace", "public.order_reports"),
        ("move", "public.alembic_version (0004)"),
    } <= acts(planned)
    assert ("create", "orderreport.daily_reports") not in acts(planned)


@pytest.mark.parametrize("name", sorted(PLATFORMS))
def test_a_platforms_shop(empty_url: URL, name: str) -> None:
    with connect(empty_url) as conn:
        PLATFORMS[name].build(conn, "public")
    planned = plan_equals_migrate(settings_of(empty_url, name))
    advised = [s for s in planned if s.action == "advise"]
    assert bool(advised) == (not PLATFORMS[name].indexed), advised
    assert not any(s.object.startswith("public.") for s in planned if s.action not in IDLE)


def test_a_platforms_indexes_built_when_asked(empty_url: URL) -> None:
    with connect(empty_url) as conn:
        PLATFORMS["medusa"].build(conn, "public")
    planned = plan_equals_migrate(settings_of(empty_url, "medusa"), build_indexes=True)
    assert ("build", "public.orderreport_order_created_at_idx") in acts(planned)


@pytest.mark.parametrize(
    "revision", ["base", "0001", "0002", "0003", "0004", "0005", "0006", "0007"]
)
def test_a_database_at_every_revision(db_url: URL, revision: str) -> None:
    settings = settings_of(db_url)
    migrate.downgrade(settings, revision)
    planned = plan_equals_migrate(settings)
    pending = [s.object for s in planned if s.action == "apply"]
    first = 1 if revision == "base" else int(revision) + 1
    assert pending == [f"revision {n:04d}" for n in range(first, int(objects.SCHEMA_HEAD) + 1)]
    # the run log came with 0005: a database at 0005 or later has it as its own
    assert not any(s.action == "conflict" for s in planned), planned


def test_a_database_at_head(db_url: URL) -> None:
    assert migrate.migration_plan(settings_of(db_url))[-1] == NOTHING_TO_DO
    plan_equals_migrate(settings_of(db_url))


def invalid_index(url: URL, *, other: bool) -> Settings:
    """The old service's shop at 0002 with our ix_orders_created_at left invalid (as a
    failed CREATE INDEX CONCURRENTLY leaves it), and maybe another index serving."""
    build_old_shop(url, Variant("x", money="numeric(10,2)", timestamps="timestamptz"))
    settings = settings_of(url)
    migrate.migrate(settings)
    migrate.downgrade(settings, "0002")
    with connect(url) as conn:
        conn.execute("CREATE INDEX ix_orders_created_at ON public.orders (created_at)")
        conn.execute(
            "UPDATE pg_index SET indisvalid = false "
            "WHERE indexrelid = 'public.ix_orders_created_at'::regclass"
        )
        if other:
            conn.execute("CREATE INDEX shop_orders_by_date ON public.orders (created_at)")
    return settings


def index_names(url: URL) -> set[str]:
    with connect(url) as conn:
        rows = conn.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename = 'orders' AND indexdef NOT LIKE "
            "'%%UNIQUE%%'"
        ).fetchall()
        assert conn.execute("SELECT count(*) FROM pg_index WHERE NOT indisvalid").fetchone() == (0,)
    return {str(r[0]) for r in rows}


def test_an_invalid_index_of_ours_is_rebuilt(empty_url: URL) -> None:
    planned = plan_equals_migrate(invalid_index(empty_url, other=False))
    assert ("rebuild", "public.ix_orders_created_at") in acts(planned)
    assert "ix_orders_created_at" in index_names(empty_url)


def test_an_invalid_index_of_ours_beside_a_valid_one_is_only_dropped(empty_url: URL) -> None:
    planned = plan_equals_migrate(invalid_index(empty_url, other=True))
    assert ("drop", "public.ix_orders_created_at") in acts(planned)
    assert not any(s.action in ("build", "rebuild") for s in planned if "created_at" in s.object)
    names = index_names(empty_url)
    assert "shop_orders_by_date" in names and "ix_orders_created_at" not in names


FOREIGN = {
    "view": "CREATE VIEW orderreport.order_reports AS SELECT 1 AS x",
    # a copy of orderreport's (as 0004 made it), made by someone else
    "daily_reports": "CREATE TABLE orderreport.daily_reports (report_date date NOT NULL, "
    "time_zone text NOT NULL, total_orders bigint NOT NULL, total_products bigint NOT NULL, "
    "total_value numeric NOT NULL, average_products_per_order numeric(14, 2) NOT NULL, "
    "average_order_value numeric(14, 2) NOT NULL, generated_at timestamptz NOT NULL "
    "DEFAULT now(), CONSTRAINT daily_reports_pkey PRIMARY KEY (time_zone, report_date))",
}


@pytest.mark.parametrize("what", sorted(FOREIGN))
def test_a_same_named_object_of_someone_elses(empty_url: URL, what: str) -> None:
    build_old_shop(empty_url, Variant("x", money="numeric(10,2)", timestamps="timestamptz"))
    with connect(empty_url) as conn:
        conn.execute("CREATE SCHEMA orderreport")
        conn.execute(FOREIGN[what])
    settings = settings_of(empty_url)
    obj = "orderreport.order_reports" if what == "view" else "orderreport.daily_reports"
    conflicts = [s for s in migrate.migration_plan(settings) if s.action == "conflict"]
    assert [s.object for s in conflicts] == [obj], conflicts
    with pytest.raises(ObjectExists, match=re.escape(obj)):
        migrate.migrate(settings)
    planned = plan_equals_migrate(settings, adopt=True)
    assert not any(s.action == "conflict" for s in planned)


def test_a_run_log_that_is_not_ours_is_a_conflict_even_with_adopt(db_url: URL) -> None:
    settings = settings_of(db_url)
    migrate.downgrade(settings, "0004")
    with connect(db_url) as conn:
        conn.execute("CREATE TABLE orderreport.runs (x int)")
    for adopt in (False, True):
        planned = migrate.migration_plan(settings, adopt=adopt)
        assert [s.object for s in planned if s.action == "conflict"] == ["orderreport.runs"]
        with pytest.raises(ObjectExists, match=re.escape("orderreport.runs")):
            migrate.migrate(settings, adopt=adopt)


# -- revisions are self-contained --------------------------------------------------------
VERSIONS = REPO / "migrations" / "versions"


def test_revisions_keep_their_own_ddl() -> None:
    """No revision reads a DDL constant of today's schema.py (its own text is frozen in it)."""
    for path in sorted(VERSIONS.glob("0*.py")):
        text = path.read_text()
        assert not re.search(r"schema\.[A-Z_]*(DDL|INDEXES)\b", text), path.name


def test_editing_todays_ddl_does_not_change_an_old_revision(
    empty_url: URL, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Today's index DDL changed (say, a partial index): a fresh upgrade still builds what
    0003 built."""
    changed = dataclasses.replace(
        schema.INDEX_DDL, plain="CREATE INDEX {name} ON {table} ({column}) WHERE false"
    )
    monkeypatch.setattr(schema, "INDEX_DDL", changed)
    migrate.migrate(settings_of(empty_url))
    with connect(empty_url) as conn:
        (made,) = conn.execute(
            "SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_orders_created_at'"
        ).fetchone() or ("",)
    assert made == "CREATE INDEX ix_orders_created_at ON public.orders USING btree (created_at)"


def test_the_run_log_columns_are_the_models() -> None:
    from orderreport.schema import models

    assert schema.runs_columns() == {c.name for c in models.runs.c}
    assert "backend_start" in schema.runs_columns()
    assert Path(schema.__file__).read_text().count('"backend_start"') == 0  # not copied
