"""orderreport.schema.catalog."""

from __future__ import annotations

from dataclasses import dataclass

from psycopg import sql

from orderreport import db, objects
from orderreport.objects import OUR_SCHEMA, QUALIFIED_VIEW, REGISTRY, VIEW, VIEW_COMMENT_SQL
from orderreport.shop.checks import Conn, exists, scalar
from orderreport.shop.sql import ident, qualified

LEGACY_MARK = "products_price_nonnegative"  # a constraint only orderreport's 0001 created


@dataclass(frozen=True)
class Legacy:
    """A database migrated by orderreport's first release: its revision and schema."""

    revision: str
    schema: str


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


def runs_columns() -> frozenset[str]:
    """Every column the run log writes: models.runs's (SQLAlchemy, so imported here, on the
    migration side only: the reports never import it)."""
    from orderreport.schema import models

    return frozenset(c.name for c in models.runs.c)


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


def _partitioned(conn: Conn, schema: str | None, table: str) -> bool:
    return bool(
        scalar(
            conn,
            "SELECT c.relkind = 'p' FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n "
            "ON n.oid = c.relnamespace WHERE n.nspname = %(s)s AND c.relname = %(t)s",
            {"s": schema, "t": table},
        )
    )


def view_comment(conn: Conn) -> str | None:
    """The comment on orderreport.order_reports ('' if it has none), None if it is absent."""
    row = conn.execute(
        f"SELECT pg_catalog.to_regclass(CAST(%(v)s AS text)) IS NOT NULL, {VIEW_COMMENT_SQL}",
        {"v": QUALIFIED_VIEW},
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


def _schema_exists(conn: Conn, name: str) -> bool:
    return bool(
        scalar(
            conn,
            "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = %(n)s)",
            {"n": name},
        )
    )
