"""What `migrate` adds to a database, and nothing more: the steps the revisions take.

Each step looks at the database first and only adds what is missing, so the same
revisions serve an empty database (they create a small shop), a shop made by another
application (they add columns, indexes and orderreport's own objects beside it) and a
database migrated by orderreport's first release (they move its objects over). Nothing
here rewrites, retypes or drops a table or column of the shop's; what orderreport adds
to the shop's tables is written in `orderreport.created_objects`, and a downgrade
removes only what is written there. Each step is decided once (see "the walk" below):
`migrate` takes it, `migrate --plan` says it, from the same function."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from psycopg import sql

from orderreport import objects
from orderreport import shop as shop_mod
from orderreport.columns import fields_of
from orderreport.errors import ObjectExists
from orderreport.objects import OUR_SCHEMA, VIEW
from orderreport.schema.catalog import (
    Legacy,
    _partitioned,
    _schema_exists,
    register,
    registered_all,
    rightfully_owned,
    view_comment,
)
from orderreport.shop import Shop, checks
from orderreport.shop.checks import (
    Conn,
    IndexState,
    creation_schema,
    exists,
    index_states,
    refuse_foreign,
    scalar,
)
from orderreport.shop.sql import ident, qualified


@dataclass(frozen=True)
class Step:
    """One thing `migrate` would do (or leave), for `migrate --plan`."""

    # create, add, build, rebuild, drop, move, replace, adopt, apply (a revision), keep,
    # leave, advise, conflict
    action: str
    object: str
    detail: str


PLAN_FIELDS = fields_of(Step)


# What `migrate --sql` shows: a database with no shop, whose tables land in public. Also
# the shop `--plan` expects once 0001 has created one (in the schema it would use).
OFFLINE_SHOP = Shop(
    exists=True,
    schema="public",
    found_by="created",
    candidates=("public",),
    money_type="numeric(12,2)",
    created_at_type=shop_mod.TIMESTAMPTZ,
    updated_at_type=shop_mod.TIMESTAMPTZ,
    naive_tz="UTC",
    naive_tz_source="server TimeZone",
)


@dataclass(frozen=True)
class IndexDDL:
    """The statements that build and clear an index the reports need, as templates with
    {name}, {index}, {table}, {column}, {part} (psycopg.sql identifiers). Revision 0003
    passes the text it applied; INDEX_DDL is today's, for `migrate --build-indexes`."""

    plain: str  # on a table orderreport created (empty): in the revision's transaction
    concurrently: str  # on the shop's own table: its writes go on
    drop_concurrently: str  # an invalid leftover of a failed concurrent build
    parent: str  # a partitioned table: ON ONLY the parent, then each partition's attached
    attach: str


INDEX_DDL = IndexDDL(
    plain="CREATE INDEX {name} ON {table} ({column})",
    concurrently="CREATE INDEX CONCURRENTLY {name} ON {table} ({column})",
    drop_concurrently="DROP INDEX CONCURRENTLY IF EXISTS {index}",
    parent="CREATE INDEX IF NOT EXISTS {name} ON ONLY {table} ({column})",
    attach="ALTER INDEX {index} ATTACH PARTITION {part}",
)


def _run(conn: Conn, template: str, **names: sql.Composable) -> None:
    conn.execute(sql.SQL(template).format(**names))


def _build(conn: Conn, state: IndexState, ddl: IndexDDL) -> None:
    """Build `state`'s index concurrently: on a partitioned table per partition, each then
    attached to the parent's ON ONLY index, which is how PostgreSQL allows it."""
    schema, column = state.schema, sql.Identifier(state.column)
    table, name = ident(schema, state.table), sql.Identifier(state.name)
    if not _partitioned(conn, schema, state.table):
        _run(conn, ddl.concurrently, name=name, table=table, column=column)
        return
    _run(conn, ddl.parent, name=name, table=table, column=column)
    parts = conn.execute(
        "SELECT n.nspname, c.relname FROM pg_catalog.pg_inherits i "
        "JOIN pg_catalog.pg_class c ON c.oid = i.inhrelid "
        "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
        "WHERE i.inhparent = CAST(pg_catalog.to_regclass(CAST(%(parent)s AS text)) AS oid) "
        "ORDER BY 2",
        {"parent": qualified(schema, state.table)},
    ).fetchall()
    for part_schema, part in parts:
        part_name = f"{part}_{state.column}_idx"[:63]
        part_index = ident(str(part_schema), part_name)
        _run(conn, ddl.drop_concurrently, index=part_index)
        _run(
            conn,
            ddl.concurrently,
            name=sql.Identifier(part_name),
            table=ident(str(part_schema), str(part)),
            column=column,
        )
        _run(conn, ddl.attach, index=ident(schema, state.name), part=part_index)


def source_steps(shop: Shop) -> list[Step]:
    """The source as `--plan` lists it: what is read, and how."""
    src = shop.source
    where = shop.schema
    if src.is_query:
        return [
            Step("keep", "source query", f"found by {shop.found_by}: {src.describe()}"),
            Step("keep", "currency", shop.currency_reading()),
        ]
    return [
        Step(
            "keep",
            f"{where}.{src.orders}, {where}.{src.lines}",
            f"{src.name}, found by {shop.found_by}",
        ),
        Step(
            "keep",
            f"{where}.{src.orders}: amount {shop_mod.fill_schema(src.amount or '', where)}",
            _money(shop),
        ),
        Step(
            "keep",
            f"{where}.{src.orders}.{src.placed_at}",
            f"{shop.created_at_type}: {shop.timestamp_reading()}",
        ),
        Step("keep", "currency", shop.currency_reading()),
        Step("keep", "orders that count", src.where or "every dated order"),
    ]


def _money(shop: Shop) -> str:
    return f"{shop.money_type}: {shop.money_reading()}"


# -- the walk: one decision per step -----------------------------------------------------
# Each function below decides one step of `migrate` and returns nothing: it records the
# Step it takes in the walk, and does it only when the walk is applying. `migrate` walks
# them applying (migrations/env.py before and after the revisions, each pending revision's
# `steps`); `migrate --plan` walks the very same functions with applying off (migrate.plan).
# Not applying, what a later step reads of the database is what the earlier steps would
# have made: the walk remembers it (`made`, `registry`, `settled`, the view's comment, the
# shop it would have created or added to), so both walks take the same decisions.
Apply = Callable[[], contextlib.AbstractContextManager[None]]


@dataclass
class Walk:
    """One walk over migrate's steps: applying them, or only saying them (`--plan`)."""

    conn: Conn
    applying: bool
    shop: Shop  # the shop as found (applying: afresh at every revision), or as expected
    legacy: Legacy | None = None
    adopt: bool = False
    build_asked: bool = False
    steps: list[Step] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what was found and done, for people
    made: set[tuple[str, str]] = field(default_factory=set)  # relations steps created
    registry: set[tuple[str, str]] = field(default_factory=set)  # (kind, name) registered
    settled: set[str] = field(default_factory=set)  # indexes built or cleared ("schema.name")
    comment: str | None = None  # the view's comment as the last view step left it...
    commented: bool = False  # ...if a view step ran
    opened: int | None = None  # the index of the pending revision's own step, while it runs
    # outside a transaction, for what must be (CREATE INDEX CONCURRENTLY): under Alembic
    # its autocommit_block; never entered when not applying
    autocommit: Apply = contextlib.nullcontext

    def take(self, step: Step) -> bool:
        """Record `step`; True if it is to be done now (applying)."""
        self.steps.append(step)
        return self.applying

    def note(self, line: str) -> None:
        if self.applying:
            self.notes.append(line)

    def exists(self, schema: str | None, name: str) -> bool:
        where = schema or creation_schema(self.conn)
        return (where, name) in self.made or exists(self.conn, where, name)

    def registered(self) -> set[tuple[str, str]]:
        return self.registry | registered_all(self.conn)

    def register(self, kind: str, name: str, revision: str) -> None:
        self.registry.add((kind, name))
        if self.applying:
            register(self.conn, kind, name, revision)

    def view_comment(self) -> str | None:
        """Applying, the database's; else as the last view step would have left it."""
        if self.commented and not self.applying:
            return self.comment
        return view_comment(self.conn)

    def conflict(self, step: Step, message: str) -> None:
        """An object of ours by name that is not ours: migrate stops (ObjectExists);
        --plan says so and goes on as if it had been taken (--adopt)."""
        self.take(step)
        if self.applying:
            raise ObjectExists(message)

    def revision(self, revision: str, doc: str | None) -> None:
        """A pending revision begins: it is a step (it moves the version) of its own."""
        self.settle_revision()
        about = (doc or "").strip().splitlines()[0] if doc and doc.strip() else ""
        self.opened = len(self.steps)
        self.take(Step("apply", f"revision {revision}", about))

    def settle_revision(self) -> None:
        """The revision before has ended: one that took no step here (the old service's
        own schema is not this database's shop, or already had what it adds) says so, so
        its line does not read as a change to the shop's tables."""
        if self.opened is not None and len(self.steps) == self.opened + 1:
            step = self.steps[self.opened]
            self.steps[self.opened] = replace(
                step, detail=f"orderreport's version only; nothing changes here ({step.detail})"
            )
        self.opened = None


def begin(walk: Walk, revision: str | None) -> None:
    """What migrate finds before any revision: the source it reads, orderreport's schema
    and history, and what it leaves alone. Raises Refused where migrate refuses (tables,
    but no shop it can read)."""
    conn, shop, legacy = walk.conn, walk.shop, walk.legacy
    refuse_foreign(conn, shop)
    if shop.exists:
        walk.steps.extend(source_steps(shop))
    schema_step = Step("create", OUR_SCHEMA, "orderreport's own schema, apart from the shop's")
    if not _schema_exists(conn, OUR_SCHEMA) and walk.take(schema_step):
        conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(OUR_SCHEMA)))
    if legacy is None and revision is None:  # Alembic creates it with the first revision
        walk.take(
            Step("create", f"{OUR_SCHEMA}.{objects.VERSION_TABLE}", "orderreport's own history")
        )
    where = shop.schema or creation_schema(conn)
    if legacy is None and exists(conn, where, "alembic_version"):
        walk.take(
            Step("leave", f"{where}.alembic_version", "another application's history: not touched")
        )
    if exists(conn, where, VIEW) and not (_legacy_view(walk) and legacy and legacy.schema == where):
        walk.take(
            Step(
                "leave",
                f"{where}.{VIEW}",
                f"not orderreport's: left as it is; orderreport's is {OUR_SCHEMA}.{VIEW}",
            )
        )


def create_shop(
    walk: Walk, revision: str, tables: tuple[str, ...], create: Callable[[str], None]
) -> None:
    """Only in a database with no shop (and no tables): the seed's tables, made by the
    revision's own `create(schema)`, registered as orderreport's."""
    shop = walk.shop
    if shop.exists:
        return
    refuse_foreign(walk.conn, shop)  # a sample shop never goes next to someone's tables
    # the user's current schema: the session's own path holds only the system's
    where = shop.schema or creation_schema(walk.conn)
    if walk.take(
        Step(
            "create",
            f"{where}.{', '.join(tables)}",
            "the database has no tables: an empty shop of the seed's schema",
        )
    ):
        create(where)
        walk.note(f"created the shop's tables in schema {where} (the database had none)")
    for table in tables:
        walk.register("table", f"{where}.{table}", revision)
        walk.made.add((where, table))
    # what the tables are once made (applying, the next revision finds them afresh)
    walk.shop = replace(
        OFFLINE_SHOP,
        schema=where,
        candidates=(where,),
        created_at_type=None,
        updated_at_type=None,
        naive_tz=shop.naive_tz,
        naive_tz_source=shop.naive_tz_source,
    )


# 0002
def add_timestamps(
    walk: Walk, revision: str, ours: tuple[str, ...], shops: tuple[str, ...]
) -> None:
    """orders.created_at / updated_at where missing, with the revision's statements
    ({table}, {column}): `ours` on a table orderreport created (empty), `shops` on the
    shop's own (existing orders get NULL, "no date", rather than the migration's clock,
    and nothing is rewritten; then DEFAULT now() for the orders to come). Reports leave
    undated orders out; status counts them."""
    shop = walk.shop
    if not shop.exists or not shop.adds_to_shop:
        return
    orders = ident(shop.schema, "orders")
    mine = ("table", f"{shop.schema}.orders") in walk.registered()
    created, updated = shop.created_at_type, shop.updated_at_type
    for column, present in (
        ("created_at", shop.created_at_type),
        ("updated_at", shop.updated_at_type),
    ):
        if present is not None:
            continue
        detail = (
            "timestamptz NOT NULL DEFAULT now(): orderreport's own (empty) table"
            if mine
            else "timestamptz DEFAULT now(); existing orders get no date (NULL), no rewrite"
        )
        if walk.take(Step("add", f"{shop.schema}.orders.{column}", detail)):
            for statement in ours if mine else shops:
                _run(walk.conn, statement, table=orders, column=sql.Identifier(column))
            if column == "created_at" and not mine:
                undated = int(scalar(walk.conn, sql.SQL("SELECT count(*) FROM {}").format(orders)))
                walk.note(
                    f"added {shop.schema}.orders.created_at: the {undated:,} orders already "
                    "there have no date (NULL) and are in no report; new orders get now()"
                )
        walk.register("column", f"{shop.schema}.orders.{column}", revision)
        if column == "created_at":
            created = shop_mod.TIMESTAMPTZ
        else:
            updated = shop_mod.TIMESTAMPTZ
    walk.shop = replace(shop, created_at_type=created, updated_at_type=updated)


# 0003, and at head for a platform's tables
def indexes(
    walk: Walk, revision: str, ddl: IndexDDL, *, platform: bool = False, asked: bool = False
) -> None:
    """Each index a day's report needs: kept, built, or (on a platform's tables, which its
    application owns: only with `platform`) advised with the exact statement and built
    only when `asked` (--build-indexes). On the shop's own tables CONCURRENTLY, outside a
    transaction (walk.autocommit), so the shop's writes go on; an index left invalid by a
    failed concurrent build is dropped and built again, or only dropped where another
    valid one serves. On tables orderreport created (empty) a plain CREATE INDEX, with the
    revision's `ddl`."""
    shop = walk.shop
    where = shop.schema
    if not shop.adds_to_shop and not platform:
        return
    apply = walk.autocommit
    for state in index_states(walk.conn, shop):
        key = f"{where}.{state.name}"
        settled = key in walk.settled  # built or cleared by an earlier step of this walk
        usable = state.usable or (state.name if settled else None)
        invalid = state.invalid and not settled
        on = f"{state.table}({state.column})"
        if usable and not invalid:
            walk.take(Step("keep", f"{where}.{usable}", f"serves {on}"))
            continue
        if not shop.adds_to_shop and not asked:
            walk.take(
                Step(
                    "advise",
                    key,
                    f"{on} has no index, so a day reads every row: "
                    f"`{state.statement}` (or migrate --build-indexes)",
                )
            )
            continue
        walk.settled.add(key)
        index = ident(where, state.name)
        if usable is not None:  # only our own invalid leftover to clear away
            detail = f"invalid (a failed concurrent build): dropped, {where}.{usable} serves {on}"
            if walk.take(Step("drop", key, detail)):
                with apply():
                    _run(walk.conn, ddl.drop_concurrently, index=index)
            continue
        names = {
            "name": sql.Identifier(state.name),
            "table": ident(where, state.table),
            "column": sql.Identifier(state.column),
        }
        if ("table", f"{where}.{state.table}") in walk.registered():
            if walk.take(Step("build", key, f"on {on}, orderreport's own (empty) table")):
                _run(walk.conn, ddl.plain, **names)
        elif invalid:
            detail = "invalid (a failed concurrent build): dropped, built again CONCURRENTLY"
            if walk.take(Step("rebuild", key, detail)):
                with apply():
                    _run(walk.conn, ddl.drop_concurrently, index=index)
                    _build(walk.conn, state, ddl)
                walk.note(f"built {key} on {on}")
        elif walk.take(Step("build", key, f"on {on}, CONCURRENTLY (writes go on)")):
            with apply():
                _build(walk.conn, state, ddl)
            walk.note(f"built {key} on {on}")
        walk.register("index", key, revision)


# 0004
def day_plan(walk: Walk) -> None:
    """A day's statement planned for every kind of source: a relation it reads whole is
    advised with the fix (one already advised an index above is not said twice)."""
    for relation in checks.unadvised_whole_reads(walk.conn, walk.shop):
        walk.take(Step("advise", relation, shop_mod.whole_read_fix(walk.shop, relation)))


def _legacy_view(walk: Walk) -> bool:
    """Whether the first release's view is there, in its schema, and ours to drop."""
    legacy = walk.legacy
    return (
        legacy is not None
        and exists(walk.conn, legacy.schema, VIEW)
        and rightfully_owned(walk.conn, legacy.schema, VIEW)
    )
