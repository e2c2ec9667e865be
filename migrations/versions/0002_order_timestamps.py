"""orders.created_at and updated_at: TIMESTAMPTZ NOT NULL, defaulting to the database's clock.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    for name in ("created_at", "updated_at"):
        op.add_column(
            "orders",
            sa.Column(
                name, sa.DateTime(timezone=True), nullable=False, server_default=sa.text("now()")
            ),
        )
    # A report day is a range on created_at ([local midnight, next local midnight)):
    # this index keeps one-day queries independent of the shop's history.
    op.create_index("ix_orders_created_at", "orders", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_orders_created_at", table_name="orders")
    op.drop_column("orders", "updated_at")
    op.drop_column("orders", "created_at")
