"""A deterministic sample shop, generated inside PostgreSQL (no row-by-row inserts).

The same --seed, --days and --orders-per-day on an empty database give the same shop.
Everything is loaded in one transaction: an interrupted demo leaves nothing behind.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import Connection, Date, bindparam, text

from orderreport.errors import Refused
from orderreport.schema import REGISTRY, exists, quote
from orderreport.shop import OUR_SCHEMA, Shop

USERS = 1000
PRODUCTS = 200


@dataclass(frozen=True)
class DemoResult:
    """What was loaded: the first and last day and the row counts."""

    start: date
    end: date
    users: int
    products: int
    orders: int
    order_items: int


def _seed_value(seed: int, salt: int) -> float:
    # setseed() takes a double in [-1, 1]; derive one per day from the user's seed
    return ((seed * 1_000_003 + salt * 7_919) % 2_000_000) / 1_000_000 - 1


# One pair of scratch tables for the whole load, emptied each day: creating and dropping a
# pair per day kept a lock per table until the commit, and ten years of days ran out of
# the server's lock table ("out of shared memory").
_SCRATCH = (
    "CREATE TEMP TABLE demo_orders "
    "(id bigint, created_at timestamptz, user_id int, status text, lines int)",
    "CREATE TEMP TABLE demo_lines (order_id bigint, product_id int, quantity int)",
)

_ORDERS = text(
    """
    INSERT INTO demo_orders
    SELECT nextval(pg_get_serial_sequence('orders', 'id')) AS id, s.*
    FROM (
        SELECT CAST(:day AS date)::timestamptz
                 + random() * ((CAST(:day AS date) + 1)::timestamptz
                               - CAST(:day AS date)::timestamptz) AS created_at,
               :umin + floor(random() * :users)::int AS user_id,
               (ARRAY['paid','paid','paid','shipped','shipped','pending','cancelled'])
                 [1 + floor(random() * 7)::int] AS status,
               (ARRAY[0, 1, 1, 2, 2, 2, 3, 3, 4])[1 + floor(random() * 9)::int] AS lines
        FROM generate_series(1, :n)
        ORDER BY 1
    ) AS s
    """
).bindparams(bindparam("day", type_=Date))

_LINES = text(
    """
    INSERT INTO demo_lines
    SELECT o.id AS order_id,
           :pmin + floor(random() * :products)::int AS product_id,
           1 + floor(random() * 3)::int AS quantity
    FROM demo_orders o, generate_series(1, o.lines)
    """
)

_INSERT_ORDERS = text(
    """
    INSERT INTO orders (id, user_id, total_amount, status, created_at, updated_at)
    SELECT o.id, o.user_id, COALESCE(t.total, 0), o.status, o.created_at, o.created_at
    FROM demo_orders o
    LEFT JOIN (
        SELECT l.order_id, SUM(l.quantity * p.price) AS total
        FROM demo_lines l JOIN products p ON p.id = l.product_id
        GROUP BY l.order_id
    ) t ON t.order_id = o.id
    ORDER BY o.id
    """
)

_INSERT_ITEMS = text(
    """
    INSERT INTO order_items (order_id, product_id, quantity, price)
    SELECT l.order_id, l.product_id, l.quantity, p.price
    FROM demo_lines l JOIN products p ON p.id = l.product_id
    ORDER BY l.order_id
    """
)


# PostgreSQL's own advice for bulk loads ("Populating a Database"): drop foreign keys and
# secondary indexes, load, then recreate them — one validating join and one sorted index
# build each, instead of a check and an index insertion per row. The definitions are read
# back from the catalog, so the recreated objects are exactly the migrated ones. All of it
# happens inside the demo's one transaction: on failure, the rollback restores them.
_BULK_LOAD_OBJECTS = text(
    """
    SELECT 'ALTER TABLE ' || conrelid::regclass || ' DROP CONSTRAINT ' || quote_ident(conname),
           'ALTER TABLE ' || conrelid::regclass || ' ADD CONSTRAINT ' || quote_ident(conname)
               || ' ' || pg_get_constraintdef(oid)
    FROM pg_constraint
    WHERE contype = 'f' AND conrelid IN ('orders'::regclass, 'order_items'::regclass)
    UNION ALL
    SELECT 'DROP INDEX ' || i.indexrelid::regclass, pg_get_indexdef(i.indexrelid)
    FROM pg_index i
    WHERE i.indrelid IN ('orders'::regclass, 'order_items'::regclass)
      AND NOT i.indisprimary AND NOT i.indisunique
    """
)


_RELATIONS = text(
    """
    SELECT n.nspname || '.' || c.relname
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f')
      AND n.nspname NOT IN ('pg_catalog', 'information_schema', :ours)
      AND n.nspname NOT LIKE 'pg\\_%'
    ORDER BY 1
    """
)


def refuse_unless_empty(conn: Connection) -> None:
    """Raise Refused if the database has any table or view that orderreport did not create.

    Sample data never reaches a real database: the shop's tables may be in any schema, so
    every schema is looked at, before `demo` migrates or loads anything.
    """
    found = [str(name) for (name,) in conn.execute(_RELATIONS, {"ours": OUR_SCHEMA})]
    if found and exists(conn, OUR_SCHEMA, REGISTRY):
        ours = {
            str(name)
            for (name,) in conn.execute(
                text(f"SELECT name FROM {OUR_SCHEMA}.{quote(REGISTRY)} WHERE kind = 'table'")
            )
        }
        found = [name for name in found if name not in ours]
    if found:
        shown = ", ".join(found[:3]) + (f" and {len(found) - 3} more" if len(found) > 3 else "")
        raise Refused(
            f"the database has tables orderreport did not create ({shown}): demo only loads "
            "sample data into an empty database"
        )


def load_demo(
    session: Connection,
    shop: Shop,
    *,
    today: date,
    days: int,
    orders_per_day: int,
    seed: int,
    progress: Callable[[date], None] = lambda _day: None,
) -> DemoResult:
    """Load `days` days of orders ending yesterday (shop time) into an empty shop.

    Raises Refused if the shop already has users, products or orders. Calls `progress`
    after each day. The caller commits.
    """
    # the shop's tables by their plain names, in the schema where migrate created them
    session.execute(
        text("SELECT set_config('search_path', :p, true)"), {"p": quote(shop.schema or "public")}
    )
    # Lock out concurrent writers for the check-then-load; released at commit.
    session.execute(text("LOCK TABLE users, products, orders IN EXCLUSIVE MODE"))
    counts = session.execute(
        text(
            "SELECT (SELECT count(*) FROM orders) AS orders, "
            "(SELECT count(*) FROM users) AS users, (SELECT count(*) FROM products) AS products"
        )
    ).one()
    if counts.orders or counts.users or counts.products:
        raise Refused(
            f"the database already has {counts.orders} orders, {counts.users} users and "
            f"{counts.products} products: demo only loads sample data into an empty shop"
        )
    session.execute(text("SELECT setseed(:s)"), {"s": _seed_value(seed, 0)})
    session.execute(
        text(
            "INSERT INTO users (name, email) SELECT 'Customer ' || g, "
            "'customer' || g || '@example.com' FROM generate_series(1, :n) g"
        ),
        {"n": USERS},
    )
    session.execute(
        text(
            "INSERT INTO products (name, price, stock) SELECT 'Product ' || g, "
            "round((1 + random() * 499)::numeric, 2), floor(random() * 1000)::int "
            "FROM generate_series(1, :n) g"
        ),
        {"n": PRODUCTS},
    )
    session.execute(text("SET LOCAL maintenance_work_mem = '256MB'"))
    rebuild = session.execute(_BULK_LOAD_OBJECTS).all()
    for drop, _ in rebuild:
        session.execute(text(drop))
    umin = session.execute(text("SELECT min(id) FROM users")).scalar_one()
    pmin = session.execute(text("SELECT min(id) FROM products")).scalar_one()
    start = today - timedelta(days=days)
    for statement in _SCRATCH:
        session.execute(text(statement))
    for i in range(days):
        day = start + timedelta(days=i)
        session.execute(text("TRUNCATE demo_orders, demo_lines"))
        session.execute(text("SELECT setseed(:s)"), {"s": _seed_value(seed, i + 1)})
        session.execute(_ORDERS, {"day": day, "n": orders_per_day, "umin": umin, "users": USERS})
        session.execute(_LINES, {"pmin": pmin, "products": PRODUCTS})
        session.execute(_INSERT_ORDERS)
        session.execute(_INSERT_ITEMS)
        progress(day)
    session.execute(text("DROP TABLE demo_orders, demo_lines"))
    for _, create in rebuild:
        session.execute(text(create))
    session.execute(text("ANALYZE users, products, orders, order_items"))
    totals = session.execute(
        text("SELECT (SELECT count(*) FROM orders) AS o, (SELECT count(*) FROM order_items) AS i")
    ).one()
    return DemoResult(
        start=start,
        end=today - timedelta(days=1),
        users=USERS,
        products=PRODUCTS,
        orders=totals.o,
        order_items=totals.i,
    )
