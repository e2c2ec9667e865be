"""orderreport.runs: the daily job's run log, one row per run of `orderreport daily`.

A run writes its row in a transaction of its own right after it connects and updates it
as it goes and when it ends, whatever the outcome; a run killed with SIGKILL keeps
finished_at NULL. The row names the run's server backend (pg_backend_pid() and that
backend's start), so `status` can tell a run still going from one whose process died.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29
"""

from collections.abc import Sequence

from alembic import context, op

from orderreport import migrating, schema
from orderreport.shop import OUR_SCHEMA

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if context.is_offline_mode():
        op.execute(schema.RUNS_DDL)
        return
    migrating.note(schema.create_runs(migrating.connection(), migrating.adopt()))


def downgrade() -> None:
    op.execute(f"DROP TABLE IF EXISTS {OUR_SCHEMA}.{schema.RUNS}")
