"""The jobs as one call each: `job.daily(settings, today=...)` runs daily.run on the
configured database inside the run log, delivers yesterday's digest, and writes and pushes
the run's metrics — what `orderreport daily` does, without the command line (as alembic's
`command.upgrade(config, ...)` is `alembic upgrade` without its parser); `job.demo`
loads the sample shop and stores its reports (`orderreport demo`).

Nothing here prints or exits: lines for a person go to the caller's callbacks (Events).
"""

from __future__ import annotations

import contextlib
import os
import socket
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from orderreport import __version__
from orderreport.clock import now_utc
from orderreport.config.settings import DEFAULT_MAX_CATCH_UP, DEFAULT_RESTATE
from orderreport.errors import EXIT_FAILURE, EXIT_OK, Incomplete, exit_code_of
from orderreport.reports import session

if TYPE_CHECKING:
    from orderreport.config.settings import Settings
    from orderreport.db.connection import Connection
    from orderreport.deliver import metrics
    from orderreport.reports import daily as daily_mod
    from orderreport.reports import queries, verify
    from orderreport.reports.demo import DemoResult
    from orderreport.reports.digest import Digest
    from orderreport.reports.runs import Progress
    from orderreport.shop import Shop


def _ignore(_: object) -> None:
    return None


def _no_bar() -> AbstractContextManager[Callable[[date], None]]:
    return contextlib.nullcontext(_ignore)


@dataclass(frozen=True)
class Events:
    """What the job tells its caller as it goes; by default nothing is told.

    progress: a line of progress (the CLI stamps it with the time). warning: a line that
    does not fail the run (a metrics file not written, a webhook not posted). digest:
    yesterday's digest, computed only when this is set. stored: the run's result, called
    inside the run log's transaction (what it prints is part of the run). loading: demo's
    progress bar while the orders load (a context manager giving the per-day callback).
    """

    progress: Callable[[str], None] = _ignore
    warning: Callable[[str], None] = _ignore
    digest: Callable[[Digest], None] | None = None
    stored: Callable[[daily_mod.Run], None] = _ignore
    # demo: entered while the orders load, giving the callback told each day loaded
    loading: Callable[[], AbstractContextManager[Callable[[date], None]]] = _no_bar


@dataclass(frozen=True)
class Asked:
    """What a `daily` run was asked for: its days and bounds."""

    today: date
    span: tuple[date, date] | None = None  # None: catch up to yesterday
    max_catch_up: int = DEFAULT_MAX_CATCH_UP
    restate: int = DEFAULT_RESTATE
    wait: float = 0


@dataclass(frozen=True)
class Deliveries:
    """Where a `daily` run's results go besides the database: the digest (webhook, notify
    URLs) and the run's metrics (textfile, Pushgateway)."""

    webhook: str | None = None
    notify: Sequence[str] = ()
    metrics_file: Path | None = None
    pushgateway: str | None = None


def daily(
    settings: Settings,
    *,
    today: date,
    span: tuple[date, date] | None = None,
    max_catch_up: int = DEFAULT_MAX_CATCH_UP,
    restate: int = DEFAULT_RESTATE,
    wait: float = 0,
    webhook: str | None = None,
    notify: Sequence[str] = (),
    metrics_file: Path | None = None,
    pushgateway: str | None = None,
    events: Events = Events(),  # frozen: one shared default is safe
    clock: Callable[[], datetime] = now_utc,
) -> daily_mod.Run:
    """Store the days since the newest stored one up to yesterday (or `span`), recorded in
    the run log from connect to end; then the digest (events.digest, and posted to
    `webhook` as markdown); the run's metrics to `metrics_file` and `pushgateway` whatever
    the outcome. Returns daily.run's result; raises Incomplete if a gap older than
    `max_catch_up` days is left, and whatever ended the run (LockBusy, a lost connection).
    """
    from orderreport.reports import daily as daily_mod
    from orderreport.reports import runs

    if span is not None:
        daily_mod.require_complete(span[1], today, settings.tz)  # bad input is not a run
    if webhook is not None:  # a secret, like a password: never shown whole, nor logged
        from orderreport.config import redact
        from orderreport.deliver import webhook as hook

        redact.add_secret(webhook, hook.mask(webhook))
    progress = runs.Progress()
    started, code = clock(), EXIT_OK
    try:
        asked = Asked(today, span, max_catch_up, restate, wait)
        return _logged(settings, asked, Deliveries(webhook, notify), progress, events)
    except BaseException as exc:
        code = exit_code_of(exc)
        if code == EXIT_FAILURE and notify:  # not a busy run (75), nor a signal
            _notice(exc, span, notify, events.warning)
        raise
    finally:
        figures = daily_mod.run_figures(
            time_zone=settings.tz,
            started=started,
            finished=clock(),
            exit_code=code,
            progress=progress,
            today=today,
        )
        _export_metrics(figures, metrics_file, pushgateway, events.warning)


def _logged(
    settings: Settings,
    asked: Asked,
    deliveries: Deliveries,
    progress: Progress,
    events: Events,
) -> daily_mod.Run:
    """daily.run inside the run log: a gap it leaves is a failed run there too."""
    from orderreport import db
    from orderreport.reports import daily as daily_mod
    from orderreport.reports import runs

    with (
        db.session(settings) as conn,
        runs.recorded(
            conn,
            progress,
            time_zone=settings.tz,
            span=asked.span,
            host=socket.gethostname(),
            pid=os.getpid(),
            version=__version__,
        ) as run_id,
    ):
        shop = session.checked_shop(conn, settings)
        said = _Said(events.progress)
        result = daily_mod.run(
            conn,
            shop,
            tz=settings.tz,
            today=asked.today,
            span=asked.span,
            max_catch_up=asked.max_catch_up,
            restate=asked.restate,
            wait_seconds=asked.wait,
            run_id=run_id,
            progress=progress,
            told=daily_mod.Told(plan=said.plan, stored=said.stored, changed=said.changed),
        )
        # a run that leaves a gap fails: its notify URLs get the notice instead (daily())
        notify = () if result.plan.gap else deliveries.notify
        if events.digest is not None or deliveries.webhook is not None or notify:
            warnings = _deliver(
                conn, shop, settings.tz, asked.today, events.digest, deliveries.webhook, notify
            )
            for warning in warnings:
                events.warning(warning)
            if warnings:
                runs.warn(conn, run_id, "; ".join(warnings))
        events.stored(result)
        restated_changes = {c[0].date for c in result.changes} & set(result.restated)
        if result.restated and not restated_changes:
            events.progress(f"restated {len(result.restated)} stored day(s): no figure changed")
        if result.plan.gap:
            first, last = result.plan.gap
            fix = f"orderreport daily --from {first} --to {last}"
            raise Incomplete(
                f"{first} to {last} are missing and older than --max-catch-up "
                f"{asked.max_catch_up}: store them with `{fix}`",
                fix=fix,
            )
        return result


def _deliver(
    conn: Connection,
    shop: Shop,
    tz: str,
    today: date,
    show: Callable[[Digest], None] | None,
    webhook: str | None,
    notify: Sequence[str] = (),
) -> list[str]:
    """Yesterday's digest to `show`, posted to the webhook and sent to the notify URLs (once
    a run, after its days are committed); the warnings of what could not be delivered."""
    from orderreport.deliver import webhook as hook
    from orderreport.render import digest as digest_render
    from orderreport.reports import digest

    found = digest.digest(conn, shop, today - timedelta(days=1), tz=tz)
    conn.commit()
    if show is not None:
        show(found)
    warnings = []
    if webhook is not None:
        posted = hook.post(webhook, digest_render.markdown(found))
        if posted is not None:
            warnings.append(posted)
    if notify:
        warnings += send_digest(found, notify)
    return warnings


def send_digest(found: Digest, notify: Sequence[str]) -> list[str]:
    """The digest to each notify URL (an email, or the chat's Markdown); the warnings."""
    from orderreport.deliver import notify as notify_mod
    from orderreport.render import digest as digest_render
    from orderreport.render import mail as email_render

    message = notify_mod.Message(
        title=email_render.subject(found),
        text=digest_render.text(found),
        chat=lambda limit: email_render.chat(found, limit),
        html=email_render.html(found),
    )
    return notify_mod.send(notify, message)


def _notice(
    exc: BaseException,
    span: tuple[date, date] | None,
    notify: Sequence[str],
    warn: Callable[[str], None],
) -> None:
    """A failed run's notice to the notify URLs: what failed, its line, the fix, the host."""
    from orderreport.config import redact
    from orderreport.deliver import notify as notify_mod
    from orderreport.render import mail as email_render

    for url in notify:  # masked in the error line too, before it is said anywhere
        notify_mod.register(url)
    error = redact.scrub(" ".join(str(exc).split()) or type(exc).__name__)
    if isinstance(exc, Incomplete) and exc.fix is not None:
        what, fix = "the daily run left days missing", exc.fix
    else:
        what = "the daily run failed"
        fix = "orderreport daily" + (f" --from {span[0]} --to {span[1]}" if span else "")
    title, body = email_render.failure(what=what, error=error, fix=fix, host=socket.gethostname())
    message = notify_mod.Message(title=title, text=body, chat=lambda _limit: body)
    for warning in notify_mod.send(notify, message):
        warn(warning)


def _export_metrics(
    figures: metrics.RunFigures,
    metrics_file: Path | None,
    pushgateway: str | None,
    warn: Callable[[str], None],
) -> None:
    """Write and push the run's metrics; a failure is a warning: the run's outcome stands."""
    from orderreport.deliver import metrics

    if metrics_file is not None:
        try:
            metrics.write_textfile(metrics_file, figures)
        except OSError as exc:
            warn(f"warning: metrics not written to {metrics_file}: {exc.strerror or exc}")
    if pushgateway is not None:
        warning = metrics.push(pushgateway, figures)
        if warning is not None:
            warn(warning)


@dataclass(frozen=True)
class _Said:
    """daily.run's progress callbacks, as lines."""

    line: Callable[[str], None]

    def plan(self, plan: daily_mod.Plan, restating: tuple[date, ...]) -> None:
        if plan.start is None:
            self.line("nothing new to store: reports are stored up to yesterday")
        else:
            self.line(f"storing {plan.days} day(s) {plan.start} to {plan.end}")
        if restating:
            self.line(f"restating {len(restating)} stored day(s) {restating[0]} to {restating[-1]}")

    def stored(self, s: queries.Summary) -> None:
        total = f"{s.currency} {s.total_value}" if s.currency else str(s.total_value)
        self.line(f"stored {s.date} ({s.time_zone}): {s.total_orders} orders, total {total}")

    def changed(self, changes: Sequence[verify.Difference]) -> None:
        from orderreport.reports import verify

        self.line(
            f"restated {changes[0].date} ({changes[0].time_zone}): {verify.describe(changes)}"
        )


def demo(
    settings: Settings,
    *,
    today: date,
    days: int,
    orders_per_day: int,
    seed: int,
    events: Events = Events(),  # frozen: one shared default is safe
) -> tuple[DemoResult, tuple[queries.Summary, ...]]:
    """Load the sample shop into an EMPTY database (Refused otherwise), migrating it first,
    and store its daily reports. `events.loading()` is entered while the orders load and
    gives the callback told each day loaded (a progress bar); `events.progress` hears what
    was done. Returns what was loaded and the reports stored."""
    from orderreport import db
    from orderreport.reports import daily as daily_mod
    from orderreport.reports import demo as demo_mod
    from orderreport.schema import migrate as migration

    with db.connect(settings) as conn:
        demo_mod.refuse_unless_empty(conn)
    migration.migrate(settings)
    with session.shop_session(settings) as (conn, shop):
        with events.loading() as loaded_day:
            loaded = demo_mod.load_demo(
                conn,
                shop,
                today=today,
                days=days,
                orders_per_day=orders_per_day,
                seed=seed,
                progress=loaded_day,
            )
        demo_mod.settle(conn, shop)  # commits the load first
        events.progress(
            f"loaded {loaded.orders:,} orders ({loaded.order_items:,} lines) from "
            f"{loaded.start} to {loaded.end} for {loaded.users} users and {loaded.products} "
            f"products into {settings.describe_database()}"
        )
        span = (loaded.start, loaded.end)
        run = daily_mod.run(conn, shop, tz=settings.tz, today=today, span=span, wait_seconds=60)
        days_stored = (loaded.end - loaded.start).days + 1
        events.progress(f"stored {days_stored} daily reports ({settings.tz}); yesterday's summary:")
    return loaded, run.stored
