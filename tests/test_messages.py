"""Messages that must not mislead a new user, and flags where a user puts them.

- `migrate --plan` on a platform's database: revisions that change nothing there say so,
  instead of reading as changes to the shop's tables;
- `status` counts as undated only orders the source counts (Solidus's carts have no
  completed_at and are no orders);
- a status problem naming a `[source]` table keeps that text in a table (Rich markup);
- the view line of `migrate` for a query source without a schema says `shop=-`;
- `platforms` takes the database flags and says which shop the database holds;
- the shared flags before or after the command name, `--verbose` after it too.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy.engine import URL

from tests import sales
from tests.conftest import run_cli, url_text
from tests.test_platforms import ZONE, build, cli, ok, parsed, plan


def test_plan_on_a_platform_lists_only_what_happens_there(empty_url: URL) -> None:
    build(empty_url, ("saleor", "public"))
    steps = plan(empty_url, platform="saleor")
    revisions = [s for s in steps if s["action"] == "apply"]
    assert [s["object"] for s in revisions] == [f"revision 000{i}" for i in range(1, 9)]
    quiet = {s["object"] for s in revisions if "nothing changes here" in s["detail"]}
    # 0002 and 0003 are the old service's own schema (its timestamps, its indexes); 0001
    # creates orderreport's registry here (and the shop's tables only in an empty database)
    assert quiet == {"revision 0002", "revision 0003"}, revisions
    assert not any("orders.created_at" in s["object"] for s in steps), steps
    r = cli(empty_url, "migrate", platform="saleor")
    assert r.code == 0, r.err


def test_undated_orders_are_only_orders_that_count(empty_url: URL) -> None:
    build(empty_url, ("solidus", "public"))  # carts: completed_at NULL, state 'cart'
    ok(cli(empty_url, "migrate", platform="solidus"))
    status = parsed(cli(empty_url, "status", "--json", platform="solidus").out)
    assert status["undated_orders"] is None, status  # carts are no orders without a date


def test_a_problem_naming_a_source_table_keeps_its_brackets(empty_url: URL) -> None:
    with sales.connect(empty_url) as conn:
        conn.execute("CREATE TABLE public.customers (id serial PRIMARY KEY)")
    r = run_cli("status", "--database-url", url_text(empty_url), "--format", "table")
    assert r.code == 1
    assert "[source]" in r.out, r.out


def test_a_query_source_without_a_schema_says_so(empty_url: URL, tmp_path: Path) -> None:
    sales.build(empty_url)
    config = tmp_path / "query.toml"
    query = sales.QUERY.replace("{schema}.", "public.")
    config.write_text(f'[source]\nquery = """{query}"""\n', "utf-8")
    r = run_cli("migrate", "--database-url", url_text(empty_url), "--config", str(config))
    assert r.code == 0, r.err
    assert "shop=-;" in r.err and "shop=None" not in r.err, r.err


def test_platforms_takes_the_database_flags(empty_url: URL) -> None:
    build(empty_url, ("vendure", "public"))
    r = run_cli("platforms", "--database-url", url_text(empty_url), "--json")
    assert r.code == 0, r.err
    assert "vendure" in {p["platform"] for p in json.loads(r.out)}
    assert r.err.endswith(
        "holds vendure: orders order, lines order_line.orderId (detection (vendure in public))\n"
    ), r.err
    r = run_cli("--database-url", url_text(empty_url), "platforms", "vendure")
    assert r.code == 0 and r.out.startswith("#"), r


@pytest.mark.parametrize(
    "order",
    [
        ("{flags}", "summary", "--date", "2025-12-16", "--json"),
        ("summary", "{flags}", "--date", "2025-12-16", "--json"),
        ("summary", "--date", "2025-12-16", "--json", "{flags}"),
    ],
    ids=["before", "between", "after"],
)
def test_shared_flags_before_or_after_the_command_name(
    empty_url: URL, tmp_path: Path, order: tuple[str, ...]
) -> None:
    build(empty_url, ("saleor", "public"))
    config = tmp_path / "config.toml"
    config.write_text(f'tz = "{ZONE}"\nplatform = "saleor"\n', "utf-8")
    flags = ["--database-url", url_text(empty_url), "--config", str(config), "--verbose"]
    ok(run_cli("migrate", *flags))
    argv = [a for word in order for a in (flags if word == "{flags}" else [word])]
    r = run_cli(*argv)
    assert r.code == 0, (argv, r.err)
    assert json.loads(r.out)[0]["time_zone"] == ZONE
    assert "SELECT" in r.err  # --verbose, wherever it was: the SQL on stderr


def test_a_value_is_never_taken_for_a_flag(tmp_path: Path) -> None:
    """`--tz --verbose summary`: --verbose is the value of --tz (a zone it is not)."""
    r = run_cli("--tz", "--verbose", "summary")
    assert r.code == 2 and r.out == "" and "unknown time zone" in r.err, r


@pytest.mark.parametrize(("built", "asked"), [("oscar", "saleor"), ("saleor", "oscar")])
def test_a_preset_that_does_not_resolve_names_the_one_the_database_holds(
    empty_url: URL, built: str, asked: str
) -> None:
    build(empty_url, (built, "public"))
    for args in (("migrate", "--plan"), ("summary",)):
        r = cli(empty_url, *args, platform=asked)
        assert (r.code, r.out) == (1, ""), r
        assert r.err.count("\n") == 1, r.err
        assert r.err.startswith(f"orderreport: error: source {asked} does not resolve"), r.err
        assert r.err.endswith(f"this database holds {built}: use --platform {built}\n"), r.err
