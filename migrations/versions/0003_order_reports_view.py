"""The order_reports view: one row per order with its day, line count and total.

report_at is created_at::DATE as in the old system, so it is the calendar day in the
session's TimeZone: orderreport sets that to the shop's zone, and so can anyone in psql.
created_at is exposed (and grouped on, harmlessly: id is the key) so that a filter on a
created_at range is pushed into the view and uses ix_orders_created_at.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        """
        CREATE VIEW order_reports AS
        SELECT o.created_at::DATE      AS report_at,
               o.id                    AS order_id,
               COUNT(oi.product_id)    AS count_product,
               o.total_amount          AS total_amount,
               o.created_at            AS created_at
        FROM orders o
        LEFT JOIN order_items oi ON oi.order_id = o.id
        GROUP BY o.id, o.created_at, o.total_amount
        """
    )


def downgrade() -> None:
    op.execute("DROP VIEW order_reports")
