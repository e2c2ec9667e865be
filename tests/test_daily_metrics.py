"""Prometheus from the commands: `daily --metrics-file/--pushgateway`, `status --format
prometheus`. Every file and push is read back with prometheus_client's own parser."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg
import pytest
from sqlalchemy.engine import URL

from orderreport import db
from orderreport.cli.dates import today_in
from orderreport.deliver import metrics
from tests.conftest import add_order, plain, run_cli, url_text
from tests.prom import free_port, pushed, reader_script, values

Conn = psycopg.Connection[tuple[object, ...]]
ZONE = "Europe/Moscow"  # has a slash: the grouping key must carry it


def cli(url: URL, *args: str, tz: str = ZONE) -> tuple[int, str, str]:
    r = run_cli(*args, "--database-url", url_text(url), "--tz", tz)
    return r.code, r.out, r.err


def yesterdays_orders(shop: Conn, *totals: str) -> None:
    yesterday = today_in(ZONE) - timedelta(days=1)
    for total in totals:
        add_order(shop, datetime.combine(yesterday, time(12), ZoneInfo(ZONE)), total, 1)


def test_metrics_file_carries_the_run(db_url: URL, shop: Conn, tmp_path: Path) -> None:
    yesterdays_orders(shop, "10.50", "0.25", "100.00")
    path = tmp_path / "orderreport.prom"
    code, _, err = cli(db_url, "daily", "--metrics-file", str(path))
    assert code == 0, err
    assert path.stat().st_mode & 0o777 == 0o644
    got = values(path.read_text(), time_zone=ZONE)
    finished = got["orderreport_daily_last_run_timestamp_seconds"]
    assert 0 <= datetime.now().timestamp() - finished < 60
    assert 0 <= got.pop("orderreport_daily_last_run_duration_seconds") < 60
    assert got == {
        metrics.LAST_SUCCESS: finished,
        "orderreport_daily_last_run_timestamp_seconds": finished,
        "orderreport_daily_last_run_exit_code": 0.0,
        "orderreport_daily_last_run_success": 1.0,
        "orderreport_daily_last_run_days_stored": 1.0,
        "orderreport_daily_last_run_days_restated": 0.0,
        "orderreport_daily_last_run_days_changed": 0.0,
        "orderreport_daily_yesterday_orders": 3.0,
        "orderreport_daily_yesterday_value": 110.75,
        "orderreport_daily_lag_days": 0.0,
    }
    # a busy run says so and keeps the last success
    with psycopg.connect(plain(db_url)) as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", (db.DAILY_LOCK_KEY,))
        assert cli(db_url, "daily", "--metrics-file", str(path))[0] == 75
    busy = values(path.read_text())
    assert busy["orderreport_daily_last_run_exit_code"] == 75.0
    assert busy["orderreport_daily_last_run_success"] == 0.0
    assert busy[metrics.LAST_SUCCESS] == finished
    assert "orderreport_daily_lag_days" not in busy  # unknown: the run did not get there
    # the next run restates yesterday (an order came late) and says so
    yesterdays_orders(shop, "1.00")
    assert cli(db_url, "daily", "--metrics-file", str(path))[0] == 0
    again = values(path.read_text())
    assert again["orderreport_daily_last_run_days_stored"] == 0.0
    assert again["orderreport_daily_last_run_days_restated"] == 1.0
    assert again["orderreport_daily_last_run_days_changed"] == 1.0
    assert again["orderreport_daily_yesterday_orders"] == 4.0


def test_a_run_that_cannot_connect_still_writes_its_metrics(tmp_path: Path) -> None:
    path = tmp_path / "orderreport.prom"
    url = f"postgresql://nobody:pw@127.0.0.1:{free_port()}/none"
    r = run_cli("daily", "--database-url", url, "--tz", ZONE, "--metrics-file", str(path))
    assert r.code == 1 and "cannot connect" in r.err
    got = values(path.read_text(), time_zone=ZONE)
    assert got["orderreport_daily_last_run_exit_code"] == 1.0
    assert got["orderreport_daily_last_run_success"] == 0.0
    assert metrics.LAST_SUCCESS not in got and "orderreport_daily_lag_days" not in got


def test_an_unwritable_metrics_file_is_a_warning(db_url: URL, tmp_path: Path) -> None:
    path = tmp_path / "missing-folder" / "orderreport.prom"
    code, out, err = cli(db_url, "daily", "--metrics-file", str(path), "--json")
    assert code == 0 and json.loads(out)
    assert f"warning: metrics not written to {path}: No such file or directory" in err
    assert not path.parent.exists()


# A reader in its own process reads the file in a tight loop while `daily` runs replace it:
# every read must parse and carry every series of a successful run.
_READER = reader_script(
    """
seen.add(got["orderreport_daily_last_run_timestamp_seconds"])
"""
)


def test_the_metrics_file_is_never_seen_half_written_while_runs_write_it(
    db_url: URL, shop: Conn, tmp_path: Path
) -> None:
    yesterdays_orders(shop, "1.00")
    path = tmp_path / "orderreport.prom"
    stop = tmp_path / "stop"
    assert cli(db_url, "daily", "--metrics-file", str(path))[0] == 0
    expected = json.dumps(sorted(values(path.read_text())))
    reader = subprocess.Popen(
        [sys.executable, "-c", _READER, str(path), str(stop), expected],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert reader.stdout is not None
        assert reader.stdout.readline() == "ready\n"
        for _ in range(8):
            assert cli(db_url, "daily", "--metrics-file", str(path))[0] == 0
        stop.touch()
        out, _ = reader.communicate(timeout=30)
    finally:
        if reader.poll() is None:
            reader.kill()
            reader.wait()
    report = json.loads(out)
    assert report["bad"] == [], report
    assert report["distinct"] >= 2 and report["reads"] > 100, report
    assert [p.name for p in tmp_path.iterdir() if p.name != "stop"] == [path.name]


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_a_push_to_a_real_pushgateway_carries_the_same_values(
    db_url: URL, shop: Conn, tmp_path: Path, pushgateway: str
) -> None:
    yesterdays_orders(shop, "19.99", "5.01")
    path = tmp_path / "orderreport.prom"
    code, _, err = cli(db_url, "daily", "--metrics-file", str(path), "--pushgateway", pushgateway)
    assert code == 0, err
    assert "warning" not in err
    in_file = values(path.read_text(), time_zone=ZONE)
    assert in_file["orderreport_daily_yesterday_value"] == 25.0
    assert pushed(pushgateway, ZONE) == in_file


def test_an_unreachable_pushgateway_is_a_warning_not_a_failure(db_url: URL) -> None:
    gateway = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    code, out, err = cli(db_url, "daily", "--pushgateway", gateway, "--json")
    assert code == 0 and len(json.loads(out)) == 1
    (warning,) = [line for line in err.splitlines() if "warning" in line]
    assert warning.startswith(f"warning: metrics not pushed to {gateway}: ")
    assert "Connection refused" in warning


def test_status_speaks_prometheus(db_url: URL) -> None:
    code, out, err = cli(db_url, "status", "--format", "prometheus")
    assert code == 1 and "no stored reports" in err  # unhealthy: still the figures
    assert values(out) == {
        "orderreport_status_healthy": 0.0,
        "orderreport_status_schema_at_head": 1.0,
    }
    assert cli(db_url, "daily")[0] == 0
    code, out, err = cli(db_url, "status", "--format", "prometheus")
    assert code == 0, err
    _, status_json, _ = cli(db_url, "status", "--json")
    status = json.loads(status_json, parse_float=Decimal)
    got = values(out, time_zone=ZONE)
    newest = datetime.combine(
        datetime.fromisoformat(status["newest_report"]).date(), time(0), ZoneInfo(ZONE)
    )
    assert got == {
        "orderreport_status_healthy": 1.0,
        "orderreport_status_schema_at_head": 1.0,
        "orderreport_status_lag_days": 0.0,
        "orderreport_status_missing_days": 0.0,
        "orderreport_status_newest_report_timestamp_seconds": newest.timestamp(),
        "orderreport_status_last_run_exit_code": 0.0,
        "orderreport_status_last_run_timestamp_seconds": datetime.fromisoformat(
            status["last_run_finished"]
        ).timestamp(),
    }


@pytest.mark.parametrize(
    "command", ["report", "summary", "daily", "verify", "runs", "history", "migrate", "demo"]
)
def test_only_status_takes_format_prometheus(command: str) -> None:
    """The others neither offer it in --help nor parse it: a bad choice, exit 2."""
    r = run_cli(command, "--format", "prometheus")
    assert (r.code, r.out) == (2, "")
    assert r.err.startswith("orderreport: error: Invalid value for '--format'") and (
        r.err.count("\n") == 1 and "'prometheus' is not one of 'table', 'json'" in r.err
    ), r.err
    shown = run_cli(command, "--help").out
    assert "--format <table|json|jsonl|csv" in shown and "prometheus>" not in shown
    assert "|prometheus>" in run_cli("status", "--help").out
    r = run_cli("status", "--json", "--format", "prometheus")
    assert r.code == 2 and "--json cannot be combined with --format prometheus" in r.err
