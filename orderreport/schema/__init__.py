"""orderreport's own objects and migrate: steps.py (the walk `migrate` and `--plan` share,
and the steps on the shop's tables), ours.py (the steps of orderreport's own objects: the
registry, daily_reports, the run log, the view), catalog.py (reads of orderreport's own
objects: its history, registry, view comment and grants), migrate.py (migrate, --plan,
--sql through Alembic), revisions.py (what the revisions in migrations/ share), models.py
(the tables as SQLAlchemy sees them). May import shop, db, config and the leaves; the
reports import it only for rare paths (an earlier release's history). The walk's names are
re-exported here for the revisions (`schema.view(walk, …)`); migrate, revisions and models
load only when asked."""

from orderreport.schema.catalog import LEGACY_MARK as LEGACY_MARK
from orderreport.schema.catalog import Legacy as Legacy
from orderreport.schema.catalog import drop_registered as drop_registered
from orderreport.schema.catalog import find_legacy as find_legacy
from orderreport.schema.catalog import register as register
from orderreport.schema.catalog import registered as registered
from orderreport.schema.catalog import registered_all as registered_all
from orderreport.schema.catalog import retire_legacy as retire_legacy
from orderreport.schema.catalog import rightfully_owned as rightfully_owned
from orderreport.schema.catalog import runs_columns as runs_columns
from orderreport.schema.catalog import unregister as unregister
from orderreport.schema.catalog import view_comment as view_comment
from orderreport.schema.catalog import view_grants as view_grants
from orderreport.schema.ours import build_view as build_view
from orderreport.schema.ours import change as change
from orderreport.schema.ours import create_daily_reports as create_daily_reports
from orderreport.schema.ours import create_registry as create_registry
from orderreport.schema.ours import create_runs as create_runs
from orderreport.schema.ours import create_view_offline as create_view_offline
from orderreport.schema.ours import drop_legacy_view as drop_legacy_view
from orderreport.schema.ours import end as end
from orderreport.schema.ours import view as view
from orderreport.schema.steps import INDEX_DDL as INDEX_DDL
from orderreport.schema.steps import OFFLINE_SHOP as OFFLINE_SHOP
from orderreport.schema.steps import PLAN_FIELDS as PLAN_FIELDS
from orderreport.schema.steps import Apply as Apply
from orderreport.schema.steps import IndexDDL as IndexDDL
from orderreport.schema.steps import Step as Step
from orderreport.schema.steps import Walk as Walk
from orderreport.schema.steps import add_timestamps as add_timestamps
from orderreport.schema.steps import begin as begin
from orderreport.schema.steps import create_shop as create_shop
from orderreport.schema.steps import day_plan as day_plan
from orderreport.schema.steps import indexes as indexes
from orderreport.schema.steps import source_steps as source_steps
