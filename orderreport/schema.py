"""What `migrate` adds to a database, and nothing more: the steps the revisions take.

Each step looks at the database first and only adds what is missing, so the same
revisions serve an empty database (they create a small shop), a shop made by another
application (they add columns, indexes and orderreport's own objects beside it) and a
database migrated by orderreport's first release (they move its objects over). Nothing
here rewrites, retypes or drops a table or column of the shop's; what orderreport adds
to the shop's tables is written in `orderreport.created_objects`, and a downgrade
removes only what is written there. Each step is decided once (see "the walk" below):
`migrate` takes it, `migrate --plan` says it, from the same function.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import psycopg
from psycopg import sql

from orderreport import db, objects
from orderreport import shop as shop_mod
from orderreport.columns import fields_of
from orderreport.errors import ObjectExists, Refused
from orderreport.objects import DAILY_REPORTS, OUR_SCHEMA, REGISTRY, RUNS, VIEW, VIEW_MARK
from orderreport.shop import Shop

# (table, column): the indexes the reports need on the shop's tables, by their name.
NEEDED_INDEXES = {
    "ix_orders_created_at": ("orders", "created_at"),
    "ix_order_items_order_id": ("order_items", "order_id"),
}
LEGACY_MARK = "products_price_nonnegative"  # a constraint only orderreport's 0001 created


@dataclass(frozen=True)
class Step:
    """One thing `migrate` would do (or leave), for `migrate --plan`."""

    # create, add, build, rebuild, drop, move, replace, adopt, apply (a revision), keep,
    # leave, advise, conflict
    action: str
    object: str
    detail: str


@dataclass(frozen=True)
class Legacy:
    """A database migrated by orderreport's first release: its revision and schema."""

    revision: str
    schema: str


PLAN_FIELDS = fields_of(Step)


quote = shop_mod.quote  # one quoting rule for identifiers (shop.py holds it)

# What every function here takes: a psycopg connection (orderreport's pg.Connection, or
# under Alembic the driver connection of op.get_bind()).
Conn = psycopg.Connection[Any]


def qualified(schema: str | None, name: str) -> str:
    return f"{quote(schema)}.{quote(name)}" if schema else quote(name)


def ident(schema: str | None, name: str) -> sql.Identifier:
    """`schema.name` (or `name` alone) as an identifier for psycopg.sql."""
    return sql.Identifier(schema, name) if schema else sql.Identifier(name)


def scalar(conn: Conn, query: Any, params: dict[str, Any] | None = None) -> Any:
    """The first column of the first row (None if there is no row)."""
    row = conn.execute(query, params).fetchone()
    return None if row is None else row[0]


def exists(conn: Conn, schema: str | None, name: str) -> bool:
    """True if a relation `name` exists in `schema` (None: the user's current schema)."""
    return bool(
        scalar(
            conn,
            "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_class c "
            "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
            "WHERE c.relname = %(n)s AND n.nspname = %(s)s)",
            {"n": name, "s": schema or creation_schema(conn)},
        )
    )


def creation_schema(conn: Conn) -> str:
    """The schema the user's own search path creates objects in (their current schema):
    where an empty database gets its shop. The session's own path holds none."""
    return db.user_path(conn).current or "public"


# Whether a relation is owned by a role orderreport may take it from: the role running
# orderreport, or the owner of the shop's own tables in that schema. A table another role
# merely could create there (PUBLIC may create in `public` before PostgreSQL 15) is not.
_RIGHTFUL = """
    SELECT c.relowner = (SELECT r.oid FROM pg_catalog.pg_roles r WHERE r.rolname = current_user)
           OR c.relowner IN (SELECT t.relowner FROM pg_catalog.pg_class t
                             WHERE t.relnamespace = c.relnamespace
                               AND t.relname = ANY(CAST(%(shop)s AS text[])))
    FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = %(s)s AND c.relname = %(n)s
    """


def rightfully_owned(conn: Conn, schema: str, name: str) -> bool:
    """True if `schema.name` is owned by the running role or by the shop tables' owner."""
    found = scalar(conn, _RIGHTFUL, {"s": schema, "n": name, "shop": ["orders", "order_items"]})
    return bool(found)


# -- orderreport's first release --------------------------------------------------------
def find_legacy(conn: Conn) -> Legacy | None:
    """The first release's history in the shared `alembic_version`, if this is such a database.

    Only a revision of ours there is not enough (an application may number its revisions
    0001 too): the shop must also carry a constraint that only our first revision made.
    """
    if exists(conn, OUR_SCHEMA, objects.VERSION_TABLE):
        return None
    path = db.user_path(conn)
    # the first alembic_version on the user's path, as an unqualified name would resolve
    schema = next((s for s in path.schemas if exists(conn, s, "alembic_version")), None)
    if schema is None or not rightfully_owned(conn, schema, "alembic_version"):
        return None
    table = ident(schema, "alembic_version")
    versions = [
        str(v) for (v,) in conn.execute(sql.SQL("SELECT version_num FROM {}").format(table))
    ]
    if len(versions) != 1 or versions[0] not in objects.LEGACY_REVISIONS:
        return None
    marked = scalar(
        conn,
        "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint k "
        "JOIN pg_catalog.pg_namespace n ON n.oid = k.connamespace "
        "WHERE k.conname = %(c)s AND n.nspname = %(s)s)",
        {"c": LEGACY_MARK, "s": schema},
    )
    return Legacy(versions[0], schema) if marked else None


def retire_legacy(conn: Conn, legacy: Legacy) -> None:
    """Drop the first release's `alembic_version`: its history now lives in ours."""
    conn.execute(sql.SQL("DROP TABLE {}").format(ident(legacy.schema, "alembic_version")))


# -- the registry of what orderreport added to the shop ---------------------------------
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


def runs_columns() -> frozenset[str]:
    """Every column the run log writes: models.runs's (SQLAlchemy, so imported here, on the
    migration side only: the reports never import it)."""
    from orderreport import models

    return frozenset(c.name for c in models.runs.c)


def create_view_offline(execute: Callable[[str], object], form: str) -> None:
    """The view in `form` for `migrate --sql` (an empty database), replacing any before it."""
    view = qualified(OUR_SCHEMA, VIEW)
    execute(f"DROP VIEW IF EXISTS {view}")
    execute(f"CREATE VIEW {view} AS {shop_mod.view_definition(OFFLINE_SHOP, quote, form)}")
    execute(f"COMMENT ON VIEW {view} IS {shop_mod.sql_string(OFFLINE_SHOP.fingerprint(form))}")


_REGISTRY = sql.Identifier(OUR_SCHEMA, REGISTRY)


def register(conn: Conn, kind: str, name: str, revision: str) -> None:
    conn.execute(
        sql.SQL(
            "INSERT INTO {} (kind, name, revision) "
            "VALUES (%(k)s, %(n)s, %(r)s) ON CONFLICT DO NOTHING"
        ).format(_REGISTRY),
        {"k": kind, "n": name, "r": revision},
    )


def registered(conn: Conn, revision: str) -> list[tuple[str, str]]:
    """(kind, name) of what `revision` added, newest first (the order to remove them)."""
    if not exists(conn, OUR_SCHEMA, REGISTRY):
        return []
    rows = conn.execute(
        sql.SQL(
            "SELECT kind, name FROM {} WHERE revision = %(r)s ORDER BY created_at DESC, name DESC"
        ).format(_REGISTRY),
        {"r": revision},
    )
    return [(str(k), str(n)) for k, n in rows]


def unregister(conn: Conn, kind: str, name: str) -> None:
    conn.execute(
        sql.SQL("DELETE FROM {} WHERE kind = %(k)s AND name = %(n)s").format(_REGISTRY),
        {"k": kind, "n": name},
    )


def registered_all(conn: Conn) -> set[tuple[str, str]]:
    if not exists(conn, OUR_SCHEMA, REGISTRY):
        return set()
    rows = conn.execute(sql.SQL("SELECT kind, name FROM {}").format(_REGISTRY))
    return {(str(k), str(n)) for k, n in rows}


def drop_registered(conn: Conn, revision: str) -> None:
    """Downgrade: remove what `revision` added to the shop, and nothing else."""
    tables: list[sql.Identifier] = []
    for kind, name in registered(conn, revision):
        parts = name.split(".")
        if kind == "column":
            schema, table, column = parts
            conn.execute(
                sql.SQL("ALTER TABLE {} DROP COLUMN IF EXISTS {}").format(
                    ident(schema, table), sql.Identifier(column)
                )
            )
        elif kind == "index":
            conn.execute(sql.SQL("DROP INDEX IF EXISTS {}").format(ident(parts[0], parts[1])))
        elif kind == "table":
            tables.append(ident(parts[0], parts[1]))
        unregister(conn, kind, name)
    if tables:  # in one statement: PostgreSQL orders the foreign keys among them
        conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.SQL(", ").join(tables)))


# -- indexes -----------------------------------------------------------------------------
@dataclass(frozen=True)
class IndexState:
    """The index a report needs: present (valid, maybe under another name), invalid or absent."""

    name: str
    table: str
    column: str
    usable: str | None  # name of a valid index leading with the column
    invalid: bool  # our own name exists but a concurrent build failed
    schema: str | None = None

    @property
    def statement(self) -> str:
        """The statement that builds it, for the shop's owner to run (or --build-indexes)."""
        return (
            f"CREATE INDEX CONCURRENTLY {quote(self.name)} "
            f"ON {qualified(self.schema, self.table)} ({quote(self.column)})"
        )


_INDEXES = """
    SELECT i.indexrelid::regclass::text AS name, ic.relname AS short, i.indisvalid AS valid,
           a.attname AS leading
    FROM pg_catalog.pg_index i
    JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
    JOIN pg_catalog.pg_class t ON t.oid = i.indrelid
    JOIN pg_catalog.pg_namespace n ON n.oid = t.relnamespace
    LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = t.oid AND a.attnum = i.indkey[0]
    WHERE n.nspname = %(schema)s AND t.relname = %(table)s
    """


def needed_indexes(shop: Shop) -> list[tuple[str, str, str]]:
    """(name, table, column) of the indexes a day's report needs: on the placed-at column
    and on the lines' order key. None on a view or a query: their indexes are the tables'
    underneath, which orderreport cannot see through."""
    src = shop.source
    if not shop.exists or src.is_query:
        return []
    if src.is_seed:
        if not shop.adds_to_shop:
            return []
        return [(name, table, column) for name, (table, column) in NEEDED_INDEXES.items()]
    assert src.orders and src.placed_at and src.lines and src.lines_order_key
    found = []
    if shop.orders_kind in ("r", "p"):
        found.append((_index_name(src.orders, src.placed_at), src.orders, src.placed_at))
    if shop.lines_kind in ("r", "p"):
        found.append((_index_name(src.lines, src.lines_order_key), src.lines, src.lines_order_key))
    return found


def _index_name(table: str, column: str) -> str:
    """orderreport's name for an index it advises on a platform's table."""
    return f"orderreport_{table}_{column}_idx"[:63]


def index_states(conn: Conn, shop: Shop) -> list[IndexState]:
    states = []
    for name, table, column in needed_indexes(shop):
        usable: str | None = None
        invalid = False
        for _, short, valid, leading in conn.execute(
            _INDEXES, {"schema": shop.schema, "table": table}
        ):
            if short == name and not valid:
                invalid = True
            elif leading == column and valid and usable is None:
                usable = str(short)
        states.append(IndexState(name, table, column, usable, invalid, shop.schema))
    return states


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


def _partitioned(conn: Conn, schema: str | None, table: str) -> bool:
    return bool(
        scalar(
            conn,
            "SELECT c.relkind = 'p' FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n "
            "ON n.oid = c.relnamespace WHERE n.nspname = %(s)s AND c.relname = %(t)s",
            {"s": schema, "t": table},
        )
    )


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


def view_comment(conn: Conn) -> str | None:
    """The comment on orderreport.order_reports ('' if it has none), None if it is absent."""
    row = conn.execute(
        "SELECT pg_catalog.to_regclass(CAST(%(v)s AS text)) IS NOT NULL, "
        "COALESCE(pg_catalog.obj_description("
        "CAST(pg_catalog.to_regclass(CAST(%(v)s AS text)) AS oid), CAST('pg_class' AS name)), '')",
        {"v": f"{quote(OUR_SCHEMA)}.{quote(VIEW)}"},
    ).fetchone()
    assert row is not None  # an aggregate-free SELECT without FROM: always one row
    return str(row[1]) if row[0] else None


_VIEW_ACL = f"""
    SELECT a.privilege_type AS privilege, a.is_grantable AS grantable,
           CASE WHEN a.grantee = 0 THEN 'PUBLIC'
                ELSE pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(a.grantee)) END AS role
    FROM pg_catalog.pg_class c, pg_catalog.aclexplode(c.relacl) a
    WHERE c.oid = CAST(pg_catalog.to_regclass('{OUR_SCHEMA}.{VIEW}') AS oid)
      AND a.grantee <> c.relowner
    ORDER BY 3, 1
    """


def view_grants(conn: Conn) -> list[str]:
    """The GRANTs that give the view's current privileges back to its readers (its owner's
    aside), for a rebuild that must drop it."""
    return [
        f"GRANT {privilege} ON {qualified(OUR_SCHEMA, VIEW)} TO {role}"
        + (" WITH GRANT OPTION" if grantable else "")
        for privilege, grantable, role in conn.execute(_VIEW_ACL)
    ]


def undated_orders(conn: Conn, shop: Shop) -> int | None:
    """Orders of the old service's schema with no created_at (NULL): migrate added the
    column without inventing a date for the orders already there, so they are in no report.

    None for every other source (and a missing column): there the placed-at column is what
    makes an order placed, so a row without it (a Solidus or Spree cart, a draft) is no
    order that counts, not an order without a date."""
    src = shop.source
    if shop.created_at_type is None or not src.is_seed or src.orders is None:
        return None
    assert src.placed_at is not None
    orders = qualified(shop.schema, src.orders)
    counts = f" AND ({shop_mod.fill_schema(src.where, shop.schema)})" if src.where else ""
    query = f"SELECT count(*) FROM {orders} o WHERE o.{quote(src.placed_at)} IS NULL{counts}"
    return int(scalar(conn, query))


def orders_without_amount(conn: Conn, shop: Shop) -> int | None:
    """Orders that count but have no amount (NULL): worth 0 in the figures, shown without an
    amount in reports. None for a query source (its rows are its own)."""
    src = shop.source
    if not shop.exists or src.is_query or src.orders is None or shop.created_at_type is None:
        return None
    assert src.placed_at is not None and src.amount is not None
    amount = shop_mod.amount_sql(shop, quote)
    counts = f" AND ({shop_mod.fill_schema(src.where, shop.schema)})" if src.where else ""
    query = (
        f"SELECT count(*) FROM {qualified(shop.schema, src.orders)} o "
        f"WHERE ({amount}) IS NULL AND o.{quote(src.placed_at)} IS NOT NULL{counts}"
    )
    return int(scalar(conn, query))


# -- the plan ----------------------------------------------------------------------------
def refuse_foreign(conn: Conn, shop: Shop) -> None:
    """Raise Refused when the database holds tables or views but no shop orderreport can
    read: a sample shop's tables never go next to someone else's."""
    if shop.exists:
        return
    found = shop_mod.foreign_relations(conn)
    if not found:
        return
    names = ", ".join(found[:3]) + (", …" if len(found) > 3 else "")
    hint = f" ({shop.hint})" if shop.hint else ""
    raise Refused(
        f"this database has tables ({names}) but no shop orderreport can read{hint}: say "
        "what the shop is with --platform NAME (`orderreport platforms` lists them) or a "
        "[source] table in the config file; nothing was created"
    )


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


def _schema_exists(conn: Conn, name: str) -> bool:
    return bool(
        scalar(
            conn,
            "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = %(n)s)",
            {"n": name},
        )
    )


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
    for relation in whole_reads(walk.conn, walk.shop):
        walk.take(Step("advise", relation, shop_mod.whole_read_fix(walk.shop, relation)))


def whole_reads(conn: Conn, shop: Shop) -> list[str]:
    """The relations a day reads whole, but the seed's own (migrate indexes it) and a table
    whose missing index is advised by name (index_states)."""
    if not shop.exists or shop.adds_to_shop:
        return []
    unindexed = {f"{st.schema}.{st.table}" for st in index_states(conn, shop) if not st.usable}
    return [r for r in shop_mod.whole_reads(conn, shop) if r not in unindexed]


def _legacy_view(walk: Walk) -> bool:
    """Whether the first release's view is there, in its schema, and ours to drop."""
    legacy = walk.legacy
    return (
        legacy is not None
        and exists(walk.conn, legacy.schema, VIEW)
        and rightfully_owned(walk.conn, legacy.schema, VIEW)
    )


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
