"""orderreport.metrics: the textfile, the Pushgateway push and the status exposition.

Every file and push is read back with prometheus_client's own parser. The Pushgateway test
runs the real binary (Debian: apt-get install prometheus-pushgateway); without it that test
is skipped, unless CI is set: then it fails.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from orderreport.deliver import metrics
from orderreport.deliver.metrics import HealthFigures, RunFigures
from tests.prom import free_port, reader_script, values
from tests.prom import pushed as pushed_in

ZONE = "Europe/Berlin"  # has a slash: the Pushgateway grouping key must encode it
STARTED = datetime(2024, 5, 2, 3, 0, 0, tzinfo=UTC)
FINISHED = STARTED + timedelta(seconds=12.5)

SUCCESS = RunFigures(
    time_zone=ZONE,
    started=STARTED,
    finished=FINISHED,
    exit_code=0,
    days_stored=3,
    days_restated=2,
    days_changed=1,
    yesterday=((None, 42, Decimal("1234.56")),),
    lag_days=0,
)
FAILURE = RunFigures(
    time_zone=ZONE,
    started=STARTED + timedelta(days=1),
    finished=STARTED + timedelta(days=1, seconds=4),
    exit_code=1,
    days_stored=0,
    days_restated=0,
    days_changed=0,
    yesterday=(),
    lag_days=None,
)

SUCCESS_VALUES = {
    "orderreport_daily_last_success_timestamp_seconds": FINISHED.timestamp(),
    "orderreport_daily_last_run_timestamp_seconds": FINISHED.timestamp(),
    "orderreport_daily_last_run_exit_code": 0.0,
    "orderreport_daily_last_run_success": 1.0,
    "orderreport_daily_last_run_duration_seconds": 12.5,
    "orderreport_daily_last_run_days_stored": 3.0,
    "orderreport_daily_last_run_days_restated": 2.0,
    "orderreport_daily_last_run_days_changed": 1.0,
    "orderreport_daily_yesterday_orders": 42.0,
    "orderreport_daily_yesterday_value": 1234.56,
    "orderreport_daily_lag_days": 0.0,
}
FAILURE_VALUES = {
    # carried over from the successful run before it
    "orderreport_daily_last_success_timestamp_seconds": FINISHED.timestamp(),
    "orderreport_daily_last_run_timestamp_seconds": FAILURE.finished.timestamp(),
    "orderreport_daily_last_run_exit_code": 1.0,
    "orderreport_daily_last_run_success": 0.0,
    "orderreport_daily_last_run_duration_seconds": 4.0,
    "orderreport_daily_last_run_days_stored": 0.0,
    "orderreport_daily_last_run_days_restated": 0.0,
    "orderreport_daily_last_run_days_changed": 0.0,
}


def types(text: str) -> dict[str, str]:
    return {family.name: family.type for family in text_string_to_metric_families(text)}


# --- textfile ---------------------------------------------------------------------------


def test_textfile_carries_the_figures(tmp_path: Path) -> None:
    path = tmp_path / "orderreport.prom"
    metrics.write_textfile(path, SUCCESS)
    text = path.read_text()
    assert values(text) == SUCCESS_VALUES
    assert values(text, time_zone=ZONE) == SUCCESS_VALUES  # every series carries the zone
    assert set(types(text).values()) == {"gauge"}
    assert list(tmp_path.iterdir()) == [path]  # no temp file left behind


def test_yesterday_figures_per_currency_never_added(tmp_path: Path) -> None:
    """Each currency a series of its own (label `currency`); the other figures carry none."""
    path = tmp_path / "orderreport.prom"
    two = replace(
        SUCCESS,
        yesterday=(("EUR", 3, Decimal("10.50")), ("RUB", 2, Decimal("900.00"))),
    )
    metrics.write_textfile(path, two)
    text = path.read_text()
    for currency, orders, value in (("EUR", 3.0, 10.5), ("RUB", 2.0, 900.0)):
        assert values(text, currency=currency) == {
            "orderreport_daily_yesterday_orders": orders,
            "orderreport_daily_yesterday_value": value,
        }
    rest = {k: v for k, v in SUCCESS_VALUES.items() if "yesterday" not in k}
    assert values(text, currency="") == {}  # no series without its currency
    assert all(k in text for k in rest)


def test_textfile_is_world_readable_whatever_the_umask(tmp_path: Path) -> None:
    path = tmp_path / "orderreport.prom"
    old = os.umask(0o077)
    try:
        metrics.write_textfile(path, SUCCESS)
        metrics.write_textfile(path, SUCCESS)  # replacing keeps it so too
    finally:
        os.umask(old)
    assert path.stat().st_mode & 0o777 == 0o644


def test_failed_run_keeps_the_previous_success_time(tmp_path: Path) -> None:
    path = tmp_path / "orderreport.prom"
    metrics.write_textfile(path, SUCCESS)
    metrics.write_textfile(path, FAILURE)
    assert values(path.read_text()) == FAILURE_VALUES
    metrics.write_textfile(path, replace(FAILURE, exit_code=75))  # and again
    assert values(path.read_text())[metrics.LAST_SUCCESS] == FINISHED.timestamp()
    later = replace(SUCCESS, finished=FINISHED + timedelta(days=2))
    metrics.write_textfile(path, later)  # a success moves it on
    assert values(path.read_text())[metrics.LAST_SUCCESS] == later.finished.timestamp()


def test_failed_run_without_a_previous_success_leaves_it_out(tmp_path: Path) -> None:
    path = tmp_path / "orderreport.prom"
    metrics.write_textfile(path, FAILURE)
    first = values(path.read_text())
    assert metrics.LAST_SUCCESS not in first
    assert first["orderreport_daily_last_run_success"] == 0.0
    for damaged in (b"this is { not exposition text\n", b"\xff\xfe not UTF-8\n"):
        path.write_bytes(damaged)  # damaged by hand: not an error
        metrics.write_textfile(path, FAILURE)
        assert values(path.read_text()) == first
    other_zone = replace(SUCCESS, time_zone="America/New_York")
    metrics.write_textfile(path, other_zone)  # another zone's success is not ours
    metrics.write_textfile(path, FAILURE)
    assert metrics.LAST_SUCCESS not in values(path.read_text())


def test_unwritable_textfile_raises_and_leaves_nothing_behind(tmp_path: Path) -> None:
    path = tmp_path / "orderreport.prom"
    path.mkdir()  # the rename onto it fails for real
    with pytest.raises(OSError):
        metrics.write_textfile(path, SUCCESS)
    assert list(tmp_path.iterdir()) == [path]
    assert list(path.iterdir()) == []


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        replace(SUCCESS, finished=datetime(2024, 5, 2, 3, 0))
    with pytest.raises(ValueError, match="timezone-aware"):
        HealthFigures(ZONE, True, True, 0, 0, None, 0, datetime(2024, 5, 2))


# A reader in its own process (no GIL shared with the writer) reads the file in a tight
# loop; every read must parse, carry every series, and be one run's figures, not a mix.
_READER = reader_script(
    """
# the writer derives every figure from one number i
i = got["orderreport_daily_last_run_days_stored"]
derived = {
    i,
    got["orderreport_daily_last_run_days_restated"],
    got["orderreport_daily_yesterday_orders"],
    got["orderreport_daily_lag_days"],
    got["orderreport_daily_yesterday_value"] - 0.25,
    got["orderreport_daily_last_run_timestamp_seconds"] - 1700000000,
}
if len(derived) != 1:
    bad.append(f"mixed figures {sorted(derived)}: {text!r}")
seen.add(i)
"""
)


def test_textfile_is_never_seen_half_written(tmp_path: Path) -> None:
    path = tmp_path / "orderreport.prom"
    stop = tmp_path / "stop"

    def figures(i: int) -> RunFigures:
        finished = datetime.fromtimestamp(1700000000 + i, UTC)
        return RunFigures(
            time_zone=ZONE,
            started=finished - timedelta(seconds=1),
            finished=finished,
            exit_code=0,
            days_stored=i,
            days_restated=i,
            days_changed=i % 2,
            yesterday=((None, i, Decimal(i) + Decimal("0.25")),),
            lag_days=i,
        )

    metrics.write_textfile(path, figures(0))
    expected = json.dumps(sorted(SUCCESS_VALUES))
    reader = subprocess.Popen(
        [sys.executable, "-c", _READER, str(path), str(stop), expected],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert reader.stdout is not None
        assert reader.stdout.readline() == "ready\n"  # it reads before the writer starts
        for i in range(1, 401):
            metrics.write_textfile(path, figures(i))
        stop.touch()
        out, _ = reader.communicate(timeout=30)
    finally:
        if reader.poll() is None:
            reader.kill()
            reader.wait()
    report = json.loads(out)
    assert report["bad"] == [], report
    # the reads overlapped the writes: the reader saw many different runs
    assert report["distinct"] > 10, report
    assert values(path.read_text())["orderreport_daily_last_run_days_stored"] == 400.0


# --- status -----------------------------------------------------------------------------


def test_health_exposition_parses_and_carries_the_figures() -> None:
    figures = HealthFigures(
        time_zone=ZONE,
        healthy=False,
        schema_at_head=True,
        lag_days=3,
        missing_days=5,
        newest_report=date(2024, 3, 31),  # the day Berlin's clocks go forward
        last_run_exit_code=75,
        last_run_finished=FINISHED,
    )
    text = metrics.health_exposition(figures)
    assert values(text, time_zone=ZONE) == {
        "orderreport_status_healthy": 0.0,
        "orderreport_status_schema_at_head": 1.0,
        "orderreport_status_lag_days": 3.0,
        "orderreport_status_missing_days": 5.0,
        # local midnight of 2024-03-31 in Berlin (CET, +01:00) = 2024-03-30T23:00:00Z
        "orderreport_status_newest_report_timestamp_seconds": 1711839600.0,
        "orderreport_status_last_run_exit_code": 75.0,
        "orderreport_status_last_run_timestamp_seconds": FINISHED.timestamp(),
    }
    assert set(types(text).values()) == {"gauge"}


def test_health_exposition_leaves_unknown_figures_out() -> None:
    text = metrics.health_exposition(HealthFigures(ZONE, False, False, None, None, None))
    assert values(text) == {
        "orderreport_status_healthy": 0.0,
        "orderreport_status_schema_at_head": 0.0,
    }


def test_daily_and_status_share_no_metric_name() -> None:
    # node_exporter rejects a series that two .prom files in its folder both carry
    assert not set(metrics.DAILY_METRICS) & set(metrics.HEALTH_METRICS)


# --- Pushgateway ------------------------------------------------------------------------


def pushed(url: str, zone: str = ZONE) -> dict[str, float]:
    return pushed_in(url, zone)


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_push_reaches_a_real_pushgateway(pushgateway: str) -> None:
    assert metrics.push(pushgateway, SUCCESS) is None
    assert pushed(pushgateway) == SUCCESS_VALUES
    # a failed run replaces its own figures and leaves the last success (and the last
    # known yesterday figures) as the successful run pushed them
    assert metrics.push(pushgateway, FAILURE) is None
    assert pushed(pushgateway) == {**SUCCESS_VALUES, **FAILURE_VALUES}
    # a success replaces the whole group again
    later = replace(SUCCESS, finished=FINISHED + timedelta(days=2), yesterday=())
    assert metrics.push(pushgateway, later) is None
    expected = {**SUCCESS_VALUES}
    del expected["orderreport_daily_yesterday_orders"]
    del expected["orderreport_daily_yesterday_value"]
    expected[metrics.LAST_SUCCESS] = later.finished.timestamp()
    expected["orderreport_daily_last_run_timestamp_seconds"] = later.finished.timestamp()
    expected["orderreport_daily_last_run_duration_seconds"] = (
        later.finished - later.started
    ).total_seconds()
    assert pushed(pushgateway) == expected
    # each zone is a group of its own: another zone's full replace leaves ours alone
    other = replace(SUCCESS, time_zone="America/New_York")
    assert metrics.push(pushgateway, other) is None
    assert pushed(pushgateway, "America/New_York") == SUCCESS_VALUES
    assert pushed(pushgateway) == expected


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_push_refused_by_the_gateway_is_a_warning(pushgateway: str) -> None:
    warning = metrics.push(f"{pushgateway}/no/such/prefix", SUCCESS)
    assert warning is not None
    assert warning.startswith("warning: metrics not pushed to http://127.0.0.1:")
    assert "404" in warning
    assert "\n" not in warning


def test_unreachable_gateway_is_a_warning_within_the_timeout() -> None:
    url = f"http://127.0.0.1:{free_port()}"  # closed: nothing listens there
    began = time.monotonic()
    warning = metrics.push(url, SUCCESS, timeout=2.0)
    assert time.monotonic() - began < 2.0
    assert warning is not None
    assert warning.startswith(f"warning: metrics not pushed to {url}: ")
    assert "Connection refused" in warning


def test_silent_gateway_is_a_warning_after_the_timeout() -> None:
    # listening but never answering: the connection is accepted by the kernel's backlog,
    # then the read times out
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        url = f"http://127.0.0.1:{server.getsockname()[1]}"
        began = time.monotonic()
        warning = metrics.push(url, SUCCESS, timeout=0.5)
        elapsed = time.monotonic() - began
    assert warning is not None
    assert warning.startswith(f"warning: metrics not pushed to {url}: ")
    assert "timed out" in warning
    assert 0.4 < elapsed < 3.0


@pytest.mark.parametrize("scheme", ["http://", "https://", "ftp://", ""])
def test_credentials_in_the_url_never_reach_the_warning(scheme: str) -> None:
    port = free_port()
    warning = metrics.push(f"{scheme}user:s3cret@127.0.0.1:{port}", SUCCESS, timeout=1.0)
    assert warning is not None
    # refused before any connection: urllib would take user:s3cret@127.0.0.1 for a host name
    # and give a puzzling "Name or service not known"
    assert warning == (
        f"warning: metrics not pushed to {scheme}127.0.0.1:{port}: "
        "credentials in the URL are not supported"
    )
    assert "s3cret" not in warning
    assert "user" not in warning


def test_malformed_url_is_a_warning() -> None:
    warning = metrics.push("http://user:s3cret@[::1", SUCCESS, timeout=1.0)
    assert (
        warning
        == "warning: metrics not pushed: the Pushgateway URL is malformed (Invalid IPv6 URL)"
    )
    empty = metrics.push("", SUCCESS, timeout=1.0)
    assert empty == "warning: metrics not pushed: the Pushgateway URL is empty"


@pytest.mark.parametrize("mode", [0o600, 0o644])
def test_one_atomic_write_gives_its_mode_and_leaves_nothing_behind(
    tmp_path: Path, mode: int
) -> None:
    """files.write_atomically (the textfile's, the embedded server's private files'): the
    mode asked for whatever the umask, no temporary file left, and on failure the old file
    as it was."""
    from orderreport import files

    path = tmp_path / "out.prom"
    path.write_bytes(b"old\n")
    old = os.umask(0o022 if mode == 0o600 else 0o077)
    try:
        files.write_atomically(path, b"new\n", mode)
    finally:
        os.umask(old)
    assert path.read_bytes() == b"new\n" and path.stat().st_mode & 0o777 == mode
    assert [p.name for p in tmp_path.iterdir()] == ["out.prom"]
    with pytest.raises(TypeError):  # the write fails once the temporary file exists
        files.write_atomically(path, "not bytes", mode)  # type: ignore[arg-type]
    assert path.read_bytes() == b"new\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.prom"]
