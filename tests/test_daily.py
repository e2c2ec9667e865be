"""The daily job: idempotent, catching up, bounded, locked, crash-safe; history and status."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import psycopg
import pytest
from sqlalchemy.engine import URL

from orderreport import db, objects
from orderreport.cli.dates import today_in
from orderreport.reports import daily, queries, session
from tests.conftest import (
    ORDERREPORT,
    add_order,
    fill_days,
    plain,
    run_cli,
    settings_for,
    subprocess_env,
    url_text,
)


def cli(url: URL, *args: str, tz: str = "UTC") -> tuple[int, str, str]:
    r = run_cli(*args, "--database-url", url_text(url), "--tz", tz)
    return r.code, r.out, r.err


def stored(url: URL, tz: str | None = None) -> list[tuple[date, str, int, Decimal, datetime]]:
    with psycopg.connect(plain(url)) as conn:
        rows = conn.execute(
            "SELECT report_date, time_zone, total_orders, total_value, generated_at "
            "FROM orderreport.daily_reports WHERE %s::text IS NULL OR time_zone = %s "
            "ORDER BY time_zone, report_date",
            (tz, tz),
        ).fetchall()
    return rows


def test_plan_catch_up() -> None:
    today = date(2025, 12, 20)
    assert daily.plan_catch_up(None, today, 31) == daily.Plan(
        date(2025, 12, 19), date(2025, 12, 19)
    )
    assert daily.plan_catch_up(date(2025, 12, 19), today, 31).start is None
    assert daily.plan_catch_up(date(2025, 12, 15), today, 31) == daily.Plan(
        date(2025, 12, 16), date(2025, 12, 19)
    )
    bounded = daily.plan_catch_up(date(2025, 10, 1), today, 31)
    assert (bounded.start, bounded.end, bounded.days) == (
        date(2025, 11, 19),
        date(2025, 12, 19),
        31,
    )
    assert bounded.gap == (date(2025, 10, 2), date(2025, 11, 18))


def test_first_run_stores_yesterday_and_rerun_is_idempotent(
    db_url: URL, shop: psycopg.Connection[tuple[object, ...]]
) -> None:
    yesterday = today_in("UTC") - timedelta(days=1)
    add_order(shop, datetime.combine(yesterday, datetime.min.time(), ZoneInfo("UTC")), "0.10", 1)
    code, out, err = cli(db_url, "daily", "--json")
    assert code == 0, err
    assert [d["date"] for d in json.loads(out)] == [yesterday.isoformat()]
    assert "stored " + yesterday.isoformat() in err and err[:4].isdigit()  # timestamped
    first = stored(db_url)
    code, out, err = cli(db_url, "daily", "--date", "yesterday", "--json")
    assert code == 0
    second = stored(db_url)
    assert len(second) == 1 and second[0][:4] == first[0][:4]
    assert second[0][4] > first[0][4]  # generated_at refreshed by the rerun
    code, out, err = cli(db_url, "daily")  # nothing missing now
    assert code == 0 and out == "" and "nothing new to store" in err


def test_catch_up_after_missed_days(
    db_url: URL, shop: psycopg.Connection[tuple[object, ...]]
) -> None:
    today = today_in("UTC")
    fill_days(shop, today - timedelta(days=10), 10)
    assert cli(db_url, "daily", "--date", (today - timedelta(days=6)).isoformat())[0] == 0
    code, out, err = cli(db_url, "daily", "--json")
    assert code == 0, err
    assert [d["date"] for d in json.loads(out)] == [
        (today - timedelta(days=i)).isoformat() for i in range(5, 0, -1)
    ]
    rows = stored(db_url)
    assert [r[0] for r in rows] == [today - timedelta(days=i) for i in range(6, 0, -1)]
    assert all(r[2] == 3 and r[3] == Decimal("6.60") for r in rows)


def test_catch_up_bound(db_url: URL, shop: psycopg.Connection[tuple[object, ...]]) -> None:
    today = today_in("UTC")
    assert cli(db_url, "daily", "--date", (today - timedelta(days=41)).isoformat())[0] == 0
    code, out, err = cli(db_url, "daily", "--max-catch-up", "5", "--json")
    assert code == 1  # not every missing day was stored
    assert len(json.loads(out)) == 5
    gap_from, gap_to = today - timedelta(days=40), today - timedelta(days=6)
    assert f"{gap_from} to {gap_to} are missing" in err
    assert f"orderreport daily --from {gap_from} --to {gap_to}" in err
    assert len(stored(db_url)) == 6
    code, _, _ = cli(db_url, "daily", "--from", gap_from.isoformat(), "--to", gap_to.isoformat())
    assert code == 0 and len(stored(db_url)) == 41


def test_catch_up_is_one_grouped_query(
    db_url: URL, shop: psycopg.Connection[tuple[object, ...]]
) -> None:
    """A 30-day catch-up reads order_reports once, not once per day."""
    first = date(2025, 1, 1)
    fill_days(shop, first, 30)
    shop.execute("SELECT pg_stat_reset()")
    with session.shop_session(settings_for(db_url)) as (s, found):
        stored_days = list(daily.store_days(s, found, first, first + timedelta(days=29)))
    assert len(stored_days) == 30
    # the session's backend has exited, which flushes its statistics
    scans = shop.execute(
        "SELECT coalesce(seq_scan, 0) + coalesce(idx_scan, 0) FROM pg_stat_user_tables "
        "WHERE relname = 'orders'"
    ).fetchone()
    assert scans is not None and 1 <= int(str(scans[0])) <= 2, scans


@pytest.mark.parametrize(
    "tz", ["Europe/Moscow", "Asia/Tokyo", "America/Los_Angeles", "Pacific/Honolulu"]
)
def test_yesterday_in_zones_east_and_west(
    db_url: URL, shop: psycopg.Connection[tuple[object, ...]], tz: str
) -> None:
    zone = ZoneInfo(tz)
    yesterday = today_in(tz) - timedelta(days=1)
    midnight = datetime.combine(yesterday, datetime.min.time(), zone)
    add_order(shop, midnight, "1.00", 1)  # first second of yesterday, local
    add_order(shop, midnight + timedelta(days=1) - timedelta(seconds=1), "2.00", 1)  # last second
    add_order(shop, midnight - timedelta(seconds=1), "40.00", 1)  # the day before
    code, out, err = cli(db_url, "daily", "--json", tz=tz)
    assert code == 0, err
    (day,) = json.loads(out, parse_float=Decimal)
    assert (day["date"], day["time_zone"], day["total_orders"], day["total_value"]) == (
        yesterday.isoformat(),
        tz,
        2,
        Decimal("3.00"),
    )
    assert stored(db_url, tz)[0][:4] == (yesterday, tz, 2, Decimal("3.00"))


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--date", "today"], "is not over yet in UTC"),
        (["--from", "2090-01-01", "--to", "2099-01-01"], "2099-01-01 is not over yet"),
        (["--from", "2025-01-02", "--to", "2025-01-01"], "--from 2025-01-02 is after --to"),
        (["--max-catch-up", "0"], "--max-catch-up"),
    ],
)
def test_daily_bad_input_is_exit_2(db_url: URL, args: list[str], needle: str) -> None:
    code, out, err = cli(db_url, "daily", *args)
    assert (code, out) == (2, "") and needle in err and err.count("\n") == 1, err
    assert stored(db_url) == []


def test_lock_busy_is_exit_75_and_writes_nothing(db_url: URL) -> None:
    with psycopg.connect(plain(db_url)) as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", (db.DAILY_LOCK_KEY,))
        code, out, err = cli(db_url, "daily", "--date", "2025-01-01")
        assert (code, out) == (75, "") and "another run holds the lock" in err
        assert err.count("\n") == 1
        started = time.monotonic()
        code, _, _ = cli(db_url, "daily", "--date", "2025-01-01", "--wait", "1")
        assert code == 75 and time.monotonic() - started >= 1.0
    assert stored(db_url) == []
    assert cli(db_url, "daily", "--date", "2025-01-01", "--wait", "1")[0] == 0  # lock free again


def test_five_daily_processes_at_once(
    db_url: URL, shop: psycopg.Connection[tuple[object, ...]]
) -> None:
    today = today_in("UTC")
    fill_days(shop, today - timedelta(days=60), 60)
    env = subprocess_env(ORDERREPORT_DATABASE_URL=url_text(db_url))
    args = [
        *ORDERREPORT,
        "daily",
        "--from",
        (today - timedelta(days=60)).isoformat(),
        "--to",
        "yesterday",
    ]
    procs = [
        subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(5)
    ]
    codes = [p.wait(timeout=180) for p in procs]
    for p in procs:
        p.communicate()
    assert set(codes) <= {0, 75} and 0 in codes, codes
    rows = stored(db_url)
    assert [r[0] for r in rows] == [today - timedelta(days=i) for i in range(60, 0, -1)]
    assert all(r[2] == 3 for r in rows)


def test_sigkill_mid_run_leaves_only_complete_days(
    db_url: URL, shop: psycopg.Connection[tuple[object, ...]]
) -> None:
    first = date(2015, 1, 1)
    days = 3000
    fill_days(shop, first, days)
    last = first + timedelta(days=days - 1)
    env = subprocess_env(ORDERREPORT_DATABASE_URL=url_text(db_url))
    args = [
        *ORDERREPORT,
        "daily",
        "--from",
        first.isoformat(),
        "--to",
        last.isoformat(),
        "-f",
        "jsonl",
    ]
    proc = subprocess.Popen(
        args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert proc.stderr is not None
    seen = 0
    for line in proc.stderr:
        seen += " stored " in line
        if seen == 5:
            proc.send_signal(signal.SIGKILL)
            break
    proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    partial = stored(db_url)
    assert 5 <= len(partial) < days
    # every stored day is whole: it equals the day computed afresh
    with session.shop_session(settings_for(db_url)) as (s, found):
        fresh = {x.date: x for x in queries.summaries(s, found, first, last)}
    assert all((r[2], r[3]) == (fresh[r[0]].total_orders, fresh[r[0]].total_value) for r in partial)
    # the killed run's lock died with its connection: the next run completes
    again = subprocess.run(args, env=env, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    assert len(stored(db_url)) == days


def test_history_and_chart(db_url: URL, shop: psycopg.Connection[tuple[object, ...]]) -> None:
    first = date(2025, 3, 1)
    fill_days(shop, first, 10)
    assert cli(db_url, "daily", "--from", "2025-03-01", "--to", "2025-03-10")[0] == 0
    code, out, _ = cli(db_url, "history", "--from", "2025-03-03", "--to", "2025-03-05", "--json")
    rows = json.loads(out, parse_float=Decimal)
    assert [r["date"] for r in rows] == ["2025-03-03", "2025-03-04", "2025-03-05"]
    assert list(rows[0])[-1] == "generated_at" and rows[0]["total_value"] == Decimal("6.60")
    code, out, _ = cli(db_url, "history")
    assert code == 0 and "Total value per day" in out
    chart = [line for line in out.splitlines() if line.startswith("2025-03-") and "█" in line]
    assert len(chart) == 10 and all(len(line) <= 80 for line in chart)
    code, out, err = cli(db_url, "history", "--json", tz="Asia/Tokyo")  # another zone: none stored
    assert (code, json.loads(out)) == (0, []) and "no stored reports" in err


def test_status_is_a_probe(db_url: URL, shop: psycopg.Connection[tuple[object, ...]]) -> None:
    code, out, err = cli(db_url, "status", "--json")
    assert code == 1 and json.loads(out)["healthy"] is False and "no stored reports" in err
    today = today_in("UTC")
    assert cli(db_url, "daily", "--date", (today - timedelta(days=3)).isoformat())[0] == 0
    code, out, _ = cli(db_url, "status", "--json")
    status = json.loads(out)
    assert (
        code == 1
        and status["missing_days"] == 2
        and status["newest_report"] == str(today - timedelta(days=3))
    )
    assert cli(db_url, "status", "--max-lag", "2")[0] == 0
    assert cli(db_url, "daily")[0] == 0
    code, out, _ = cli(db_url, "status", "--json")
    status = json.loads(out)
    assert code == 0 and status["healthy"] is True and status["missing_days"] == 0
    assert status["schema_revision"] == status["head_revision"] == objects.SCHEMA_HEAD
    assert status["lag_days"] == 0
    r = run_cli("status", "--database-url", url_text(db_url.set(password="sekret")), "-f", "csv")
    assert "sekret" not in r.out + r.err


def schema_objects(url: URL) -> list[tuple[str, str]]:
    with psycopg.connect(plain(url)) as conn:
        rows = conn.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE connamespace = 'public'::regnamespace "
            "UNION ALL SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' "
            "ORDER BY 1, 2"
        ).fetchall()
    return [(str(a), str(b)) for a, b in rows]


def test_demo_loads_refuses_and_fills_history(db_url: URL) -> None:
    before = schema_objects(db_url)
    code, out, err = cli(db_url, "demo", "--days", "7", "--orders-per-day", "50", "--json")
    assert code == 0, err
    yesterday = today_in("UTC") - timedelta(days=1)
    summary = json.loads(out, parse_float=Decimal)
    assert summary["date"] == yesterday.isoformat() and summary["total_orders"] == 50
    assert "loaded 350 orders" in err
    code, out, _ = cli(db_url, "history", "--json")
    assert len(json.loads(out)) == 7
    # the bulk load dropped and recreated foreign keys and indexes: all are back as they were
    assert schema_objects(db_url) == before
    assert any("FOREIGN KEY (order_id)" in d for _, d in before)
    code, out, err = cli(db_url, "demo", "--days", "1")
    assert code == 1 and "already has 350 orders" in err and out == ""
    with psycopg.connect(plain(db_url)) as conn:
        assert conn.execute("SELECT count(*) FROM orders").fetchone() == (350,)
        # orders and their lines agree: the demo is a consistent shop
        assert conn.execute(
            "SELECT count(*) FROM orders o WHERE total_amount <> coalesce("
            "(SELECT sum(quantity * price) FROM order_items i WHERE i.order_id = o.id), 0)"
        ).fetchone() == (0,)


def test_demo_is_deterministic(server_url: URL, db_url: URL, empty_url: URL) -> None:
    outs = []
    for url in (db_url, empty_url):
        code, out, err = cli(
            url, "demo", "--days", "3", "--orders-per-day", "40", "--seed", "7", "--json"
        )
        assert code == 0, err
        outs.append(json.loads(out))
    assert outs[0] == outs[1]


def test_read_only_database_fails_in_one_line(db_url: URL) -> None:
    with psycopg.connect(plain(db_url), autocommit=True) as conn:
        conn.execute(f'ALTER DATABASE "{db_url.database}" SET default_transaction_read_only = on')
    code, out, err = cli(db_url, "daily", "--date", "2025-01-01")
    assert (code, out) == (1, "")
    last = err.splitlines()[-1]  # after the timestamped progress lines
    assert (
        last
        == "orderreport: error: database error: the database server is read-only (a hot standby?): "
        "reports work there, but daily, migrate and demo must run against the primary"
    )
    assert "Traceback" not in err


def test_missing_privilege_fails_in_one_line(db_url: URL) -> None:
    role = f"reader_{db_url.database}"
    with psycopg.connect(plain(db_url), autocommit=True) as conn:
        conn.execute(f'CREATE ROLE "{role}" LOGIN')
        conn.execute(f'GRANT SELECT ON ALL TABLES IN SCHEMA public TO "{role}"')
        conn.execute(f'GRANT USAGE ON SCHEMA orderreport TO "{role}"')
        conn.execute(f'GRANT SELECT ON ALL TABLES IN SCHEMA orderreport TO "{role}"')
    try:
        code, out, err = cli(
            db_url.set(username=role, password=None), "daily", "--date", "2025-01-01"
        )
        assert (code, out) == (1, "")
        last = err.splitlines()[-1]
        assert last.startswith("orderreport: error: database error: permission denied for table")
        assert "migrate" not in err  # not mistaken for a missing schema
    finally:
        with psycopg.connect(plain(db_url), autocommit=True) as conn:
            conn.execute(f'DROP OWNED BY "{role}"')
            conn.execute(f'DROP ROLE "{role}"')


def test_status_flags_a_gap_behind_the_newest_report(db_url: URL) -> None:
    today = today_in("UTC")
    old = today - timedelta(days=10)
    for day in (old, today - timedelta(days=1)):
        assert cli(db_url, "daily", "--date", day.isoformat())[0] == 0
    code, out, err = cli(db_url, "status", "--json")
    status = json.loads(out)
    assert code == 1 and (status["lag_days"], status["missing_days"]) == (0, 8)
    assert f"8 days between {old} and" in err and "orderreport daily --from" in err
    code, _, _ = cli(db_url, "daily", "--from", old.isoformat(), "--to", "yesterday")
    assert code == 0 and cli(db_url, "status")[0] == 0


def test_demo_loads_its_longest_history(empty_url: URL) -> None:
    """--days at its bound (3,650) loads in one transaction without running out of the
    server's lock table (it did, creating scratch tables per day); one past it is refused."""
    code, _, err = cli(empty_url, "demo", "--days", "3651", "--orders-per-day", "1")
    assert code == 2 and "--days" in err and "3650" in err
    code, out, err = cli(empty_url, "demo", "--days", "3650", "--orders-per-day", "1", "--json")
    assert code == 0, err
    assert "loaded 3,650 orders" in err and json.loads(out)["total_orders"] == 1
