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

from orderreport import migrating, schema

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if context.is_offline_mode():
        for name, (table, column) in schema.NEEDED_INDEXES.items():
            op.create_index(name, table, [column])
        return
    conn = migrating.connection()
    schema.build_indexes(conn, migrating.shop_now(), revision, op.get_context().autocommit_block)


def downgrade() -> None:
    schema.drop_registered(migrating.connection(), revision)
