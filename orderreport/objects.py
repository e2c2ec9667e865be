"""The names of orderreport's own objects in the shop's database, and the revision the code
expects: one place for each (the migrations, the reports and `status` all read them here).

orderreport keeps everything of its own in its own schema, apart from the shop's: the view
the reports read, the stored daily reports, the run log, its version table and the
registry of what it added to an old-service shop. A leaf: it imports nothing.
"""

OUR_SCHEMA = "orderreport"
VERSION_TABLE = "orderreport_version"
VIEW = "order_reports"
VIEW_MARK = "orderreport view:"  # how the comment of orderreport's own view starts
DAILY_REPORTS = "daily_reports"
RUNS = "runs"
REGISTRY = "created_objects"  # what orderreport added to a seed-schema shop (a downgrade)
# The revisions the first release kept in the shared `alembic_version` table: a database
# that has one of them there was migrated by orderreport and is moved over to VERSION_TABLE.
LEGACY_REVISIONS = frozenset({"0001", "0002", "0003", "0004"})
SCHEMA_HEAD = "0008"  # the head revision of migrations/ (a test holds them equal)

# The comment orderreport's view was built with (what it was built for: shop.Shop.fingerprint),
# '' without one, as one SQL expression that takes the view's name as %(v)s: `status`,
# `migrate` and every report's start read it so.
QUALIFIED_VIEW = f"{OUR_SCHEMA}.{VIEW}"  # both plain lower-case names: no quotes needed
VIEW_COMMENT_SQL = (
    "COALESCE(pg_catalog.obj_description("
    "CAST(pg_catalog.to_regclass(CAST(%(v)s AS text)) AS oid), CAST('pg_class' AS name)), '')"
)
