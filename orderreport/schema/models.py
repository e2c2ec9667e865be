"""The tables orderreport creates, and the `order_reports` view mapped as a table.

The migrations in migrations/versions are the source of truth for the schema; these
definitions mirror what they create in an empty database (pytest-alembic's check compares
the two). A real shop's tables may differ in every type: nothing reads the shop's tables
through these models; reports read orderreport.order_reports, built for the shop as found
(shop/). The view is in its own MetaData so nothing ever emits CREATE TABLE for it.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from orderreport.objects import OUR_SCHEMA, VIEW

MONEY = Numeric(12, 2)

metadata = MetaData()
views_metadata = MetaData()

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", Text, nullable=False),
    Column("email", Text, nullable=False),
    UniqueConstraint("email", name="users_email_key"),
)

products = Table(
    "products",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", Text, nullable=False),
    Column("price", MONEY, nullable=False),
    Column("stock", Integer, nullable=False),
)

orders = Table(
    "orders",
    metadata,
    Column("id", BigInteger, primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id"), nullable=False),
    Column("total_amount", MONEY, nullable=False),
    Column("status", String(20), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index("ix_orders_user_id", "user_id"),
    Index("ix_orders_created_at", "created_at"),
)

order_items = Table(
    "order_items",
    metadata,
    Column("id", BigInteger, primary_key=True),
    Column("order_id", BigInteger, ForeignKey("orders.id", ondelete="CASCADE"), nullable=False),
    Column("product_id", Integer, ForeignKey("products.id"), nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("price", MONEY, nullable=False),
    Index("ix_order_items_order_id", "order_id"),
)

daily_reports = Table(
    "daily_reports",
    metadata,
    Column("report_date", Date, primary_key=True),
    Column("time_zone", Text, primary_key=True),
    # '' for a shop without a currency (a key column cannot be NULL)
    Column("currency", Text, primary_key=True, server_default=""),
    Column("total_orders", BigInteger, nullable=False),
    Column("total_products", BigInteger, nullable=False),
    Column("total_value", Numeric, nullable=False),
    Column("average_products_per_order", Numeric, nullable=False),
    Column("average_order_value", Numeric, nullable=False),
    Column("generated_at", DateTime(timezone=True), nullable=False),
    schema=OUR_SCHEMA,
)

# What orderreport added to the shop's tables, so a downgrade removes only that.
created_objects = Table(
    "created_objects",
    metadata,
    Column("kind", Text, primary_key=True),
    Column("name", Text, primary_key=True),
    Column("revision", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    schema=OUR_SCHEMA,
)

# The daily job's run log: one row per `orderreport daily` (runs.py writes and reads it).
runs = Table(
    "runs",
    metadata,
    Column("id", BigInteger, Identity(always=True), primary_key=True),
    Column("time_zone", Text, nullable=False),
    Column("catch_up", Boolean, nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True)),
    Column("status", Text, nullable=False),
    Column("exit_code", Integer),
    Column("message", Text),
    Column("first_day", Date),
    Column("last_day", Date),
    Column("days_planned", Integer, nullable=False),
    Column("days_stored", Integer, nullable=False),
    Column("days_restated", Integer, nullable=False),
    Column("days_changed", Integer, nullable=False),
    Column("host", Text, nullable=False),
    Column("pid", Integer, nullable=False),
    Column("backend_pid", Integer, nullable=False),
    Column("backend_start", DateTime(timezone=True)),
    Column("version", Text, nullable=False),
    schema=OUR_SCHEMA,
)

order_reports = Table(
    VIEW,
    views_metadata,
    Column("report_at", Date),
    Column("order_id", BigInteger),
    Column("count_product", BigInteger),
    Column("total_amount", Numeric),
    Column("created_at", DateTime(timezone=True)),  # naive in a shop that stores it so
    Column("currency", Text),
    schema=OUR_SCHEMA,
)
