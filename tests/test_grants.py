"""Least privilege that works as printed (grants.statements).

Each test makes login roles that hold nothing but what `statements` prints, in a database
whose PUBLIC rights that matter are revoked first (CONNECT and TEMPORARY on the database,
USAGE on schema public: PostgreSQL 15 and later still give PUBLIC USAGE on public, so
without that a missing grant there would go unseen), and runs every command as them
through the CLI. A test then takes each printed privilege away in turn and shows a command
that fails without it: the grants are enough, and each of them is needed.
"""

from __future__ import annotations

import contextlib
import json
import re
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy.engine import URL

from orderreport import db
from orderreport import shop as shop_mod
from orderreport.config.settings import load_settings
from orderreport.errors import UsageError
from orderreport.reports import grants
from orderreport.schema import migrate
from orderreport.shop import quote
from tests.conftest import Result, add_order, fill_days, plain, run_cli, url_text
from tests.platforms.shops import DAYS, PLATFORMS, SOLIDUS_QUERY, expected
from tests.test_platforms import preset_fields, toml_table

Conn = psycopg.Connection[tuple[Any, ...]]
MakeRole = Callable[[URL, str], str]
ZONE = "Europe/Moscow"  # the platforms' shops are built around its midnight


def connect(url: URL) -> Conn:
    return psycopg.connect(plain(url), autocommit=True)


@pytest.fixture
def roles(server_url: URL) -> Iterator[MakeRole]:
    """make(url, kind): a new login role with nothing granted, dropped at the end with
    what was granted to it (in `url`'s database, if that is still there)."""
    made: list[tuple[URL, str]] = []

    def make(url: URL, name: str) -> str:
        role = f"{name}_{uuid.uuid4().hex[:8]}"
        with connect(url) as conn:
            conn.execute(f'CREATE ROLE "{role}" LOGIN')
        made.append((url, role))
        return role

    yield make
    for url, role in reversed(made):
        with contextlib.suppress(psycopg.OperationalError), connect(url) as conn:
            conn.execute(f'DROP OWNED BY "{role}"')
        with connect(server_url) as conn:
            conn.execute(f'DROP ROLE IF EXISTS "{role}"')


def harden(url: URL) -> None:
    """Take away what PUBLIC may do there by default that the commands could lean on."""
    with connect(url) as conn:
        conn.execute(f'REVOKE CONNECT, TEMPORARY ON DATABASE "{url.database}" FROM PUBLIC')
        conn.execute("REVOKE ALL ON SCHEMA public FROM PUBLIC")


def settings(url: URL, tz: str = "UTC", **options: Any) -> Any:
    return load_settings(database_url=url_text(url), tz=tz, env={}, **options)


def printed(url: URL, role: str, kind: str, **options: Any) -> list[str]:
    """What `orderreport grants --KIND ROLE` prints, connected as the superuser."""
    found = settings(url, **options)
    with db.session(found) as conn:
        return grants.statements(conn, shop_mod.find(conn, found), role, kind)


def grant(url: URL, lines: list[str]) -> None:
    """Run the printed statements as the owner (the superuser here), comments aside."""
    assert lines and all(line.startswith(("GRANT ", "-- ")) for line in lines), lines
    with connect(url) as conn:
        for line in lines:
            if line.startswith("GRANT "):
                conn.execute(line)


def cli(url: URL, role: str, *args: str, tz: str = "UTC") -> Result:
    return run_cli(*args, "--database-url", url_text(url.set(username=role)), "--tz", tz)


def ok(result: Result) -> str:
    assert result.code == 0, result
    return result.out


def refused(result: Result) -> None:
    """Exit 1 with one line that says a privilege is missing."""
    assert result.code == 1, result
    assert result.err.count("\n") == 1 and "permission denied" in result.err, result.err


def status(url: URL, role: str, *args: str, tz: str = "UTC") -> dict[str, Any]:
    """`status --json` as the role: healthy, or unhealthy for a lag only (not a privilege)."""
    result = cli(url, role, "status", "--json", *args, tz=tz)
    assert result.code in (0, 1) and "permission denied" not in result.err, result
    found: dict[str, Any] = json.loads(result.out)
    assert result.code == 0 or "lag" in (found["problem"] or ""), found
    return found


def reports_commands(day: date) -> list[tuple[str, ...]]:
    """Every command a reports role runs (status aside: see `status`)."""
    d = day.isoformat()
    return [
        ("report", "--date", d),
        ("report", "--date", d, "--format", "csv"),
        ("report", "--date", d, "--format", "jsonl"),
        ("report", "--all", "--format", "json"),
        ("summary", "--date", d, "--json"),
        ("history", "--json"),
        ("verify",),
        ("runs", "--json"),
    ]


def yesterday() -> date:
    return datetime.now(UTC).date() - timedelta(days=1)


# -- the seed's shop -----------------------------------------------------------------------
def test_the_printed_statements(db_url: URL, shop: Conn, roles: MakeRole) -> None:
    role = roles(db_url, "Reports-x")  # a name that needs quotes
    who = f'"{role}"'
    base = [
        f"GRANT CONNECT ON DATABASE {db_url.database} TO {who};",
        f"GRANT USAGE ON SCHEMA orderreport TO {who};",
        f"GRANT USAGE ON SCHEMA public TO {who};",
        f"GRANT SELECT ON TABLE orderreport.orderreport_version TO {who};",
        f"GRANT SELECT ON TABLE orderreport.order_reports TO {who};",
    ]
    shop_tables = [
        f"GRANT SELECT ON TABLE public.orders TO {who};",
        f"GRANT SELECT ON TABLE public.order_items TO {who};",
    ]
    assert printed(db_url, role, "reports") == [
        *base,
        f"GRANT SELECT ON TABLE orderreport.daily_reports TO {who};",
        f"GRANT SELECT ON TABLE orderreport.runs TO {who};",
        *shop_tables,
    ]
    assert printed(db_url, role, "job") == [
        *base,
        f"GRANT SELECT, INSERT, DELETE ON TABLE orderreport.daily_reports TO {who};",
        f"GRANT SELECT, INSERT, UPDATE ON TABLE orderreport.runs TO {who};",
        *shop_tables,
    ]
    # a role that is not there yet is said first; the statements are the same
    missing = printed(db_url, "nobody_yet", "reports")
    assert missing[0] == "-- there is no role nobody_yet yet: CREATE ROLE nobody_yet LOGIN first"
    assert len(missing) == 10 and all("TO nobody_yet;" in line for line in missing[1:])
    for kind, name in (
        ("admin", role),
        ("reports", "public"),
        ("reports", ""),
        ("reports", "x\nGRANT ALL ON public.orders TO x"),
    ):
        with pytest.raises(UsageError):
            printed(db_url, name, kind)


def test_every_command_as_each_role(db_url: URL, shop: Conn, roles: MakeRole) -> None:
    day = yesterday()
    fill_days(shop, day - timedelta(days=2), 3)
    add_order(shop, datetime(day.year, day.month, day.day, 12, tzinfo=UTC), "9.99", lines=2)
    harden(db_url)
    reports, job = roles(db_url, "reports"), roles(db_url, "job")
    for role, kind in ((reports, "reports"), (job, "job")):
        lines = printed(db_url, role, kind)
        assert not any(" ALL " in line for line in lines), lines
        # nothing on the shop's tables but SELECT
        on_shop = [line for line in lines if " public." in line]
        assert on_shop and all(line.startswith("GRANT SELECT ON TABLE ") for line in on_shop)
        grant(db_url, lines)

    # the job stores yesterday, verifies it, sees its run
    ok(cli(db_url, job, "daily", "--date", day.isoformat()))
    stored = shop.execute(
        "SELECT total_orders, total_value::text FROM orderreport.daily_reports "
        "WHERE report_date = %s",
        (day,),
    ).fetchall()
    assert stored == [(4, "16.59")]
    assert "all match" in cli(db_url, job, "verify").err
    (run,) = json.loads(ok(cli(db_url, job, "runs", "--json")))
    assert run["status"] == "succeeded" and run["first_day"] == day.isoformat(), run

    # the reports role runs everything but daily
    for args in reports_commands(day):
        ok(cli(db_url, reports, *args))
    csv = ok(cli(db_url, reports, "report", "--date", day.isoformat(), "--format", "csv"))
    assert csv.count("\n") == 5 and ",2,9.99" in csv, csv
    summary = json.loads(ok(cli(db_url, reports, "summary", "--date", day.isoformat(), "--json")))
    assert summary["total_orders"] == 4 and summary["total_products"] == 2, summary
    found = status(db_url, reports)
    assert found["undated_orders"] == 0 and found["newest_report"] == day.isoformat(), found

    # ... and may write nothing: daily is refused in one line, and so is a write of its own
    refused(cli(db_url, reports, "daily", "--date", day.isoformat()))
    assert len(json.loads(ok(cli(db_url, reports, "runs", "--json")))) == 1
    with (
        connect(db_url.set(username=reports)) as conn,
        pytest.raises(psycopg.errors.InsufficientPrivilege),
    ):
        conn.execute(
            "INSERT INTO orderreport.daily_reports (report_date, time_zone, total_orders, "
            "total_products, total_value, average_products_per_order, average_order_value) "
            "VALUES ('2001-01-01', 'UTC', 0, 0, 0, 0, 0)"
        )
    # nor the job on the shop's tables
    for statement in (
        "UPDATE public.orders SET total_amount = 0",
        "DELETE FROM public.order_items",
        "UPDATE orderreport.daily_reports SET total_orders = 0",
    ):
        with (
            connect(db_url.set(username=job)) as conn,
            pytest.raises(psycopg.errors.InsufficientPrivilege),
        ):
            conn.execute(statement)


GRANT = re.compile(r"GRANT (?P<privileges>[A-Z, ]+) ON (?P<object>.+) TO (?P<role>\S+);")


def privileges(lines: list[str]) -> list[tuple[str, str, str]]:
    """(privilege, object, role) of every printed GRANT, one privilege at a time."""
    found = []
    for line in lines:
        if line.startswith("--"):
            continue
        match = GRANT.fullmatch(line)
        assert match, line
        for privilege in match["privileges"].split(", "):
            found.append((privilege, match["object"], match["role"]))
    return found


def test_each_printed_privilege_is_needed(db_url: URL, shop: Conn, roles: MakeRole) -> None:
    """Taken away one at a time, each printed privilege makes some command fail."""
    day = yesterday()
    fill_days(shop, day - timedelta(days=1), 2)
    harden(db_url)
    reports, job = roles(db_url, "reports"), roles(db_url, "job")
    grant(db_url, printed(db_url, reports, "reports"))
    job_lines = printed(db_url, job, "job")
    grant(db_url, job_lines)
    ok(cli(db_url, job, "daily", "--date", day.isoformat()))

    def fails_without(
        role: str, what: tuple[str, str, str], commands: list[tuple[str, ...]]
    ) -> None:
        privilege, obj, who = what
        with connect(db_url) as conn:
            conn.execute(f"REVOKE {privilege} ON {obj} FROM {who}")
        try:
            results = {args: cli(db_url, role, *args) for args in commands}
        finally:
            with connect(db_url) as conn:
                conn.execute(f"GRANT {privilege} ON {obj} TO {who}")
        failed = {args: r.err for args, r in results.items() if r.code != 0}
        assert failed, f"nothing needs {privilege} on {obj}"
        assert all("permission denied" in err for err in failed.values()), failed

    for what in privileges(printed(db_url, reports, "reports")):
        fails_without(reports, what, [*reports_commands(day), ("status", "--json")])
    reports_set = set(privileges(printed(db_url, job, "reports")))
    for what in privileges(job_lines):
        if what not in reports_set:  # the job's own: daily writes
            fails_without(job, what, [("daily", "--date", day.isoformat())])
    ok(cli(db_url, job, "daily", "--date", day.isoformat()))  # all given back


# -- a view rebuilt keeps its grants -------------------------------------------------------
def test_a_rebuilt_view_keeps_its_grants(
    db_url: URL, shop: Conn, roles: MakeRole, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A setting that changes the view (a fixed currency) rebuilds it in place."""
    day = yesterday()
    fill_days(shop, day, 1)
    harden(db_url)
    reports = roles(db_url, "reports")
    grant(db_url, printed(db_url, reports, "reports"))
    args = ("summary", "--date", day.isoformat(), "--json")
    assert json.loads(ok(cli(db_url, reports, *args)))["currency"] is None
    monkeypatch.setenv("ORDERREPORT_CURRENCY", "EUR")
    migrated = run_cli("migrate", "--database-url", url_text(db_url))
    assert migrated.code == 0 and "rebuilt orderreport.order_reports" in migrated.err, migrated
    assert json.loads(ok(cli(db_url, reports, *args)))["currency"] == "EUR"


def may_read_view(conn: Conn, role: str) -> bool:
    row = conn.execute(
        "SELECT has_table_privilege(%s, 'orderreport.order_reports', 'SELECT')", (role,)
    ).fetchone()
    assert row is not None
    return bool(row[0])


def test_a_downgraded_and_migrated_view_keeps_its_grants(
    db_url: URL, shop: Conn, roles: MakeRole
) -> None:
    """Down to 0006 (the view loses its currency column, so it cannot be replaced in
    place: schema.build_view drops it, and gives its grants back) and up again to head."""
    day = yesterday()
    fill_days(shop, day, 1)
    harden(db_url)
    reports = roles(db_url, "reports")
    grant(db_url, printed(db_url, reports, "reports"))
    args = ("summary", "--date", day.isoformat(), "--json")
    ok(cli(db_url, reports, *args))
    owner = settings(db_url)
    migrate.downgrade(owner, "0006")
    assert may_read_view(shop, reports), "the downgrade to 0006 dropped the view's grants"
    migrate.migrate(owner)
    assert may_read_view(shop, reports), "the upgrade to 0007 dropped the view's grants"
    ok(cli(db_url, reports, *args))


# -- a platform's source, a mapping's, a query ---------------------------------------------


@pytest.mark.parametrize(
    "name, how, reads",
    [
        ("saleor", "preset", ["order_order", "order_orderline"]),
        ("medusa", "preset", ["order", "order_item", "order_summary"]),  # also_reads
        # the amount's subquery reads order_summary: found by the server, not declared
        ("medusa", "mapping without also_reads", ["order", "order_item", "order_summary"]),
        ("solidus", "query", ["spree_line_items", "spree_orders"]),
    ],
)
def test_a_platform_shop_as_a_reports_role(
    empty_url: URL, tmp_path: Path, roles: MakeRole, name: str, how: str, reads: list[str]
) -> None:
    with connect(empty_url) as conn:
        conn.execute(f"ALTER DATABASE \"{empty_url.database}\" SET timezone TO '{ZONE}'")
    with connect(empty_url) as conn:  # a new session: TimeZone is Moscow
        orders = PLATFORMS[name].build(conn, "public")
    if how != "preset":
        config = tmp_path / "config.toml"
        if how == "query":
            table = {"query": SOLIDUS_QUERY, "schema": "public"}
        else:
            table = {k: v for k, v in preset_fields(name).items() if k != "also_reads"}
        config.write_text(toml_table(table), "utf-8")
        chosen: tuple[str, ...] = ("--config", str(config))
        options: dict[str, Any] = {"config": config}
    else:
        chosen, options = ("--platform", name), {"platform": name}
    ok(run_cli("migrate", "--database-url", url_text(empty_url), "--tz", ZONE, *chosen))
    harden(empty_url)
    role = roles(empty_url, "reports")
    lines = printed(empty_url, role, "reports", **options)
    assert [line for line in lines if " public." in line] == [
        f"GRANT SELECT ON TABLE public.{quote(r)} TO {role};" for r in reads
    ]
    assert f"GRANT USAGE ON SCHEMA public TO {role};" in lines
    grant(empty_url, lines)
    last = DAYS[-1]
    # stored by the owner, so history, verify and status have days to read
    span = ("--from", DAYS[0].isoformat(), "--to", last.isoformat())
    ok(run_cli("daily", *span, "--database-url", url_text(empty_url), "--tz", ZONE, *chosen))
    for args in reports_commands(last):
        ok(cli(empty_url, role, *args, *chosen, tz=ZONE))
    for day in DAYS:
        args = ("summary", "--date", day.isoformat(), "--json", *chosen)
        got = json.loads(ok(cli(empty_url, role, *args, tz=ZONE)), parse_float=Decimal)
        assert got == expected(orders, ZONE, day), day
    found = status(empty_url, role, *chosen, tz=ZONE)
    assert found["platform"] == {"query": "query", "preset": name}.get(how, "mapping"), found


def test_a_query_source_unresolved_says_what_to_grant(empty_url: URL, tmp_path: Path) -> None:
    """In a read-only session the query's relations cannot be found: a comment says so."""
    with connect(empty_url) as conn:
        PLATFORMS["solidus"].build(conn, "public")
    config = tmp_path / "config.toml"
    config.write_text(
        f'[source]\nquery = {json.dumps(SOLIDUS_QUERY)}\nschema = "public"\n', "utf-8"
    )
    ok(run_cli("migrate", "--database-url", url_text(empty_url), "--config", str(config)))
    found = settings(empty_url, config=config)
    with db.session(found, read_only=True) as conn:
        lines = grants.statements(conn, shop_mod.find(conn, found), "r", "reports")
    assert lines[-1] == (
        "-- the source query's relations: GRANT USAGE on their schemas and SELECT on each TO r;"
    )
    assert "GRANT USAGE ON SCHEMA public TO r;" in lines
    assert not any("spree" in line for line in lines)


@pytest.mark.parametrize("kind", [grants.REPORTS, grants.JOB])
def test_the_command_prints_the_statements(db_url: URL, kind: str) -> None:
    """`orderreport grants --reports|--job ROLE` prints grants.statements, one a line, on
    stdout alone; both or neither flag is bad input."""
    got = run_cli("grants", f"--{kind}", "analyst", "--database-url", url_text(db_url))
    assert got.code == 0 and got.err == "", got
    assert got.out.splitlines() == printed(db_url, "analyst", kind)
    for flags in ((), ("--reports", "a", "--job", "b")):
        bad = run_cli("grants", *flags, "--database-url", url_text(db_url))
        assert bad.code == 2 and bad.out == "" and bad.err.count("\n") == 1, bad
