"""What `migrate` adds to a database, and nothing more: the steps the revisions take.

Each step looks at the database first and only adds what is missing, so the same
revisions serve an empty database (they create a small shop), a shop made by another
application (they add columns, indexes and orderreport's own objects beside it) and a
database migrated by orderreport's first release (they move its objects over). Nothing
here rewrites, retypes or drops a table or column of the shop's; what orderreport adds
to the shop's tables is written in `orderreport.created_objects`, and a downgrade
removes only what is written there. `plan` lists the same steps without taking them.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError

from orderreport import shop as shop_mod
from orderreport.columns import fields_of
from orderreport.errors import ObjectExists, Refused
from orderreport.shop import OUR_SCHEMA, VIEW, Shop

DAILY_REPORTS = "daily_reports"
RUNS = "runs"
REGISTRY = "created_objects"
# (table, column): the indexes the reports need on the shop's tables, by their name.
NEEDED_INDEXES = {
    "ix_orders_created_at": ("orders", "created_at"),
    "ix_order_items_order_id": ("order_items", "order_id"),
}
LEGACY_MARK = "products_price_nonnegative"  # a constraint only orderreport's 0001 created
VIEW_MARK = "orderreport view:"  # how the comment of orderreport's own view starts


@dataclass(frozen=True)
class Step:
    """One thing `migrate` would do (or leave), for `migrate --plan`."""

    action: str  # create, add, build, rebuild, move, replace, keep, leave, conflict
    object: str
    detail: str


@dataclass(frozen=True)
class Legacy:
    """A database migrated by orderreport's first release: its revision and schema."""

    revision: str
    schema: str


PLAN_FIELDS = fields_of(Step)


quote = shop_mod.quote  # one quoting rule for identifiers (shop.py holds it)


def qualified(schema: str | None, name: str) -> str:
    return f"{quote(schema)}.{quote(name)}" if schema else quote(name)


def exists(conn: Connection, schema: str | None, name: str) -> bool:
    """True if a relation `name` exists in `schema` (None: the user's current schema)."""
    return bool(
        conn.execute(
            text(
                "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_class c "
                "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
                "WHERE c.relname = :n AND n.nspname = :s)"
            ),
            {"n": name, "s": schema or creation_schema(conn)},
        ).scalar()
    )


def creation_schema(conn: Connection) -> str:
    """The schema the user's own search path creates objects in (their current schema):
    where an empty database gets its shop. The session's own path holds none."""
    known = conn.info.get("user_path")
    path = known if isinstance(known, shop_mod.UserPath) else shop_mod.read_path(conn)
    return path.current or "public"


# Whether a relation is owned by a role orderreport may take it from: the role running
# orderreport, or the owner of the shop's own tables in that schema. A table another role
# merely could create there (PUBLIC may create in `public` before PostgreSQL 15) is not.
_RIGHTFUL = text(
    """
    SELECT c.relowner = (SELECT r.oid FROM pg_catalog.pg_roles r WHERE r.rolname = current_user)
           OR c.relowner IN (SELECT t.relowner FROM pg_catalog.pg_class t
                             WHERE t.relnamespace = c.relnamespace
                               AND t.relname = ANY(CAST(:shop AS text[])))
    FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = :s AND c.relname = :n
    """
)


def rightfully_owned(conn: Connection, schema: str, name: str) -> bool:
    """True if `schema.name` is owned by the running role or by the shop tables' owner."""
    found = conn.execute(
        _RIGHTFUL, {"s": schema, "n": name, "shop": ["orders", "order_items"]}
    ).scalar()
    return bool(found)


# -- orderreport's first release --------------------------------------------------------
def find_legacy(conn: Connection) -> Legacy | None:
    """The first release's history in the shared `alembic_version`, if this is such a database.

    Only a revision of ours there is not enough (an application may number its revisions
    0001 too): the shop must also carry a constraint that only our first revision made.
    """
    if exists(conn, OUR_SCHEMA, shop_mod.VERSION_TABLE):
        return None
    known = conn.info.get("user_path")
    path = known if isinstance(known, shop_mod.UserPath) else shop_mod.read_path(conn)
    # the first alembic_version on the user's path, as an unqualified name would resolve
    schema = next((s for s in path.schemas if exists(conn, s, "alembic_version")), None)
    if schema is None or not rightfully_owned(conn, schema, "alembic_version"):
        return None
    table = qualified(schema, "alembic_version")
    versions = [str(v) for (v,) in conn.execute(text(f"SELECT version_num FROM {table}"))]
    if len(versions) != 1 or versions[0] not in shop_mod.LEGACY_REVISIONS:
        return None
    marked = conn.execute(
        text(
            "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint k "
            "JOIN pg_catalog.pg_namespace n ON n.oid = k.connamespace "
            "WHERE k.conname = :c AND n.nspname = :s)"
        ),
        {"c": LEGACY_MARK, "s": schema},
    ).scalar()
    return Legacy(versions[0], schema) if marked else None


def retire_legacy(conn: Connection, legacy: Legacy) -> None:
    """Drop the first release's `alembic_version`: its history now lives in ours."""
    conn.execute(text(f"DROP TABLE {qualified(legacy.schema, 'alembic_version')}"))


# -- the registry of what orderreport added to the shop ---------------------------------
REGISTRY_DDL = (
    f"CREATE TABLE IF NOT EXISTS {OUR_SCHEMA}.{REGISTRY} ("
    "kind text NOT NULL, name text NOT NULL, revision text NOT NULL, "
    "created_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (kind, name))"
)
DAILY_REPORTS_DDL = (
    f"CREATE TABLE {OUR_SCHEMA}.{DAILY_REPORTS} ("
    "report_date date NOT NULL, time_zone text NOT NULL, "
    "total_orders bigint NOT NULL, total_products bigint NOT NULL, "
    # a day's total can exceed one order's amount; it is still exact
    "total_value numeric NOT NULL, "
    "average_products_per_order numeric(14, 2) NOT NULL, "
    "average_order_value numeric(14, 2) NOT NULL, "
    "generated_at timestamptz NOT NULL DEFAULT now(), "
    # zone first: `daily` and `status` ask for the newest stored day of one zone
    "CONSTRAINT daily_reports_pkey PRIMARY KEY (time_zone, report_date))"
)
# The daily job's run log (revision 0005); models.runs mirrors it.
RUN_STATUSES = ("running", "succeeded", "failed", "busy", "interrupted", "terminated")
RUNS_DDL = (
    f"CREATE TABLE {OUR_SCHEMA}.{RUNS} ("
    "id bigint GENERATED ALWAYS AS IDENTITY, "
    "time_zone text NOT NULL, "
    # true: the days came from what was stored (catch-up); false: --date or --from/--to
    "catch_up boolean NOT NULL, "
    "started_at timestamptz NOT NULL DEFAULT now(), "
    "finished_at timestamptz, "
    "status text NOT NULL DEFAULT 'running' CONSTRAINT runs_status_known CHECK (status IN ("
    + ", ".join(f"'{s}'" for s in RUN_STATUSES)
    + ")), "
    "exit_code integer, "
    "message text, "
    "first_day date, last_day date, "
    "days_planned integer NOT NULL DEFAULT 0, "
    "days_stored integer NOT NULL DEFAULT 0, "
    "days_restated integer NOT NULL DEFAULT 0, "
    "days_changed integer NOT NULL DEFAULT 0, "
    "host text NOT NULL, "
    "pid integer NOT NULL, "
    # the run's server backend, to tell a live run from a dead one (pid alone can be reused)
    "backend_pid integer NOT NULL DEFAULT pg_backend_pid(), "
    "backend_start timestamptz, "
    "version text NOT NULL, "
    "CONSTRAINT runs_pkey PRIMARY KEY (id))"
)
RUNS_COLUMNS = frozenset(
    {
        "id",
        "time_zone",
        "catch_up",
        "started_at",
        "finished_at",
        "status",
        "exit_code",
        "message",
        "first_day",
        "last_day",
        "days_planned",
        "days_stored",
        "days_restated",
        "days_changed",
        "host",
        "pid",
        "backend_pid",
        "backend_start",
        "version",
    }
)
# What `migrate --sql` shows: a database with no shop, whose tables land in public.
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


def create_registry(conn: Connection) -> None:
    conn.execute(text(REGISTRY_DDL))


def create_registry_offline(execute: Callable[[str], object]) -> None:
    execute(REGISTRY_DDL)


def create_ours_offline(execute: Callable[[str], object]) -> None:
    """daily_reports and the view, as `migrate --sql` shows them for an empty database."""
    execute(DAILY_REPORTS_DDL)
    create_view_offline(execute, shop_mod.SUBQUERY)


def create_view_offline(execute: Callable[[str], object], form: str) -> None:
    """The view in `form` for `migrate --sql` (an empty database), replacing any before it."""
    view = qualified(OUR_SCHEMA, VIEW)
    execute(f"DROP VIEW IF EXISTS {view}")
    execute(f"CREATE VIEW {view} AS {shop_mod.view_definition(OFFLINE_SHOP, quote, form)}")
    execute(f"COMMENT ON VIEW {view} IS {shop_mod.sql_string(OFFLINE_SHOP.fingerprint(form))}")


def register(conn: Connection, kind: str, name: str, revision: str) -> None:
    conn.execute(
        text(
            f"INSERT INTO {qualified(OUR_SCHEMA, REGISTRY)} (kind, name, revision) "
            "VALUES (:k, :n, :r) ON CONFLICT DO NOTHING"
        ),
        {"k": kind, "n": name, "r": revision},
    )


def registered(conn: Connection, revision: str) -> list[tuple[str, str]]:
    """(kind, name) of what `revision` added, newest first (the order to remove them)."""
    if not exists(conn, OUR_SCHEMA, REGISTRY):
        return []
    rows = conn.execute(
        text(
            f"SELECT kind, name FROM {qualified(OUR_SCHEMA, REGISTRY)} "
            "WHERE revision = :r ORDER BY created_at DESC, name DESC"
        ),
        {"r": revision},
    )
    return [(str(k), str(n)) for k, n in rows]


def unregister(conn: Connection, kind: str, name: str) -> None:
    conn.execute(
        text(f"DELETE FROM {qualified(OUR_SCHEMA, REGISTRY)} WHERE kind = :k AND name = :n"),
        {"k": kind, "n": name},
    )


# -- timestamps --------------------------------------------------------------------------
def add_timestamps(conn: Connection, shop: Shop, revision: str) -> list[str]:
    """Add orders.created_at / updated_at where missing; return what to tell the user.

    On a table orderreport created (empty) they are NOT NULL DEFAULT now(). On the shop's
    own table they are added without a default first — existing orders get NULL ("no
    date") rather than the migration's clock, and nothing is rewritten — and then given
    DEFAULT now() for the orders to come. Reports leave undated orders out; status counts
    them.
    """
    notes: list[str] = []
    if not shop.exists or not shop.adds_to_shop:
        return notes
    orders = qualified(shop.schema, "orders")
    ours = ("table", f"{shop.schema}.orders") in registered_all(conn)
    for column, present in (
        ("created_at", shop.created_at_type),
        ("updated_at", shop.updated_at_type),
    ):
        if present is not None:
            continue
        if ours:
            conn.execute(
                text(f"ALTER TABLE {orders} ADD COLUMN {column} timestamptz NOT NULL DEFAULT now()")
            )
        else:
            conn.execute(text(f"ALTER TABLE {orders} ADD COLUMN {column} timestamptz"))
            conn.execute(text(f"ALTER TABLE {orders} ALTER COLUMN {column} SET DEFAULT now()"))
            if column == "created_at":
                undated = conn.execute(text(f"SELECT count(*) FROM {orders}")).scalar_one()
                notes.append(
                    f"added {shop.schema}.orders.created_at: the {undated:,} orders already "
                    "there have no date (NULL) and are in no report; new orders get now()"
                )
        register(conn, "column", f"{shop.schema}.orders.{column}", revision)
    return notes


def registered_all(conn: Connection) -> set[tuple[str, str]]:
    if not exists(conn, OUR_SCHEMA, REGISTRY):
        return set()
    rows = conn.execute(text(f"SELECT kind, name FROM {qualified(OUR_SCHEMA, REGISTRY)}"))
    return {(str(k), str(n)) for k, n in rows}


def drop_registered(conn: Connection, revision: str) -> None:
    """Downgrade: remove what `revision` added to the shop, and nothing else."""
    tables: list[str] = []
    for kind, name in registered(conn, revision):
        parts = name.split(".")
        if kind == "column":
            schema, table, column = parts
            conn.execute(
                text(
                    f"ALTER TABLE {qualified(schema, table)} DROP COLUMN IF EXISTS {quote(column)}"
                )
            )
        elif kind == "index":
            conn.execute(text(f"DROP INDEX IF EXISTS {qualified(parts[0], parts[1])}"))
        elif kind == "table":
            tables.append(qualified(parts[0], parts[1]))
        unregister(conn, kind, name)
    if tables:  # in one statement: PostgreSQL orders the foreign keys among them
        conn.execute(text(f"DROP TABLE IF EXISTS {', '.join(tables)}"))


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


_INDEXES = text(
    """
    SELECT i.indexrelid::regclass::text AS name, ic.relname AS short, i.indisvalid AS valid,
           a.attname AS leading
    FROM pg_catalog.pg_index i
    JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
    JOIN pg_catalog.pg_class t ON t.oid = i.indrelid
    JOIN pg_catalog.pg_namespace n ON n.oid = t.relnamespace
    LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = t.oid AND a.attnum = i.indkey[0]
    WHERE n.nspname = :schema AND t.relname = :table
    """
)


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


def index_states(conn: Connection, shop: Shop) -> list[IndexState]:
    states = []
    for name, table, column in needed_indexes(shop):
        usable: str | None = None
        invalid = False
        for row in conn.execute(_INDEXES, {"schema": shop.schema, "table": table}):
            if row.short == name and not row.valid:
                invalid = True
            elif row.leading == column and row.valid and usable is None:
                usable = str(row.short)
        states.append(IndexState(name, table, column, usable, invalid, shop.schema))
    return states


def build_indexes(
    conn: Connection,
    shop: Shop,
    revision: str,
    autocommit: Callable[[], contextlib.AbstractContextManager[None]],
    *,
    asked: bool = False,
) -> list[str]:
    """Build the indexes the reports need where no valid one exists; return what was built.

    Only on the old service's own schema (Shop.adds_to_shop), or on a platform's tables
    when `asked` (migrate --build-indexes): the platform's application owns those. On
    the shop's own tables: CONCURRENTLY, outside a transaction (autocommit), so the
    shop's writes go on; an index left invalid by a failed concurrent build is dropped and
    built again. On tables orderreport just created (empty) a plain CREATE INDEX. On a
    partitioned table each partition's index is built concurrently, then attached to an
    index made ON ONLY the parent, which is how PostgreSQL allows it.
    """
    if not shop.adds_to_shop and not asked:
        return []
    built: list[str] = []
    tables = registered_all(conn)
    for state in index_states(conn, shop):
        if state.usable is not None and not state.invalid:
            continue
        target = qualified(shop.schema, state.table)
        index = qualified(shop.schema, state.name)
        if ("table", f"{shop.schema}.{state.table}") in tables:
            conn.execute(
                text(f"CREATE INDEX {quote(state.name)} ON {target} ({quote(state.column)})")
            )
            register(conn, "index", f"{shop.schema}.{state.name}", revision)
            continue
        if state.usable is not None:  # only our own invalid leftover to clear away
            with autocommit():
                conn.execute(text(f"DROP INDEX CONCURRENTLY IF EXISTS {index}"))
            continue
        with autocommit():
            if state.invalid:
                conn.execute(text(f"DROP INDEX CONCURRENTLY IF EXISTS {index}"))
            if _partitioned(conn, shop.schema, state.table):
                _build_partitioned(conn, shop.schema, state)
            else:
                conn.execute(text(state.statement))
            register(conn, "index", f"{shop.schema}.{state.name}", revision)
        built.append(f"built {shop.schema}.{state.name} on {state.table}({state.column})")
    return built


def _partitioned(conn: Connection, schema: str | None, table: str) -> bool:
    return bool(
        conn.execute(
            text(
                "SELECT c.relkind = 'p' FROM pg_class c JOIN pg_namespace n "
                "ON n.oid = c.relnamespace WHERE n.nspname = :s AND c.relname = :t"
            ),
            {"s": schema, "t": table},
        ).scalar()
    )


def _build_partitioned(conn: Connection, schema: str | None, state: IndexState) -> None:
    """Per partition, concurrently; then attach each to the parent's ON ONLY index."""
    column = quote(state.column)
    conn.execute(
        text(
            f"CREATE INDEX IF NOT EXISTS {quote(state.name)} "
            f"ON ONLY {qualified(schema, state.table)} ({column})"
        )
    )
    parts = conn.execute(
        text(
            "SELECT n.nspname, c.relname FROM pg_inherits i "
            "JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE i.inhparent = CAST(pg_catalog.to_regclass(CAST(:parent AS text)) AS oid) "
            "ORDER BY 2"
        ),
        {"parent": qualified(schema, state.table)},
    ).all()
    for part_schema, part in parts:
        name = f"{part}_{state.column}_idx"[:63]
        part_index = qualified(str(part_schema), name)
        conn.execute(text(f"DROP INDEX CONCURRENTLY IF EXISTS {part_index}"))
        conn.execute(
            text(
                f"CREATE INDEX CONCURRENTLY {quote(name)} "
                f"ON {qualified(str(part_schema), str(part))} ({column})"
            )
        )
        conn.execute(
            text(f"ALTER INDEX {qualified(schema, state.name)} ATTACH PARTITION {part_index}")
        )


# -- orderreport's own objects -----------------------------------------------------------
def create_daily_reports(conn: Connection, legacy: Legacy | None, adopt: bool) -> str:
    """orderreport.daily_reports: moved from the first release's schema, or created.

    Returns what was done. An existing table of that name that is not ours is adopted only
    with `adopt` (and only if it has the columns orderreport writes).
    """
    if (
        legacy is not None
        and exists(conn, legacy.schema, DAILY_REPORTS)
        and rightfully_owned(conn, legacy.schema, DAILY_REPORTS)
    ):
        old = qualified(legacy.schema, DAILY_REPORTS)
        conn.execute(text(f"ALTER TABLE {old} SET SCHEMA {quote(OUR_SCHEMA)}"))
        return f"moved {legacy.schema}.daily_reports to {OUR_SCHEMA}.daily_reports, rows kept"
    if exists(conn, OUR_SCHEMA, DAILY_REPORTS):
        if not adopt:
            raise ObjectExists(
                f"{OUR_SCHEMA}.daily_reports already exists and was not created by orderreport: "
                "rename it, or rerun with --adopt to take it as orderreport's"
            )
        return f"adopted the existing {OUR_SCHEMA}.daily_reports"
    conn.execute(text(DAILY_REPORTS_DDL))
    return f"created {OUR_SCHEMA}.daily_reports"


def create_runs(conn: Connection, adopt: bool) -> str:
    """orderreport.runs, the run log; returns what was done.

    A table of that name that orderreport did not create is taken only with `adopt`, and
    only if it has every column the run log writes: its rows are never dropped.
    """
    if exists(conn, OUR_SCHEMA, RUNS):
        found = {
            str(c)
            for (c,) in conn.execute(
                text(
                    "SELECT column_name FROM information_schema.columns "
                    "WHERE table_schema = :s AND table_name = :t"
                ),
                {"s": OUR_SCHEMA, "t": RUNS},
            )
        }
        if not adopt or not found >= RUNS_COLUMNS:
            raise ObjectExists(
                f"{OUR_SCHEMA}.{RUNS} already exists and was not created by orderreport: "
                "rename it"
                + ("" if adopt else ", or rerun with --adopt if it is a copy of orderreport's")
            )
        return f"adopted the existing {OUR_SCHEMA}.{RUNS}"
    conn.execute(text(RUNS_DDL))
    return f"created {OUR_SCHEMA}.{RUNS}"


def view_comment(conn: Connection) -> str | None:
    """The comment on orderreport.order_reports ('' if it has none), None if it is absent."""
    row = conn.execute(
        text(
            "SELECT pg_catalog.to_regclass(CAST(:v AS text)) IS NOT NULL, "
            "COALESCE(pg_catalog.obj_description("
            "CAST(pg_catalog.to_regclass(CAST(:v AS text)) AS oid), CAST('pg_class' AS name)), '')"
        ),
        {"v": f"{quote(OUR_SCHEMA)}.{quote(VIEW)}"},
    ).one()
    return str(row[1]) if row[0] else None


def ensure_view(
    conn: Connection, shop: Shop, adopt: bool, form: str = shop_mod.VIEW_FORM
) -> str | None:
    """Create or rebuild orderreport.order_reports for `shop` in `form` (older revisions
    build older forms); None if it is already right.

    The view's comment records what it was built for (Shop.fingerprint); a view of that
    name without such a comment is not ours and is replaced only with `adopt`.
    """
    comment = view_comment(conn)
    wanted = shop.fingerprint(form)
    if comment == wanted:
        return None
    view = qualified(OUR_SCHEMA, VIEW)
    if comment is not None and not comment.startswith(VIEW_MARK) and not adopt:
        raise ObjectExists(
            f"{OUR_SCHEMA}.{VIEW} already exists and was not created by orderreport: "
            "rename it, or rerun with --adopt to replace it with orderreport's view"
        )
    body = shop_mod.view_definition(shop, quote, form)
    # Built under a search path of the system's alone: every function and operator in it
    # binds to pg_catalog's (or to what the source's SQL names explicitly), whatever another
    # role planted in a schema on the user's path. Replaced in place where the columns
    # allow (its grants stay); else dropped and created.
    path = conn.execute(text("SELECT pg_catalog.current_setting('search_path')")).scalar()
    conn.execute(text("SELECT pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true)"))
    replaced = False
    grants: list[str] = []
    if comment is not None:
        try:
            with conn.begin_nested():
                conn.execute(text(f"CREATE OR REPLACE VIEW {view} AS {body}"))
            replaced = True
        except DBAPIError:  # a column changed type or went away: not replaceable in place
            grants = view_grants(conn)
            conn.execute(text(f"DROP VIEW {view}"))
    if not replaced:
        conn.execute(text(f"CREATE VIEW {view} AS {body}"))
        for grant in grants:  # the reporting roles keep reading it
            conn.execute(text(grant))
    conn.execute(text(f"COMMENT ON VIEW {view} IS {shop_mod.sql_string(wanted)}"))
    conn.execute(text("SELECT pg_catalog.set_config('search_path', :p, true)"), {"p": path})
    verb = "created" if comment is None else "rebuilt"
    return f"{verb} {OUR_SCHEMA}.{VIEW} ({wanted.removeprefix(VIEW_MARK).strip()})"


_VIEW_ACL = text(
    f"""
    SELECT a.privilege_type AS privilege, a.is_grantable AS grantable,
           CASE WHEN a.grantee = 0 THEN 'PUBLIC'
                ELSE pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(a.grantee)) END AS role
    FROM pg_catalog.pg_class c, pg_catalog.aclexplode(c.relacl) a
    WHERE c.oid = CAST(pg_catalog.to_regclass('{OUR_SCHEMA}.{VIEW}') AS oid)
      AND a.grantee <> c.relowner
    ORDER BY 3, 1
    """
)


def view_grants(conn: Connection) -> list[str]:
    """The GRANTs that give the view's current privileges back to its readers (its owner's
    aside), for a rebuild that must drop it."""
    return [
        f"GRANT {r.privilege} ON {qualified(OUR_SCHEMA, VIEW)} TO {r.role}"
        + (" WITH GRANT OPTION" if r.grantable else "")
        for r in conn.execute(_VIEW_ACL)
    ]


def undated_orders(conn: Connection, shop: Shop) -> int | None:
    """Orders with no created_at (NULL): in no report. None if the column is missing."""
    src = shop.source
    if shop.created_at_type is None or src.is_query or src.orders is None:
        return None
    assert src.placed_at is not None
    orders = qualified(shop.schema, src.orders)
    return int(
        conn.execute(
            text(f"SELECT count(*) FROM {orders} WHERE {quote(src.placed_at)} IS NULL")
        ).scalar_one()
    )


def orders_without_amount(conn: Connection, shop: Shop) -> int | None:
    """Orders that count but have no amount (NULL): worth 0 in the figures, shown without an
    amount in reports. None for a query source (its rows are its own)."""
    src = shop.source
    if not shop.exists or src.is_query or src.orders is None or shop.created_at_type is None:
        return None
    assert src.placed_at is not None and src.amount is not None
    amount = shop_mod.amount_sql(shop, quote)
    counts = f" AND ({shop_mod.fill_schema(src.where, shop.schema)})" if src.where else ""
    sql = (
        f"SELECT count(*) FROM {qualified(shop.schema, src.orders)} o "
        f"WHERE ({amount}) IS NULL AND o.{quote(src.placed_at)} IS NOT NULL{counts}"
    )
    return int(conn.execute(text(sql)).scalar_one())


# -- the plan ----------------------------------------------------------------------------
def refuse_foreign(conn: Connection, shop: Shop) -> None:
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


def plan(
    conn: Connection,
    shop: Shop,
    legacy: Legacy | None,
    revision: str | None,
    head: str,
    *,
    build_asked: bool = False,
) -> list[Step]:
    """What `migrate` would do to this database, step by step; touches nothing.

    Raises Refused where migrate would refuse (tables, but no shop it can read).
    """
    refuse_foreign(conn, shop)
    steps: list[Step] = []
    where = shop.schema or creation_schema(conn)
    if shop.exists:
        steps.extend(source_steps(shop))
    else:
        steps.append(
            Step(
                "create",
                f"{where}.users, products, orders, order_items",
                "the database has no tables: an empty shop of the seed's schema",
            )
        )
    if legacy is not None:
        steps.append(
            Step(
                "move",
                f"{legacy.schema}.alembic_version ({legacy.revision})",
                f"the first release's history: moves to {OUR_SCHEMA}.{shop_mod.VERSION_TABLE}",
            )
        )
    elif revision is None:
        steps.append(
            Step("create", f"{OUR_SCHEMA}.{shop_mod.VERSION_TABLE}", "orderreport's own history")
        )
    if legacy is None and exists(conn, where, "alembic_version"):
        steps.append(
            Step("leave", f"{where}.alembic_version", "another application's history: not touched")
        )
    if shop.exists and shop.adds_to_shop:
        for column, kind in (
            ("created_at", shop.created_at_type),
            ("updated_at", shop.updated_at_type),
        ):
            if kind is None:
                steps.append(
                    Step(
                        "add",
                        f"{where}.orders.{column}",
                        "timestamptz DEFAULT now(); existing orders get no date (NULL), no rewrite",
                    )
                )
    if shop.exists:
        steps.extend(index_steps(conn, shop, build_asked))
    if exists(conn, where, VIEW):
        what = (
            "orderreport's first release: replaced by"
            if legacy
            else "not orderreport's: left as it is; orderreport's is"
        )
        steps.append(
            Step(
                "leave" if legacy is None else "replace",
                f"{where}.{VIEW}",
                f"{what} {OUR_SCHEMA}.{VIEW}",
            )
        )
    if revision != head:
        if legacy is not None and exists(conn, legacy.schema, DAILY_REPORTS):
            steps.append(
                Step(
                    "move",
                    f"{legacy.schema}.daily_reports",
                    f"to {OUR_SCHEMA}.daily_reports, rows kept",
                )
            )
        elif exists(conn, OUR_SCHEMA, DAILY_REPORTS) and revision is None:
            steps.append(
                Step(
                    "conflict",
                    f"{OUR_SCHEMA}.daily_reports",
                    "exists and is not orderreport's: --adopt takes it",
                )
            )
        elif not exists(conn, OUR_SCHEMA, DAILY_REPORTS):
            steps.append(
                Step("create", f"{OUR_SCHEMA}.daily_reports", "the stored daily summaries")
            )
        elif revision is not None and revision < CURRENCY_REVISION:
            steps.append(
                Step(
                    "add",
                    f"{OUR_SCHEMA}.daily_reports.currency",
                    "a row per zone, day and currency; stored days keep their figures",
                )
            )
        # the run log came with 0005: from then on a table of that name is ours
        if exists(conn, OUR_SCHEMA, RUNS):
            if revision is None or revision < RUNS_REVISION:
                steps.append(
                    Step("conflict", f"{OUR_SCHEMA}.{RUNS}", "exists and is not orderreport's")
                )
        else:
            steps.append(Step("create", f"{OUR_SCHEMA}.{RUNS}", "the daily job's run log"))
    comment = view_comment(conn)
    if comment is None:
        steps.append(Step("create", f"{OUR_SCHEMA}.{VIEW}", "one row per order that counts"))
    elif not comment.startswith(VIEW_MARK):
        steps.append(
            Step(
                "conflict",
                f"{OUR_SCHEMA}.{VIEW}",
                "exists and is not orderreport's: --adopt replaces it",
            )
        )
    elif shop.exists and comment == shop.fingerprint(shop_mod.SUBQUERY):
        steps.append(
            Step(
                "replace",
                f"{OUR_SCHEMA}.{VIEW}",
                "rebuilt to count each order's lines once, with each order's currency",
            )
        )
    elif shop.exists and comment == shop.fingerprint(shop_mod.LATERAL):
        steps.append(Step("replace", f"{OUR_SCHEMA}.{VIEW}", "rebuilt with each order's currency"))
    elif shop.exists and comment != shop.fingerprint():
        steps.append(Step("replace", f"{OUR_SCHEMA}.{VIEW}", "built for other settings: rebuilt"))
    if revision == head and all(s.action in ("keep", "leave", "advise") for s in steps):
        steps.append(Step("keep", f"{OUR_SCHEMA}", f"at {head} (head): nothing to do"))
    return steps


RUNS_REVISION = "0005"
CURRENCY_REVISION = "0007"


def index_steps(conn: Connection, shop: Shop, build_asked: bool) -> list[Step]:
    """Each index a day's report needs: kept, built, or (on a platform's tables) advised
    with the exact statement, built only when asked (--build-indexes)."""
    steps = []
    where = shop.schema
    for state in index_states(conn, shop):
        if state.usable and not state.invalid:
            steps.append(
                Step("keep", f"{where}.{state.usable}", f"serves {state.table}({state.column})")
            )
        elif not shop.adds_to_shop and not build_asked:
            steps.append(
                Step(
                    "advise",
                    f"{where}.{state.name}",
                    f"{state.table}({state.column}) has no index, so a day reads every row: "
                    f"`{state.statement}` (or migrate --build-indexes)",
                )
            )
        elif state.invalid:
            steps.append(
                Step(
                    "rebuild",
                    f"{where}.{state.name}",
                    "invalid (a failed concurrent build): dropped, built again CONCURRENTLY",
                )
            )
        elif state.column == "created_at" and shop.created_at_type is None:
            steps.append(
                Step(
                    "build",
                    f"{where}.{state.name}",
                    f"on {state.table}({state.column}), CONCURRENTLY, once the column exists",
                )
            )
        else:
            steps.append(
                Step(
                    "build",
                    f"{where}.{state.name}",
                    f"on {state.table}({state.column}), CONCURRENTLY (writes go on)",
                )
            )
    return steps
