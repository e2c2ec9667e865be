"""orderreport's own objects: orderreport.daily_reports and the orderreport.order_reports view.

They live in schema `orderreport`, apart from the shop's, so an `order_reports` view the
shop already has (the old service's) is left alone. A database migrated by orderreport's
first release has its daily_reports moved here with every row, and its old view (ours)
replaced. The view is rebuilt by every `migrate` whose settings changed what it reads
(shop schema, naive-timestamp zone): see schema.view.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28
"""

from collections.abc import Sequence

from alembic import context, op

from orderreport import schema
from orderreport.objects import OUR_SCHEMA, VIEW
from orderreport.schema import revisions as migrating
from orderreport.shop import SUBQUERY

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The DDL this revision applies, kept here as it was applied.
DAILY_REPORTS = (
    "CREATE TABLE orderreport.daily_reports ("
    "report_date date NOT NULL, time_zone text NOT NULL, "
    "total_orders bigint NOT NULL, total_products bigint NOT NULL, "
    # a day's total can exceed one order's amount; it is still exact
    "total_value numeric NOT NULL, "
    "average_products_per_order numeric(14, 2) NOT NULL, "
    "average_order_value numeric(14, 2) NOT NULL, "
    "generated_at timestamptz NOT NULL DEFAULT now(), "
    # zone first: `daily` and `status` ask for the newest stored day of one zone
    "CONSTRAINT daily_reports_pkey PRIMARY KEY (time_zone, report_date))"
)


def upgrade() -> None:
    if context.is_offline_mode():  # --sql: daily_reports and the view, for an empty database
        op.execute(DAILY_REPORTS)
        schema.create_view_offline(op.execute, SUBQUERY)
        return
    steps(migrating.walk())


def steps(walk: schema.Walk) -> None:
    """What this revision does (applying) or would do (`migrate --plan`)."""
    walk.revision(revision, __doc__)
    schema.create_daily_reports(walk, DAILY_REPORTS)
    schema.drop_legacy_view(walk)
    schema.view(walk, SUBQUERY, "built for other settings: rebuilt")


def downgrade() -> None:
    op.execute(f"DROP VIEW IF EXISTS {OUR_SCHEMA}.{VIEW}")
    op.execute(f"DROP TABLE IF EXISTS {OUR_SCHEMA}.daily_reports")
