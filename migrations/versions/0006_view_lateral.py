"""orderreport.order_reports counts each order's lines once, in a CROSS JOIN LATERAL.

Same columns, same rows, same meaning (an order without lines has count_product = 0: an
aggregate without GROUP BY gives one row). Up to 0005 the count was a correlated subquery in
the select list, which the planner copies into every aggregate that uses it: SUM and AVG
counted each order's lines twice. See shop.VIEW_FORM. Downgrading builds the 0005 form back.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28
"""

from collections.abc import Sequence

from alembic import context, op

from orderreport import schema
from orderreport.schema import revisions as migrating
from orderreport.shop import LATERAL, SUBQUERY

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if context.is_offline_mode():
        schema.create_view_offline(op.execute, LATERAL)
        return
    steps(migrating.walk())


def steps(walk: schema.Walk) -> None:
    """What this revision does (applying) or would do (`migrate --plan`)."""
    walk.revision(revision, __doc__)
    schema.view(walk, LATERAL, "rebuilt to count each order's lines once")


def downgrade() -> None:
    if context.is_offline_mode():
        schema.create_view_offline(op.execute, SUBQUERY)
        return
    schema.view(migrating.walk(), SUBQUERY, "rebuilt in the form before 0006")
