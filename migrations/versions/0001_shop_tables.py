"""orderreport's registry, and the shop's tables — only in a database that has no shop.

A database that already has `orders` (in any schema) keeps its tables exactly as they are.
In an empty one this creates a small shop: users, products, orders, order_items, money as
NUMERIC(12,2), never float. What it creates is written in orderreport.created_objects,
and a downgrade drops only that.

Revision ID: 0001
Revises:
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op

from orderreport import objects, schema
from orderreport import shop as shop_mod
from orderreport.objects import OUR_SCHEMA
from orderreport.schema import revisions as migrating

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MONEY = sa.Numeric(12, 2)
TABLES = ("users", "products", "orders", "order_items")
# The DDL this revision applies, kept here as it was applied (a later edit of schema.py
# must not change what this revision does to a database).
REGISTRY = (
    "CREATE TABLE IF NOT EXISTS orderreport.created_objects ("
    "kind text NOT NULL, name text NOT NULL, revision text NOT NULL, "
    "created_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (kind, name))"
)


def create_shop_tables(where: str | None) -> None:
    prefix = f"{where}." if where else ""
    op.create_table(
        "users",
        sa.Column("id", sa.Integer, sa.Identity(), primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("email", sa.Text, nullable=False, unique=True),
        schema=where,
    )
    op.create_table(
        "products",
        sa.Column("id", sa.Integer, sa.Identity(), primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("price", MONEY, nullable=False),
        sa.Column("stock", sa.Integer, nullable=False, server_default="0"),
        sa.CheckConstraint("price >= 0", name="products_price_nonnegative"),
        sa.CheckConstraint("stock >= 0", name="products_stock_nonnegative"),
        schema=where,
    )
    op.create_table(
        "orders",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey(f"{prefix}users.id"), nullable=False),
        sa.Column("total_amount", MONEY, nullable=False),
        sa.Column("status", sa.String(20), nullable=False, server_default="pending"),
        schema=where,
    )
    op.create_table(
        "order_items",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column(
            "order_id",
            sa.BigInteger,
            sa.ForeignKey(f"{prefix}orders.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("product_id", sa.Integer, sa.ForeignKey(f"{prefix}products.id"), nullable=False),
        sa.Column("quantity", sa.Integer, nullable=False),
        sa.Column("price", MONEY, nullable=False),
        sa.CheckConstraint("quantity > 0", name="order_items_quantity_positive"),
        schema=where,
    )
    op.create_index("ix_orders_user_id", "orders", ["user_id"], schema=where)


def upgrade() -> None:
    if context.is_offline_mode():  # --sql: the DDL for an empty database
        op.execute(REGISTRY)
        create_shop_tables(None)
        return
    steps(migrating.walk())


def steps(walk: schema.Walk) -> None:
    """What this revision does (applying) or would do (`migrate --plan`)."""
    walk.revision(revision, __doc__)
    schema.create_registry(walk, REGISTRY)
    named = walk.shop.schema is not None  # a schema set by name may not exist yet

    def create(where: str) -> None:
        if named:
            op.execute(f"CREATE SCHEMA IF NOT EXISTS {shop_mod.quote(where)}")
        create_shop_tables(where)

    schema.create_shop(walk, revision, TABLES, create)


def downgrade() -> None:
    conn = migrating.connection()
    schema.drop_registered(conn, revision)
    op.execute(f"DROP TABLE IF EXISTS {OUR_SCHEMA}.{objects.REGISTRY}")
