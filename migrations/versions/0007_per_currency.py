"""Figures per currency: daily_reports gets a currency column in its key, the view a
currency column.

A shop may sell in several currencies (Saleor's channels, Solidus's and Vendure's orders),
and a total added across them is no figure at all. daily_reports now holds a row per zone,
day and currency; the rows stored before keep every figure, with the empty currency ''
(a shop without a currency column, as every shop before this revision was read). Its
averages become plain numeric, wide enough for any day of the widest amount a shop can
store. orderreport.order_reports gains each order's currency as its last column, so it is
replaced in place and keeps its grants.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""

from collections.abc import Sequence

from alembic import context, op

from orderreport import schema
from orderreport.schema import revisions as migrating
from orderreport.shop import LATERAL, PER_CURRENCY, checks

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "orderreport.daily_reports"
# The DDL this revision applies, kept here as it was applied (a later edit of schema.py
# must not change what this revision does to a database).
UPGRADE = (
    f"ALTER TABLE {TABLE} ADD COLUMN currency text NOT NULL DEFAULT ''",
    f"ALTER TABLE {TABLE} DROP CONSTRAINT daily_reports_pkey",
    # zone first: `daily` and `status` ask for the newest stored day of one zone
    f"ALTER TABLE {TABLE} ADD CONSTRAINT daily_reports_pkey "
    "PRIMARY KEY (time_zone, report_date, currency)",
    f"ALTER TABLE {TABLE} ALTER COLUMN average_products_per_order TYPE numeric, "
    "ALTER COLUMN average_order_value TYPE numeric",
)
DOWNGRADE = (
    f"ALTER TABLE {TABLE} DROP CONSTRAINT daily_reports_pkey",
    f"ALTER TABLE {TABLE} ADD CONSTRAINT daily_reports_pkey PRIMARY KEY (time_zone, report_date)",
    f"ALTER TABLE {TABLE} DROP COLUMN currency",
    f"ALTER TABLE {TABLE} ALTER COLUMN average_products_per_order TYPE numeric(14, 2), "
    "ALTER COLUMN average_order_value TYPE numeric(14, 2)",
)


def _view(form: str) -> None:
    if context.is_offline_mode():
        schema.create_view_offline(op.execute, form)
        return
    schema.view(migrating.walk(), form, "rebuilt in the form before 0007")


def upgrade() -> None:
    if context.is_offline_mode():
        for statement in UPGRADE:
            op.execute(statement)
        _view(PER_CURRENCY)
        return
    steps(migrating.walk())


def steps(walk: schema.Walk) -> None:
    """What this revision does (applying) or would do (`migrate --plan`)."""
    walk.revision(revision, __doc__)
    currency = "a row per zone, day and currency; stored days keep their figures"
    schema.change(walk, schema.Step("add", f"{TABLE}.currency", currency), UPGRADE)
    schema.view(walk, PER_CURRENCY, "rebuilt with each order's currency")


def downgrade() -> None:
    if not context.is_offline_mode():
        several = checks.scalar(
            migrating.connection(), f"SELECT count(*) FROM {TABLE} WHERE currency <> ''"
        )
        if several:
            raise RuntimeError(
                f"{TABLE} holds {several} rows with a currency: 0006 cannot hold them; "
                "export them first (orderreport history --format csv)"
            )
    _view(LATERAL)  # first: the 0006 view has no currency column
    for statement in DOWNGRADE:
        op.execute(statement)
