"""The source is proved before anything changes: every SQL fragment planned by the server.

A fragment that reads a relation without `{schema}.` (the view is built with a search path
of pg_catalog alone), a misspelt column: `migrate --plan` names the key and the server's
message, and `migrate` stops before its first revision, leaving the database exactly as it
was (the whole catalog compared before and after, orderreport's schema never created).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import URL

from tests import sales
from tests.conftest import Result, run_cli, url_text
from tests.test_platforms import ours, snapshot

BROKEN: dict[str, tuple[dict[str, Any], str]] = {
    "amount": (
        {"amount": "(SELECT sum(1) FROM sale_lines l WHERE l.sale_id = o.id)"},
        'relation "sale_lines" does not exist',
    ),
    "currency": (
        {"currency": "(SELECT s.currency FROM sales s WHERE s.id = o.id)"},
        'relation "sales" does not exist',
    ),
    "where": ({"where": "o.stat <> 'cancelled'"}, "column o.stat does not exist"),
    "lines_where": ({"lines_where": "l.voided IS NULL"}, "column l.voided does not exist"),
}


def cli(url: URL, config: Path, *args: str) -> Result:
    return run_cli(*args, "--database-url", url_text(url), "--tz", "UTC", "--config", str(config))


def refused(url: URL, config: Path, key: str, message: str) -> None:
    before = snapshot(url)
    for args in (("migrate", "--plan"), ("migrate",), ("migrate", "--plan", "--format", "json")):
        r = cli(url, config, *args)
        assert (r.code, r.out) == (1, ""), (args, r)
        assert r.err.count("\n") == 1, r.err
        assert f"{key} does not run: " in r.err and message in r.err, r.err
    assert snapshot(url) == before and ours(url) == set(), "the database changed"


@pytest.mark.parametrize("key", sorted(BROKEN))
def test_a_broken_fragment_is_named_and_nothing_changes(
    empty_url: URL, tmp_path: Path, key: str
) -> None:
    sales.build(empty_url)
    fragment, message = BROKEN[key]
    refused(empty_url, sales.config(tmp_path, **fragment), key, message)
    # the same key written right: migrate goes through
    assert cli(empty_url, sales.config(tmp_path), "migrate").code == 0


def test_a_broken_query_is_named_and_nothing_changes(empty_url: URL, tmp_path: Path) -> None:
    sales.build(empty_url)
    # a query that runs on its own (the user's search path has public) but not in the view
    broken = sales.QUERY.replace("{schema}.sale_lines", "sale_lines")
    config = tmp_path / "query.toml"
    config.write_text(f'[source]\nschema = "public"\nquery = """{broken}"""\n', "utf-8")
    refused(empty_url, config, "query", 'relation "sale_lines" does not exist')


def test_a_fragment_broken_after_migrate_is_found_before_the_next_changes_anything(
    empty_url: URL, tmp_path: Path
) -> None:
    """A database already at head whose source is edited wrongly: the rebuild is refused
    before anything, and the view orderreport built stays as it was."""
    sales.build(empty_url)
    assert cli(empty_url, sales.config(tmp_path), "migrate").code == 0
    before = snapshot(empty_url), view(empty_url)
    config = sales.config(tmp_path, where="o.stat <> 'cancelled'")
    r = cli(empty_url, config, "migrate")
    assert r.code == 1 and "where does not run: column o.stat does not exist" in r.err, r
    assert (snapshot(empty_url), view(empty_url)) == before


def view(url: URL) -> tuple[Any, ...]:
    with sales.connect(url) as conn:
        row = conn.execute(
            "SELECT pg_get_viewdef('orderreport.order_reports'::regclass), "
            "obj_description('orderreport.order_reports'::regclass), "
            "(SELECT version_num FROM orderreport.orderreport_version)"
        ).fetchone()
    assert row is not None
    return tuple(row)
