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

from orderreport import schema
from orderreport.objects import OUR_SCHEMA
from orderreport.schema import revisions as migrating

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The DDL this revision applies, kept here as it was applied.
RUNS = (
    "CREATE TABLE orderreport.runs ("
    "id bigint GENERATED ALWAYS AS IDENTITY, "
    "time_zone text NOT NULL, "
    # true: the days came from what was stored (catch-up); false: --date or --from/--to
    "catch_up boolean NOT NULL, "
    "started_at timestamptz NOT NULL DEFAULT now(), "
    "finished_at timestamptz, "
    "status text NOT NULL DEFAULT 'running' CONSTRAINT runs_status_known CHECK (status IN ("
    "'running', 'succeeded', 'failed', 'busy', 'interrupted', 'terminated')), "
    "exit_code integer, "
    "message text, "
    "first_day date, last_day date, "
    "days_planned integer NOT NULL DEFAULT 0, "
    "days_stored integer NOT NULL DEFAULT 0, "
    "days_restated integer NOT NULL DEFAULT 0, "
    "days_changed integer NOT NULL DEFAULT 0, "
    "host text NOT NULL, "
    "pid integer NOT NULL, "
    # the run's server backend, to tell a live run from a dead one (pid alone can be reused)
    "backend_pid integer NOT NULL DEFAULT pg_backend_pid(), "
    "backend_start timestamptz, "
    "version text NOT NULL, "
    "CONSTRAINT runs_pkey PRIMARY KEY (id))"
)


def upgrade() -> None:
    if context.is_offline_mode():
        op.execute(RUNS)
        return
    steps(migrating.walk())


def steps(walk: schema.Walk) -> None:
    """What this revision does (applying) or would do (`migrate --plan`)."""
    walk.revision(revision, __doc__)
    schema.create_runs(walk, RUNS)


def downgrade() -> None:
    op.execute(f"DROP TABLE IF EXISTS {OUR_SCHEMA}.runs")
