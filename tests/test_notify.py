"""The morning report delivered for real, to servers on loopback that the tests start.

SMTP (aiosmtpd): plain (no TLS, no login), STARTTLS with AUTH and implicit TLS with AUTH
(a throwaway certificate from trustme, `verify=no` as a self-signed server needs), one that
refuses every recipient, and one that accepts the connection and never says a word. Chats:
Apprise's JSON and Mattermost URLs to an HTTP server that answers 200, 500 then 200, or
never. Each test reads what arrived: the headers, both parts of an email, the figures beside
`digest --format json`; and that a failed or hanging delivery leaves the exit code, the
stored days and the run log as they should be, within its bound.
"""

from __future__ import annotations

import email
import email.policy
import json
import re
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psycopg
import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from sqlalchemy.engine import URL

from orderreport.cli.dates import today_in
from orderreport.deliver import notify
from orderreport.render import digest as digest_render
from orderreport.render import mail as email_render
from orderreport.reports import digest, session
from tests.conftest import REPO, add_order, plain, run_cli, url_text
from tests.prom import free_port
from tests.test_digest import BERLIN, DAY, the_digest
from tests.test_digest import two_currencies as two_currencies  # the fixture
from tests.test_digest_html import Browser, displayed
from tests.test_digest_html import browser as browser  # the fixture
from tests.test_webhook import Hook
from tests.test_webhook import hook as hook  # the loopback endpoint fixture

PASSWORD = "Pw-s3cret-XYZ"
TOKEN = "tok3n-ABCDEF123456"


@dataclass
class Mailbox:
    """What an SMTP server on loopback received: (envelope sender, recipients, message)."""

    port: int
    got: list[tuple[str, list[str], EmailMessage]] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)


class _Handler:
    def __init__(self, box: Mailbox, refuse: bool = False) -> None:
        self.box, self.refuse = box, refuse

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if self.refuse:
            return "550 no such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.box.got.append((envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 OK"


def _auth(box: Mailbox) -> Any:
    def check(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        ok = isinstance(data, LoginPassword) and data.password == PASSWORD.encode()
        if ok:
            box.logins.append(data.login.decode())
        return AuthResult(success=ok, handled=False)

    return check


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Any:
    ca = trustme.CA()
    return ca.issue_cert("127.0.0.1")


def _server(kind: str, certificate: Any) -> Iterator[Mailbox]:
    box = Mailbox(free_port())
    args: dict[str, Any] = {"hostname": "127.0.0.1", "port": box.port}
    context = None
    if kind in ("starttls", "ssl"):
        import ssl

        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        certificate.configure_cert(context)
        args |= {"authenticator": _auth(box), "auth_required": True}
        args |= (
            {"tls_context": context, "require_starttls": True}
            if kind == "starttls"
            else {"ssl_context": context, "auth_require_tls": False}
        )
    controller = Controller(_Handler(box, refuse=kind == "refusing"), **args)
    controller.start()
    try:
        yield box
    finally:
        controller.stop()


@pytest.fixture
def smtp(certificate: Any) -> Iterator[Mailbox]:
    yield from _server("plain", certificate)


@pytest.fixture
def starttls(certificate: Any) -> Iterator[Mailbox]:
    yield from _server("starttls", certificate)


@pytest.fixture
def ssl_smtp(certificate: Any) -> Iterator[Mailbox]:
    yield from _server("ssl", certificate)


@pytest.fixture
def refusing(certificate: Any) -> Iterator[Mailbox]:
    yield from _server("refusing", certificate)


@pytest.fixture
def mute() -> Iterator[int]:
    """A server that accepts connections and never says a word (no SMTP greeting)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield int(listener.getsockname()[1])
    finally:
        stop.set()
        thread.join(5)
        for conn in held:
            conn.close()
        listener.close()


@pytest.fixture
def chat(hook: Hook) -> Hook:
    """A chat's HTTP endpoint: test_webhook's loopback server (statuses in turn, or silence)."""
    return hook


def port(found: Hook) -> int:
    return int(urlsplit(found.url).port or 0)


def posted(found: Hook) -> list[dict[str, Any]]:
    """What came in, as JSON."""
    return [json.loads(body or b"{}") for body in found.bodies]


# -- the shop ------------------------------------------------------------------------------
@pytest.fixture
def week(db_url: URL, shop: psycopg.Connection[tuple[object, ...]]) -> URL:
    """Orders yesterday (10.00 with 2 lines, 5.50 with 1) and a week before (20.00), UTC."""
    day = today_in("UTC") - timedelta(days=1)
    from datetime import UTC, datetime

    noon = datetime(day.year, day.month, day.day, 12, tzinfo=UTC)
    add_order(shop, noon, "10.00", 2)
    add_order(shop, noon, "5.50", 1)
    add_order(shop, noon - timedelta(days=7), "20.00", 1)
    return db_url


def cli(url: URL, *args: str) -> tuple[int, str, str]:
    r = run_cli(*args, "--database-url", url_text(url))
    return r.code, r.out, r.err


def mailto(box: Mailbox, extra: str = "", scheme: str = "mailto") -> str:
    return f"{scheme}://127.0.0.1:{box.port}?from=reports@shop.example&to=owner@shop.example{extra}"


def parts(message: EmailMessage) -> tuple[str, str]:
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None and html is not None
    # lines end in CRLF on the wire (RFC 5322): read them as text
    return (
        str(text.get_content()).replace("\r\n", "\n"),
        str(html.get_content()).replace("\r\n", "\n"),
    )


# -- email ------------------------------------------------------------------------------
def test_digest_by_plain_smtp_on_loopback(week: URL, smtp: Mailbox) -> None:
    code, text_out, err = cli(week, "digest")
    assert code == 0, err
    code, out, err = cli(week, "digest", "--notify", mailto(smtp, "&cc=boss@shop.example"))
    assert (code, err) == (0, ""), err
    assert out == text_out  # stdout as without --notify
    ((sender, recipients, message),) = smtp.got  # one message, every recipient
    assert sender == "reports@shop.example"
    assert recipients == ["owner@shop.example", "boss@shop.example"]
    assert message.get_content_type() == "multipart/alternative"
    for header in ("Date", "Message-ID"):
        assert message[header], header
    assert message["Auto-Submitted"] == "auto-generated"
    found = json.loads(cli(week, "digest", "--format", "json")[1], parse_float=Decimal)
    day = found["date"]
    assert (
        message["Subject"].startswith("Orders ")
        and "(UTC): 2 orders, 15.50, " in message["Subject"]
    ), message["Subject"]
    text, html = parts(message)
    assert text == text_out
    assert "15.50" in html and "20.00" in html and day[:4] in html
    assert not re.search(r"<svg|<script|<style|<img|<link|\b(src|href)\s*=|https?://", html, re.I)


def test_a_digest_to_several_recipients_over_starttls_with_login(
    week: URL, starttls: Mailbox
) -> None:
    url = (
        f"mailtos://alice:{PASSWORD}@127.0.0.1:{starttls.port}?from=reports@shop.example"
        "&to=owner@shop.example,books@shop.example&verify=no"
    )
    code, _, err = cli(week, "digest", "--notify", url, "--verbose")
    assert code == 0 and "warning" not in err, err
    assert PASSWORD not in err
    ((_, recipients, message),) = starttls.got
    assert recipients == ["owner@shop.example", "books@shop.example"]
    assert starttls.logins == ["alice"]
    assert "owner@shop.example, books@shop.example" in message["To"]


def test_implicit_tls_with_login(week: URL, ssl_smtp: Mailbox) -> None:
    url = (
        f"mailtos://alice:{PASSWORD}@127.0.0.1:{ssl_smtp.port}?mode=ssl&verify=no"
        "&from=reports@shop.example&to=owner@shop.example"
    )
    code, _, err = cli(week, "digest", "--notify", url)
    assert code == 0 and err == "", err
    assert len(ssl_smtp.got) == 1 and ssl_smtp.logins == ["alice"]


def test_a_wrong_password_is_a_warning_without_the_password(week: URL, ssl_smtp: Mailbox) -> None:
    url = (
        f"mailtos://alice:wrong-{PASSWORD}@127.0.0.1:{ssl_smtp.port}?mode=ssl&verify=no"
        "&from=reports@shop.example&to=owner@shop.example"
    )
    code, out, err = cli(week, "digest", "--notify", url, "--verbose")
    assert code == 0 and "15.50" in out
    assert "warning: not sent to mailtos://127.0.0.1/…: the mail server refused the login" in err
    assert PASSWORD not in err and ssl_smtp.got == []


def test_a_refusing_server_is_a_warning(week: URL, refusing: Mailbox) -> None:
    code, out, err = cli(week, "digest", "--notify", mailto(refusing))
    assert code == 0 and "15.50" in out
    assert err.startswith("warning: not sent to mailto://127.0.0.1/…: the mail server "), err
    assert err.count("\n") == 1 and refusing.got == []


def test_a_server_that_never_answers_is_given_up_within_the_bound(
    week: URL, mute: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(notify, "DEFAULT_TIMEOUT", 1.0)
    started = time.monotonic()
    url = f"mailto://127.0.0.1:{mute}?from=reports@shop.example&to=owner@shop.example"
    code, out, err = cli(week, "digest", "--notify", url)
    elapsed = time.monotonic() - started
    assert code == 0 and "15.50" in out
    assert err.startswith("warning: not sent to mailto://127.0.0.1/…: "), err
    # two tries of a 1 s bound each, and the pause: well under a minute
    assert elapsed < 20, elapsed


# -- chats -------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["json", "mattermost"])
def test_a_chat_gets_the_markdown_digest(week: URL, chat: Hook, kind: str) -> None:
    url = {
        "json": f"json://127.0.0.1:{port(chat)}/hooks/{TOKEN}",
        "mattermost": f"mmost://127.0.0.1:{port(chat)}/{TOKEN}",
    }[kind]
    code, _, err = cli(week, "digest", "--notify", url, "--verbose")
    assert code == 0 and err.count("warning") == 0, err
    assert TOKEN not in err
    (body,) = posted(chat)
    markdown = cli(week, "digest", "--format", "markdown")[1]
    said = body.get("message") or body.get("text") or ""
    assert markdown.strip() in said.replace("\r\n", "\n"), said


def test_a_chat_that_fails_once_gets_it_on_the_retry(week: URL, chat: Hook) -> None:
    chat.statuses = [500, 200]
    code, _, err = cli(week, "digest", "--notify", f"json://127.0.0.1:{port(chat)}/h/{TOKEN}")
    assert code == 0 and err == "", err
    assert len(chat.bodies) == 2


def test_a_chat_that_never_answers_is_a_warning_within_the_bound(
    week: URL, chat: Hook, monkeypatch: pytest.MonkeyPatch
) -> None:
    chat.silent = True
    monkeypatch.setattr(notify, "DEFAULT_TIMEOUT", 1.0)
    started = time.monotonic()
    code, _, err = cli(week, "digest", "--notify", f"json://127.0.0.1:{port(chat)}/h/{TOKEN}")
    assert code == 0 and err.startswith("warning: not sent to json://…: "), err
    assert time.monotonic() - started < 20
    assert TOKEN not in err


def test_the_cut_keeps_whole_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        email_render, "markdown", lambda _d: "".join(f"line {i}\n" for i in range(500))
    )
    cut = email_render.chat(None, 200)  # type: ignore[arg-type]
    assert len(cut) <= 200
    assert cut.endswith(email_render.TRUNCATED)
    assert all(re.fullmatch(r"line \d+", line) for line in cut.splitlines()[:-1])
    whole = email_render.chat(None, 10_000)  # type: ignore[arg-type]
    assert whole.count("\n") == 500 and email_render.TRUNCATED not in whole


# -- daily ------------------------------------------------------------------------------
def last_run(url: URL) -> tuple[str, int, str | None]:
    with psycopg.connect(plain(url)) as conn:
        row = conn.execute(
            "SELECT status, exit_code, message FROM orderreport.runs ORDER BY id DESC LIMIT 1"
        ).fetchone()
    assert row is not None
    return row[0], row[1], row[2]


def test_daily_sends_the_digest_once_after_storing(week: URL, smtp: Mailbox, chat: Hook) -> None:
    urls = f"{mailto(smtp)} json://127.0.0.1:{port(chat)}/h/{TOKEN}"
    r = run_cli("daily", "--database-url", url_text(week), "--restate", "0")
    assert r.code == 0
    import os

    os.environ["ORDERREPORT_NOTIFY"] = urls  # the environment, as a CronJob's Secret gives it
    try:
        code, _, err = cli(week, "daily")
    finally:
        del os.environ["ORDERREPORT_NOTIFY"]
    assert code == 0, err
    assert len(smtp.got) == 1 and len(chat.bodies) == 1
    assert last_run(week) == ("succeeded", 0, None)


def test_a_failed_delivery_leaves_the_run_as_it_was(week: URL, refusing: Mailbox) -> None:
    code, _, err = cli(week, "daily", "--notify", mailto(refusing))
    assert code == 0, err
    assert "warning: not sent to mailto://127.0.0.1/…" in err
    status, exit_code, message = last_run(week)
    assert (status, exit_code) == ("succeeded", 0)
    assert message is not None and message.startswith("warning: not sent to mailto://")
    code, out, _ = cli(week, "history", "--json")
    assert [r["total_value"] for r in json.loads(out)] == [15.5]
    code, out, _ = cli(week, "runs", "--json")
    assert json.loads(out)[0]["message"] == message


def test_a_failed_run_sends_a_notice_instead(
    db_url: URL, shop: psycopg.Connection[tuple[object, ...]], smtp: Mailbox, chat: Hook
) -> None:
    today = today_in("UTC")
    first = (today - timedelta(days=10)).isoformat()
    assert cli(db_url, "daily", "--date", first)[0] == 0
    url = f"json://127.0.0.1:{port(chat)}/h/{TOKEN}"
    code, _, err = cli(
        db_url, "daily", "--max-catch-up", "2", "--notify", mailto(smtp), "--notify", url
    )
    assert code == 1, err
    ((_, _, message),) = smtp.got
    assert message["Subject"] == "orderreport: the daily run left days missing"
    body = message.get_content()
    assert "orderreport daily --from" in body and socket.gethostname() in body
    assert "Error: " in body and "are missing" in body
    (sent,) = posted(chat)
    assert "the daily run left days missing" in json.dumps(sent)


def test_a_busy_run_sends_nothing(week: URL, smtp: Mailbox) -> None:
    from orderreport.db import DAILY_LOCK_KEY

    with psycopg.connect(plain(week)) as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", (DAILY_LOCK_KEY,))
        code, _, err = cli(week, "daily", "--notify", mailto(smtp))
    assert code == 75, err
    assert smtp.got == []


def test_a_run_that_cannot_connect_sends_a_notice(smtp: Mailbox) -> None:
    url = f"postgresql://nobody:{PASSWORD}@127.0.0.1:{free_port()}/shop"
    r = run_cli("daily", "--database-url", url, "--notify", mailto(smtp))
    assert r.code == 1
    ((_, _, message),) = smtp.got
    assert message["Subject"] == "orderreport: the daily run failed"
    assert PASSWORD not in message.get_content() and PASSWORD not in r.err


# -- secrets and start-up ------------------------------------------------------------------
def test_the_email_html_is_for_mail_clients(week: URL) -> None:
    from tests.conftest import settings_for

    with session.shop_session(settings_for(week)) as (conn, shop):
        found = digest.digest(conn, shop, today_in("UTC") - timedelta(days=1), tz="UTC")
    page = email_render.html(found)
    assert "<svg" not in page and "<script" not in page and "<style" not in page
    assert not re.search(r"\b(src|href)\s*=|url\(|https?://", page, re.I)
    assert "width=device-width" in page
    assert email_render.subject(found).endswith(
        "vs " + digest_render.basis_label(found, "previous_day").split()[0]
    )


EMAIL_SHOT = REPO / "docs" / "email-390.png"
# what a reader of the email sees, measured in the browser
EMAIL_MEASURE = """(() => {
  const de = document.documentElement;
  let right = 0;
  for (const el of document.querySelectorAll('body *')) {
    const box = el.getBoundingClientRect();
    if (box.width > 0) right = Math.max(right, box.right);
  }
  return {scrollWidth: de.scrollWidth, clientWidth: de.clientWidth, right: right,
          text: document.body.innerText, svgs: document.querySelectorAll('svg').length,
          scripts: document.scripts.length, images: document.images.length};
})()"""


@pytest.mark.usefixtures("two_currencies")
def test_the_email_in_a_real_browser_at_phone_and_desktop_width(
    db_url: URL, tmp_path: Path, browser: Browser
) -> None:
    d = the_digest(db_url, DAY, BERLIN)
    page = tmp_path / "email.html"
    page.write_text(email_render.html(d), encoding="utf-8")
    for width in (390, 1280):
        browser.open(page, width)
        found = browser.evaluate(EMAIL_MEASURE)
        assert found["scrollWidth"] <= found["clientWidth"] == width, (width, found)
        assert found["right"] <= width + 0.5, (width, found)
        assert (found["svgs"], found["scripts"], found["images"]) == (0, 0, 0)
        text = found["text"]
        for c in d.currencies:
            assert (c.currency or "All orders") in text
            for name in digest_render.LABELS if c.orders else digest_render.QUIET_FIGURES:
                figure = c.figure(name)
                assert digest_render.amount(name, figure.value) in text, name
                for basis in digest.BASES:
                    comparison = figure.against(basis)
                    assert digest_render.amount(name, comparison.base) in text
                    assert displayed(digest_render.percent(comparison)) in text
            for _day, value in c.history:  # the chart's every bar, with its value
                assert digest_render.amount("total_value", value) in text
        browser.screenshot(tmp_path / f"email-{width}.png", width)
    # README's picture, taken once (delete it to take it again)
    if not EMAIL_SHOT.exists():
        EMAIL_SHOT.parent.mkdir(exist_ok=True)
        shutil.copyfile(tmp_path / "email-390.png", EMAIL_SHOT)


def test_secrets_in_notify_urls_never_show(week: URL, chat: Hook, ssl_smtp: Mailbox) -> None:
    """A token in a chat URL that fails and a password in a mail URL that fails: neither on
    stderr (with --verbose), nor in the run log, nor in `runs`."""
    chat.statuses = [500]
    urls = [
        f"json://127.0.0.1:{port(chat)}/hooks/{TOKEN}",
        f"mailtos://alice:{PASSWORD}x@127.0.0.1:{ssl_smtp.port}?mode=ssl&verify=no"
        "&from=reports@shop.example&to=owner@shop.example",
    ]
    r = run_cli(
        "--verbose",
        "daily",
        "--database-url",
        url_text(week),
        "--notify",
        urls[0],
        "--notify",
        urls[1],
    )
    assert r.code == 0, r.err
    assert r.err.count("warning: not sent to ") == 2, r.err
    runs = cli(week, "runs", "--json")[1]
    message = last_run(week)[2]
    assert message is not None and "json://…" in message and "mailtos://127.0.0.1/…" in message
    for text in (r.err, r.out, runs, message):
        assert TOKEN not in text and PASSWORD not in text
