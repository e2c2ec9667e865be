"""orderreport.schema.ours."""

from __future__ import annotations

from collections.abc import Callable

import psycopg
from psycopg import sql

from orderreport import objects
from orderreport import shop as shop_mod
from orderreport.objects import DAILY_REPORTS, OUR_SCHEMA, REGISTRY, RUNS, VIEW, VIEW_MARK
from orderreport.schema.catalog import (
    retire_legacy,
    rightfully_owned,
    runs_columns,
    view_grants,
)
from orderreport.schema.steps import (
    INDEX_DDL,
    OFFLINE_SHOP,
    Step,
    Walk,
    _legacy_view,
    day_plan,
    indexes,
)
from orderreport.shop import Shop
from orderreport.shop.checks import (
    Conn,
    exists,
    scalar,
)
from orderreport.shop.sql import ident, qualified, quote


def create_view_offline(execute: Callable[[str], object], form: str) -> None:
    """The view in `form` for `migrate --sql` (an empty database), replacing any before it."""
    view = qualified(OUR_SCHEMA, VIEW)
    execute(f"DROP VIEW IF EXISTS {view}")
    execute(f"CREATE VIEW {view} AS {shop_mod.view_definition(OFFLINE_SHOP, quote, form)}")
    execute(f"COMMENT ON VIEW {view} IS {shop_mod.sql_string(OFFLINE_SHOP.fingerprint(form))}")


def end(walk: Walk, head: str) -> None:
    """What migrate does once at head: the first release's history retired, the view
    rebuilt if the settings changed what it reads, the indexes advised on a platform's
    tables (built with --build-indexes); else nothing to do."""
    walk.settle_revision()
    legacy = walk.legacy
    if legacy is not None and walk.take(
        Step(
            "move",
            f"{legacy.schema}.alembic_version ({legacy.revision})",
            f"the first release's history: moves to {OUR_SCHEMA}.{objects.VERSION_TABLE}",
        )
    ):
        retire_legacy(walk.conn, legacy)
        walk.note(f"moved orderreport's history out of {legacy.schema}.alembic_version")
    view(walk, shop_mod.VIEW_FORM, "built for other settings: rebuilt")
    if walk.build_asked or not walk.shop.adds_to_shop:
        indexes(walk, "advised", INDEX_DDL, platform=True, asked=walk.build_asked)
    day_plan(walk)
    if all(s.action in ("keep", "leave", "advise") for s in walk.steps):
        walk.take(Step("keep", OUR_SCHEMA, f"at {head} (head): nothing to do"))


# 0001
def create_registry(walk: Walk, ddl: str) -> None:
    """orderreport.created_objects, with the revision's `ddl`."""
    if walk.exists(OUR_SCHEMA, REGISTRY):
        return
    if walk.take(
        Step("create", f"{OUR_SCHEMA}.{REGISTRY}", "what orderreport adds to the shop's tables")
    ):
        walk.conn.execute(ddl)
    walk.made.add((OUR_SCHEMA, REGISTRY))


def drop_legacy_view(walk: Walk) -> None:
    """The first release's view goes: orderreport's own replaces it."""
    legacy = walk.legacy
    if legacy is None or not _legacy_view(walk):
        return
    if walk.take(
        Step(
            "replace",
            f"{legacy.schema}.{VIEW}",
            f"orderreport's first release: replaced by {OUR_SCHEMA}.{VIEW}",
        )
    ):
        walk.conn.execute(sql.SQL("DROP VIEW {}").format(ident(legacy.schema, VIEW)))
        walk.note(f"dropped {legacy.schema}.{VIEW}, the first release's view")


def create_daily_reports(walk: Walk, ddl: str) -> None:
    """orderreport.daily_reports: moved from the first release's schema, or created with
    the revision's `ddl`. A table of that name that is not ours is taken only with --adopt
    (and only if it has the columns orderreport writes)."""
    legacy, obj = walk.legacy, f"{OUR_SCHEMA}.{DAILY_REPORTS}"
    if (
        legacy is not None
        and exists(walk.conn, legacy.schema, DAILY_REPORTS)
        and rightfully_owned(walk.conn, legacy.schema, DAILY_REPORTS)
    ):
        old = f"{legacy.schema}.{DAILY_REPORTS}"
        if walk.take(Step("move", old, f"to {obj}, rows kept")):
            walk.conn.execute(
                sql.SQL("ALTER TABLE {} SET SCHEMA {}").format(
                    ident(legacy.schema, DAILY_REPORTS), sql.Identifier(OUR_SCHEMA)
                )
            )
            walk.note(f"moved {old} to {obj}, rows kept")
    elif walk.exists(OUR_SCHEMA, DAILY_REPORTS):
        if not walk.adopt:
            walk.conflict(
                Step("conflict", obj, "exists and is not orderreport's: --adopt takes it"),
                f"{obj} already exists and was not created by orderreport: "
                "rename it, or rerun with --adopt to take it as orderreport's",
            )
        elif walk.take(Step("adopt", obj, "not created by orderreport: taken, rows kept")):
            walk.note(f"adopted the existing {obj}")
    elif walk.take(Step("create", obj, "the stored daily summaries")):
        walk.conn.execute(ddl)
        walk.note(f"created {obj}")
    walk.made.add((OUR_SCHEMA, DAILY_REPORTS))


# 0005
def create_runs(walk: Walk, ddl: str) -> None:
    """orderreport.runs, the run log, with the revision's `ddl`. A table of that name that
    orderreport did not create is taken only with --adopt, and only if it has every column
    the run log writes: its rows are never dropped."""
    obj = f"{OUR_SCHEMA}.{RUNS}"
    if walk.exists(OUR_SCHEMA, RUNS):
        found = {
            str(c)
            for (c,) in walk.conn.execute(
                "SELECT column_name FROM information_schema.columns "
                "WHERE table_schema = %(s)s AND table_name = %(t)s",
                {"s": OUR_SCHEMA, "t": RUNS},
            )
        }
        if not walk.adopt or not found >= runs_columns():
            walk.conflict(
                Step("conflict", obj, "exists and is not orderreport's"),
                f"{obj} already exists and was not created by orderreport: rename it"
                + (
                    "" if walk.adopt else ", or rerun with --adopt if it is a copy of orderreport's"
                ),
            )
        elif walk.take(Step("adopt", obj, "not created by orderreport: taken, rows kept")):
            walk.note(f"adopted the existing {obj}")
    elif walk.take(Step("create", obj, "the daily job's run log")):
        walk.conn.execute(ddl)
        walk.note(f"created {obj}")
    walk.made.add((OUR_SCHEMA, RUNS))


# 0007 (any revision's own statements)
def change(walk: Walk, step: Step, statements: tuple[str, ...]) -> None:
    """A revision's own change, said as `step` and made with its `statements`."""
    if walk.take(step):
        for statement in statements:
            walk.conn.execute(statement)


# 0004, 0006, 0007, and at head
def view(walk: Walk, form: str, why: str) -> None:
    """orderreport.order_reports for the shop in `form` (older revisions build older
    forms); `why` says why a view of ours is rebuilt. Nothing if it is already right.

    The view's comment records what it was built for (Shop.fingerprint); a view of that
    name without such a comment is not ours and is replaced only with --adopt.
    """
    comment = walk.view_comment()
    wanted = walk.shop.fingerprint(form)
    if comment == wanted:
        return
    obj = f"{OUR_SCHEMA}.{VIEW}"
    if comment is None:
        step = Step("create", obj, "one row per order that counts")
    elif not comment.startswith(VIEW_MARK) and not walk.adopt:
        step = Step("conflict", obj, "exists and is not orderreport's: --adopt replaces it")
        walk.conflict(
            step,
            f"{obj} already exists and was not created by orderreport: "
            "rename it, or rerun with --adopt to replace it with orderreport's view",
        )
    elif not comment.startswith(VIEW_MARK):
        step = Step("replace", obj, "not created by orderreport: replaced (--adopt)")
    else:
        step = Step("replace", obj, why)
    if step.action != "conflict" and walk.take(step):
        build_view(walk.conn, walk.shop, form, comment is not None)
        verb = "created" if comment is None else "rebuilt"
        # what it was built for, as people read it (a query source may name no schema)
        built = wanted.removeprefix(VIEW_MARK).strip().replace("shop=None;", "shop=-;")
        walk.note(f"{verb} {obj} ({built})")
    walk.comment, walk.commented = wanted, True


def build_view(conn: Conn, shop: Shop, form: str, there: bool) -> None:
    """(Re)build orderreport.order_reports for `shop` in `form`, its comment saying so.

    Built under a search path of the system's alone: every function and operator in it
    binds to pg_catalog's (or to what the source's SQL names explicitly), whatever another
    role planted in a schema on the user's path. Replaced in place where the columns allow
    (its grants stay); else dropped and created, its grants given back.
    """
    view = qualified(OUR_SCHEMA, VIEW)
    body = shop_mod.view_definition(shop, quote, form)
    path = scalar(conn, "SELECT pg_catalog.current_setting('search_path')")
    conn.execute("SELECT pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true)")
    replaced = False
    grants: list[str] = []
    if there:
        try:
            with conn.transaction():  # a savepoint: the revision's transaction is open
                conn.execute(f"CREATE OR REPLACE VIEW {view} AS {body}")
            replaced = True
        except psycopg.Error:  # a column changed type or went away: not replaceable in place
            grants = view_grants(conn)
            conn.execute(f"DROP VIEW {view}")
    if not replaced:
        conn.execute(f"CREATE VIEW {view} AS {body}")
        for grant in grants:  # the reporting roles keep reading it
            conn.execute(grant)
    fingerprint = shop_mod.sql_string(shop.fingerprint(form))
    conn.execute(f"COMMENT ON VIEW {view} IS {fingerprint}")
    conn.execute("SELECT pg_catalog.set_config('search_path', %(p)s, true)", {"p": path})
