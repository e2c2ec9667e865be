"""The indexes the reports need: orders(created_at) and order_items(order_id).

A report day is a range on created_at ([local midnight, next local midnight)), and each
order's lines are counted through order_items(order_id): with these two a day costs what
its own orders cost, however long the shop's history. An existing valid index leading with
the column is used as it is. On the shop's own tables the index is built CONCURRENTLY,
outside a transaction, so the shop's writes go on; a build that fails leaves an invalid
index, which the next `migrate` drops and builds again.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""

from collections.abc import Sequence

from alembic import context, op

from orderreport import schema
from orderreport.schema import revisions as migrating

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The DDL this revision applies, kept here as it was applied.
NEEDED = {
    "ix_orders_created_at": ("orders", "created_at"),
    "ix_order_items_order_id": ("order_items", "order_id"),
}
INDEXES = schema.IndexDDL(
    plain="CREATE INDEX {name} ON {table} ({column})",
    concurrently="CREATE INDEX CONCURRENTLY {name} ON {table} ({column})",
    drop_concurrently="DROP INDEX CONCURRENTLY IF EXISTS {index}",
    parent="CREATE INDEX IF NOT EXISTS {name} ON ONLY {table} ({column})",
    attach="ALTER INDEX {index} ATTACH PARTITION {part}",
)


def upgrade() -> None:
    if context.is_offline_mode():
        for name, (table, column) in NEEDED.items():
            op.create_index(name, table, [column])
        return
    steps(migrating.walk())


def steps(walk: schema.Walk) -> None:
    """What this revision does (applying) or would do (`migrate --plan`)."""
    walk.revision(revision, __doc__)
    schema.indexes(walk, revision, INDEXES)


def downgrade() -> None:
    schema.drop_registered(migrating.connection(), revision)
