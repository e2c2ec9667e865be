"""daily_reports: one stored summary per report day and time zone.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "daily_reports",
        sa.Column("report_date", sa.Date, nullable=False),
        sa.Column("time_zone", sa.Text, nullable=False),
        sa.Column("total_orders", sa.BigInteger, nullable=False),
        sa.Column("total_products", sa.BigInteger, nullable=False),
        # a day's total can exceed one order's NUMERIC(12,2); it is still exact
        sa.Column("total_value", sa.Numeric, nullable=False),
        sa.Column("average_products_per_order", sa.Numeric(14, 2), nullable=False),
        sa.Column("average_order_value", sa.Numeric(14, 2), nullable=False),
        sa.Column(
            "generated_at",
            sa.DateTime(timezone=True),
            nullable=False,
            server_default=sa.text("now()"),
        ),
        # zone first: `daily` and `status` ask for the newest stored day of one zone
        sa.PrimaryKeyConstraint("time_zone", "report_date", name="daily_reports_pkey"),
    )


def downgrade() -> None:
    op.drop_table("daily_reports")
