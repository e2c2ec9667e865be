"""Prometheus metrics for the daily job and the health status, through prometheus_client.

Three ways out, all built on a fresh CollectorRegistry per call (never the global one, which
would also carry this process's own python_*/process_* series):

- write_textfile: the node_exporter textfile-collector format, written atomically.
- push: the same figures to a Pushgateway (Kubernetes CronJobs, which nothing scrapes).
- health_exposition: the `status` figures as exposition text, for a scrape or a textfile.

The daily figures are named orderreport_daily_*, the status figures orderreport_status_*:
node_exporter refuses a metric that two .prom files in its folder both carry, so the two
commands never share a name even where they mean the same thing (lag, last run). Every
series carries one label, time_zone (the shop's zone): one file or push per zone. There is
no `job` label in the series: Prometheus sets `job` from its scrape configuration, and the
Pushgateway takes it from the grouping key.

This module takes plain data; it never touches the database and prints nothing.
"""

from __future__ import annotations

import http.client
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.error import HTTPError, URLError
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from orderreport import files

if TYPE_CHECKING:  # prometheus_client is imported by the functions that use it: every
    # command imports this module, and the library costs a noticeable part of start-up
    from prometheus_client import CollectorRegistry

PUSH_JOB = "orderreport_daily"
DEFAULT_PUSH_TIMEOUT = 5.0  # seconds, per connect and per read (urllib's timeout)
TEXTFILE_MODE = 0o644  # node_exporter runs as another user: metrics are world-readable

LAST_SUCCESS = "orderreport_daily_last_success_timestamp_seconds"
# name -> help text; the order is the order in the exposition
DAILY_METRICS: dict[str, str] = {
    LAST_SUCCESS: "When the last successful daily run finished (unix seconds).",
    "orderreport_daily_last_run_timestamp_seconds": "When the last daily run finished "
    "(unix seconds), whatever its outcome.",
    "orderreport_daily_last_run_exit_code": "Exit code of the last daily run (0: success; "
    "see `orderreport --help` for the table).",
    "orderreport_daily_last_run_success": "1 if the last daily run succeeded, else 0.",
    "orderreport_daily_last_run_duration_seconds": "How long the last daily run took.",
    "orderreport_daily_last_run_days_stored": "Days the last daily run stored (the days "
    "it set out to store: catch-up or --date/--from/--to).",
    "orderreport_daily_last_run_days_restated": "Already-stored days the last daily run "
    "recomputed (--restate), changed or not.",
    "orderreport_daily_last_run_days_changed": "Stored days whose figures the last daily "
    "run changed (restated, or stored again with other figures).",
    "orderreport_daily_yesterday_orders": "Orders of yesterday in the shop's zone.",
    "orderreport_daily_yesterday_value": "Total value of yesterday's orders (a float "
    "approximation; the exact figure is in daily_reports).",
    "orderreport_daily_lag_days": "Days between the newest stored report and yesterday.",
}
HEALTH_METRICS: dict[str, str] = {
    "orderreport_status_healthy": "1 if `orderreport status` finds the installation healthy.",
    "orderreport_status_schema_at_head": "1 if the database schema is at the head revision.",
    "orderreport_status_lag_days": "Days between the newest stored report and yesterday.",
    "orderreport_status_missing_days": "Days since the oldest stored report, up to "
    "yesterday, that are not stored.",
    "orderreport_status_newest_report_timestamp_seconds": "Start (local midnight in the "
    "shop's zone) of the newest stored report day (unix seconds).",
    "orderreport_status_last_run_exit_code": "Exit code of the last daily run.",
    "orderreport_status_last_run_timestamp_seconds": "When the last daily run finished "
    "(unix seconds).",
}


def _require_aware(name: str, value: datetime | None) -> None:
    # a naive datetime's .timestamp() silently assumes this machine's zone
    if value is not None and value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got {value.isoformat()}")


@dataclass(frozen=True)
class RunFigures:
    """What one `daily` run did. Datetimes must be timezone-aware.

    The lag figure is None, and `yesterday` empty, when the run did not get that far.
    `yesterday` holds (currency, orders, value) per currency ("" or None: none).
    """

    time_zone: str
    started: datetime
    finished: datetime
    exit_code: int
    days_stored: int
    days_restated: int
    days_changed: int
    yesterday: tuple[tuple[str | None, int, Decimal], ...]
    lag_days: int | None

    def __post_init__(self) -> None:
        _require_aware("started", self.started)
        _require_aware("finished", self.finished)

    @property
    def succeeded(self) -> bool:
        return self.exit_code == 0


@dataclass(frozen=True)
class HealthFigures:
    """What `status` found; the figures it could not know are None."""

    time_zone: str
    healthy: bool
    schema_at_head: bool
    lag_days: int | None
    missing_days: int | None
    newest_report: date | None  # a report day in time_zone
    last_run_exit_code: int | None = None
    last_run_finished: datetime | None = None

    def __post_init__(self) -> None:
        _require_aware("last_run_finished", self.last_run_finished)


def _registry(
    helps: dict[str, str],
    time_zone: str,
    values: dict[str, float | None],
    per_currency: dict[str, list[tuple[str, float]]] | None = None,
) -> CollectorRegistry:
    """A fresh registry with one time_zone-labelled gauge per value that is not None, and
    a time_zone- and currency-labelled gauge per currency of each `per_currency` figure."""
    from prometheus_client import CollectorRegistry, Gauge

    registry = CollectorRegistry()
    for name, value in values.items():
        if value is None:
            continue  # unknown: absent, rather than a 0 that would read as a real figure
        Gauge(name, helps[name], ["time_zone"], registry=registry).labels(time_zone).set(value)
    for name, samples in (per_currency or {}).items():
        if not samples:
            continue
        gauge = Gauge(name, helps[name], ["time_zone", "currency"], registry=registry)
        for currency, sample in samples:
            gauge.labels(time_zone, currency).set(sample)
    return registry


def _yesterday(figures: RunFigures) -> dict[str, list[tuple[str, float]]]:
    """Yesterday's figures per currency; never added across currencies."""
    return {
        "orderreport_daily_yesterday_orders": [
            (c or "", float(orders)) for c, orders, _value in figures.yesterday
        ],
        # Prometheus samples are float64: money loses exactness here, unavoidably. It is
        # for graphs and alerts; the exact Decimal stays in daily_reports.
        "orderreport_daily_yesterday_value": [
            (c or "", float(value)) for c, _orders, value in figures.yesterday
        ],
    }


def _run_values(figures: RunFigures, last_success: float | None) -> dict[str, float | None]:
    return {
        LAST_SUCCESS: last_success,
        "orderreport_daily_last_run_timestamp_seconds": figures.finished.timestamp(),
        "orderreport_daily_last_run_exit_code": figures.exit_code,
        "orderreport_daily_last_run_success": 1 if figures.succeeded else 0,
        "orderreport_daily_last_run_duration_seconds": (
            figures.finished - figures.started
        ).total_seconds(),
        "orderreport_daily_last_run_days_stored": figures.days_stored,
        "orderreport_daily_last_run_days_restated": figures.days_restated,
        "orderreport_daily_last_run_days_changed": figures.days_changed,
        "orderreport_daily_lag_days": figures.lag_days,
    }


def previous_success(path: Path, time_zone: str) -> float | None:
    """The last-success time (unix seconds) for `time_zone` in an existing textfile.

    None if the file is missing, does not parse, or has no such sample.
    """
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    try:
        from prometheus_client.parser import text_string_to_metric_families

        for family in text_string_to_metric_families(data.decode("utf-8")):
            for sample in family.samples:
                if sample.name == LAST_SUCCESS and sample.labels.get("time_zone") == time_zone:
                    return float(sample.value)
    except ValueError:  # UnicodeDecodeError included
        return None  # not ours or damaged by hand: this run starts the record afresh
    return None


def write_textfile(path: Path, figures: RunFigures) -> None:
    """Write the run's figures to `path` (node_exporter textfile format), atomically, 0644.

    A failed run carries over the last-success time found in the file it replaces; with
    none there, the series is left out. Raises OSError if the file cannot be written (the
    previous file is then left as it was).
    """
    last_success = (
        figures.finished.timestamp()
        if figures.succeeded
        else previous_success(path, figures.time_zone)
    )
    registry = _registry(
        DAILY_METRICS, figures.time_zone, _run_values(figures, last_success), _yesterday(figures)
    )
    from prometheus_client import generate_latest

    # prometheus_client.write_to_textfile also renames a temp file over `path`, but leaves
    # its mode to the umask: under UMask=0077 node_exporter (another user) could not read it
    files.write_atomically(path, generate_latest(registry), TEXTFILE_MODE)


def _safe_url(url: str) -> str:
    """`url` without credentials (anything up to an "@"), for messages.

    Raises ValueError for a URL that does not split (urlsplit's reason).
    """
    scheme = urlsplit(url).scheme
    # whatever the scheme, user:password@ is before the last "@": a gateway's URL has no
    # other use for one
    before, at, after = url.rpartition("@")
    if not at:
        return url
    return f"{scheme}://{after}" if "://" in before else after


def push(
    gateway_url: str, figures: RunFigures, timeout: float = DEFAULT_PUSH_TIMEOUT
) -> str | None:
    """Push the run's figures to the Pushgateway at `gateway_url`.

    Grouping key: job="orderreport_daily", time_zone=<zone>. A successful run replaces the
    whole group (PUT); a failed one replaces only the series it sends (POST) and does not
    send a last-success time, so the gateway keeps the one from the last successful run.
    `timeout` bounds each connect and read (seconds), not name resolution.

    Returns None once pushed, else a one-line warning (no credentials) for stderr: a
    failed push must not fail the run.
    """
    try:
        where = _safe_url(gateway_url)
    except ValueError as exc:  # not echoed: a URL we cannot split may hide a password
        return f"warning: metrics not pushed: the Pushgateway URL is malformed ({exc})"
    if not where:
        return "warning: metrics not pushed: the Pushgateway URL is empty"
    if where != gateway_url:
        # urllib has no use for them: it would look up user:password@host as a host name
        return f"warning: metrics not pushed to {where}: credentials in the URL are not supported"
    last_success = figures.finished.timestamp() if figures.succeeded else None
    registry = _registry(
        DAILY_METRICS, figures.time_zone, _run_values(figures, last_success), _yesterday(figures)
    )
    from prometheus_client.exposition import push_to_gateway, pushadd_to_gateway

    send = push_to_gateway if figures.succeeded else pushadd_to_gateway
    try:
        send(
            gateway_url,
            job=PUSH_JOB,
            registry=registry,
            grouping_key={"time_zone": figures.time_zone},
            timeout=timeout,
        )
    except (OSError, ValueError, http.client.HTTPException) as exc:
        # OSError covers URLError, HTTPError (4xx/5xx), refused connections and timeouts;
        # ValueError a malformed URL; HTTPException a garbled reply.
        # URLError wraps the socket error: "<urlopen error [Errno 111] ...>" says it twice
        cause = exc.reason if isinstance(exc, URLError) and not isinstance(exc, HTTPError) else exc
        reason = " ".join(str(cause).split()) or type(cause).__name__
        return f"warning: metrics not pushed to {where}: {reason}"
    return None


def _midnight(day: date, time_zone: str) -> float:
    """Unix seconds of local midnight starting `day` in `time_zone`."""
    return datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(time_zone)).timestamp()


def health_exposition(figures: HealthFigures) -> str:
    """The status figures as Prometheus text exposition (generate_latest), ending in a
    newline. Figures that are None are left out."""
    values: dict[str, float | None] = {
        "orderreport_status_healthy": 1 if figures.healthy else 0,
        "orderreport_status_schema_at_head": 1 if figures.schema_at_head else 0,
        "orderreport_status_lag_days": figures.lag_days,
        "orderreport_status_missing_days": figures.missing_days,
        "orderreport_status_newest_report_timestamp_seconds": (
            None
            if figures.newest_report is None
            else _midnight(figures.newest_report, figures.time_zone)
        ),
        "orderreport_status_last_run_exit_code": figures.last_run_exit_code,
        "orderreport_status_last_run_timestamp_seconds": (
            None if figures.last_run_finished is None else figures.last_run_finished.timestamp()
        ),
    }
    registry = _registry(HEALTH_METRICS, figures.time_zone, values)
    from prometheus_client import generate_latest

    return generate_latest(registry).decode("utf-8")
