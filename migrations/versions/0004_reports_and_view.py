"""orderreport's own objects: orderreport.daily_reports and the orderreport.order_reports view.

They live in schema `orderreport`, apart from the shop's, so an `order_reports` view the
shop already has (the old service's) is left alone. A database migrated by orderreport's
first release has its daily_reports moved here with every row, and its old view (ours)
replaced. The view is rebuilt by every `migrate` whose settings changed what it reads
(shop schema, naive-timestamp zone): see schema.ensure_view.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28
"""

from collections.abc import Sequence

from alembic import context, op

from orderreport import migrating, schema
from orderreport.shop import OUR_SCHEMA, SUBQUERY, VIEW

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if context.is_offline_mode():
        schema.create_ours_offline(op.execute)
        return
    conn = migrating.connection()
    legacy = migrating.legacy()
    migrating.note(schema.create_daily_reports(conn, legacy, migrating.adopt()))
    if (
        legacy is not None
        and schema.exists(conn, legacy.schema, VIEW)
        and schema.rightfully_owned(conn, legacy.schema, VIEW)
    ):
        op.execute(f"DROP VIEW {schema.qualified(legacy.schema, VIEW)}")
        migrating.note(f"dropped {legacy.schema}.{VIEW}, the first release's view")
    done = schema.ensure_view(conn, migrating.shop_now(), migrating.adopt(), SUBQUERY)
    if done:
        migrating.note(done)


def downgrade() -> None:
    op.execute(f"DROP VIEW IF EXISTS {OUR_SCHEMA}.{VIEW}")
    op.execute(f"DROP TABLE IF EXISTS {OUR_SCHEMA}.{schema.DAILY_REPORTS}")
