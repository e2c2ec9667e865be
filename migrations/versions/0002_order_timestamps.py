"""orders.created_at and updated_at, where the shop lacks them; nothing else is touched.

On tables orderreport created: TIMESTAMPTZ NOT NULL DEFAULT now(), the database's clock.
On the shop's own orders: added without a value for the orders already there (they have
no date and are in no report; `status` counts them), then DEFAULT now() for new orders:
no invented dates, and no rewrite of a large table. Existing columns of any type are kept.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op

from orderreport import schema
from orderreport.schema import revisions as migrating

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The DDL this revision applies ({table}, {column}), kept here as it was applied.
OURS = ("ALTER TABLE {table} ADD COLUMN {column} timestamptz NOT NULL DEFAULT now()",)
SHOPS = (
    "ALTER TABLE {table} ADD COLUMN {column} timestamptz",
    "ALTER TABLE {table} ALTER COLUMN {column} SET DEFAULT now()",
)


def upgrade() -> None:
    if context.is_offline_mode():
        for name in ("created_at", "updated_at"):
            op.add_column(
                "orders",
                sa.Column(
                    name,
                    sa.DateTime(timezone=True),
                    nullable=False,
                    server_default=sa.text("now()"),
                ),
            )
        return
    steps(migrating.walk())


def steps(walk: schema.Walk) -> None:
    """What this revision does (applying) or would do (`migrate --plan`)."""
    walk.revision(revision, __doc__)
    schema.add_timestamps(walk, revision, OURS, SHOPS)


def downgrade() -> None:
    schema.drop_registered(migrating.connection(), revision)
