"""orderreport.order_reports computes an amount or currency given as SQL once per order.

Same columns, same rows, same figures. A preset's or mapping's amount (or currency) that
is an SQL expression, often a subquery into another relation (Medusa's order_summary,
Odoo's res_currency), was in the view's select list, and a summary uses the amount in both
SUM and AVG: the planner copied it into each, so every order's subquery ran twice (Medusa's
day: 1.42x the hand-written query on the server, 57% more buffers). It is now computed in
a CROSS JOIN LATERAL fenced with OFFSET 0, once per order; a query source's lines, amount
and currency likewise. See shop.ONCE. Downgrading builds the 0007 form back.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07
"""

from collections.abc import Sequence

from alembic import context, op

from orderreport import schema
from orderreport.schema import revisions as migrating
from orderreport.shop import ONCE, PER_CURRENCY

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if context.is_offline_mode():
        schema.create_view_offline(op.execute, ONCE)
        return
    steps(migrating.walk())


def steps(walk: schema.Walk) -> None:
    """What this revision does (applying) or would do (`migrate --plan`)."""
    walk.revision(revision, __doc__)
    schema.view(walk, ONCE, "rebuilt to compute each order's amount and currency once")


def downgrade() -> None:
    if context.is_offline_mode():
        schema.create_view_offline(op.execute, PER_CURRENCY)
        return
    schema.view(migrating.walk(), PER_CURRENCY, "rebuilt in the form before 0008")
