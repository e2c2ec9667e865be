"""The morning report delivered: by email and to the common chats, from Apprise URLs.

One URL syntax for all of them, Apprise's (`mailto://`, `mailtos://`, `slack://`,
`discord://`, `tgram://`, `mattermost://`, `ntfy://`, `json://`, `workflows://`, …): Apprise
parses every URL. A chat gets its message through Apprise's own plugin, the Markdown digest
cut to the service's message limit. An email is one message to all its recipients,
`multipart/alternative` with our own text part (the plain-text digest) and HTML part (made
for mail clients: email_render.py), `Date`, `Message-ID` and `Auto-Submitted:
auto-generated` (RFC 3834: no auto-replies come back); Apprise would send one message per
recipient and write its own text part from the HTML, so the message is built here and sent
with smtplib, to the server, port, TLS mode (`mailto://` none, `mailtos://` STARTTLS,
`?mode=ssl` implicit TLS, `verify=no` for a self-signed certificate) and login the URL says.

Every send is bounded: each connect and read by `timeout` seconds, the whole of one try by
a deadline (a daemon thread: a server that drips a byte a second cannot hold the run or
its exit), and one retry. A failed send is a warning (a line for stderr and the run log),
never an exception: the run's outcome and its stored days stand. A URL is a secret (its
password, token or webhook path): it is registered with redact, and no message shows more
of it than its scheme and, for email, its server.

Apprise (and requests, smtplib) load only when something is sent.
"""

from __future__ import annotations

import contextlib
import logging
import smtplib
import ssl
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid
from typing import Any
from urllib.parse import unquote, urlsplit

from orderreport.config import redact, settings
from orderreport.errors import EXCERPT_LIMIT

DEFAULT_TIMEOUT = settings.DELIVERY_TIMEOUT  # seconds, each connect and each read
DEFAULT_RETRIES = settings.DELIVERY_RETRIES  # one more try after a failure
RETRY_PAUSE = settings.RETRY_PAUSE  # seconds between two tries
MAIL_SCHEMES = ("mailto", "mailtos")


@dataclass(frozen=True)
class Message:
    """What to send: a title (an email's subject), the plain text, Markdown for chats (cut
    to each chat's limit by `chat`), and an HTML part for email (None: text only)."""

    title: str
    text: str
    chat: Callable[[int], str]
    html: str | None = None


def mask(url: str) -> str:
    """`mailtos://smtp.example.com/…`, `slack://…`: the scheme and an email server's host,
    nothing of a chat URL's (its host is often its token), never a user, path or query."""
    try:
        parts = urlsplit(url.strip())
        host = parts.hostname
    except ValueError:
        return "a notify URL (malformed)"
    scheme = parts.scheme.lower()
    if not scheme:
        return "a notify URL"
    if scheme in MAIL_SCHEMES and host:
        return f"{scheme}://{host}/…"
    return f"{scheme}://…"


def register(url: str) -> str:
    """Register `url` and its secret parts with redact (every later message shows the mask)
    and return the mask."""
    shown = mask(url)
    redact.add_secret(url, shown)
    try:
        parts = urlsplit(url.strip())
        pieces = [parts.password, parts.username if parts.scheme not in MAIL_SCHEMES else None]
        if parts.scheme.lower() not in MAIL_SCHEMES:
            pieces += [parts.hostname, *parts.path.split("/"), parts.query]
    except ValueError:
        return shown
    for piece in pieces:
        if piece and len(piece) >= 6:  # a token, a path, a password: not a word like "json"
            redact.add_secret(unquote(piece), "***")
            redact.add_secret(piece, "***")
    return shown


def send(
    urls: Sequence[str],
    message: Message,
    *,
    timeout: float | None = None,
    retries: int = DEFAULT_RETRIES,
) -> list[str]:
    """Send `message` to each URL; the warnings (one line each) of those that failed.
    `timeout` bounds each connect and read (default DEFAULT_TIMEOUT seconds)."""
    timeout = DEFAULT_TIMEOUT if timeout is None else timeout
    warnings = []
    for url in urls:
        shown = register(url)
        failure = _tries(url, message, timeout=timeout, retries=retries)
        if failure is not None:
            reason = redact.scrub(" ".join(failure.split()))[: EXCERPT_LIMIT * 4]
            warnings.append(f"warning: not sent to {shown}: {reason}")
    return warnings


def _tries(url: str, message: Message, *, timeout: float, retries: int) -> str | None:
    """None once sent, else why the last try failed."""
    reason = "not sent"
    for attempt in range(1 + max(0, retries)):
        if attempt:
            time.sleep(RETRY_PAUSE)
        found = _bounded(lambda: _send_once(url, message, timeout), 3 * timeout + 1)
        if found is None:
            return None
        reason = found
        if reason.startswith("not a notify URL"):
            return reason  # no retry makes a bad URL good
    return reason


def _bounded(work: Callable[[], str | None], deadline: float) -> str | None:
    """`work()` in a daemon thread, given up after `deadline` seconds: a server that keeps
    the connection alive byte by byte is no reason to wait, or to hold the process's exit."""
    result: list[str | None] = []

    def run() -> None:
        try:
            result.append(work())
        except Exception as exc:  # a library's surprise is a failed send, not a crash
            result.append(f"{type(exc).__name__}: {exc}")

    thread = threading.Thread(target=run, name="orderreport-notify", daemon=True)
    thread.start()
    thread.join(deadline)
    if not result:
        return f"no answer within {deadline:g} s"
    return result[0]


def _service(url: str) -> Any:
    import apprise  # loaded only to send

    found = apprise.Apprise.instantiate(url)
    return found if found else None


def _send_once(url: str, message: Message, timeout: float) -> str | None:
    service = _service(url)
    if service is None:
        return "not a notify URL Apprise knows (see README: The morning report)"
    service.socket_connect_timeout = timeout
    service.socket_read_timeout = timeout
    scheme = urlsplit(url.strip()).scheme.lower()
    if scheme in MAIL_SCHEMES:
        return _email(service, message, timeout)
    return _chat(service, message)


def _chat(service: Any, message: Message) -> str | None:
    import apprise

    limit = int(getattr(service, "body_maxlen", 0) or 4000)
    body = message.chat(limit)
    with apprise.LogCapture(level=logging.WARNING) as logs:  # type: ignore[no-untyped-call]
        sent = service.notify(
            body=body, title=message.title, body_format=apprise.NotifyFormat.MARKDOWN
        )
    if sent:
        return None
    said = [line for line in logs.getvalue().splitlines() if line.strip()]
    return said[-1] if said else "the service refused it"


def email(service: Any, message: Message) -> tuple[EmailMessage, list[str]]:
    """The email of `message` for Apprise's parsed mail URL: the message, its recipients."""
    sender = service.from_addr
    targets = [t for t in service.targets if t and t[1]]
    if not targets:  # no to=: the sender, as Apprise does
        targets = [sender]
    mail = EmailMessage()
    mail["Subject"] = message.title
    mail["From"] = formataddr(sender)
    mail["To"] = ", ".join(formataddr(t) for t in targets)
    cc = sorted(service.cc)
    if cc:
        mail["Cc"] = ", ".join(cc)
    mail["Date"] = formatdate(localtime=True)
    mail["Message-ID"] = make_msgid(domain=sender[1].rpartition("@")[2] or None)
    mail["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies
    for name, value in service.headers.items():
        if name.lower() not in ("subject", "from", "to", "cc", "date", "message-id"):
            mail[name] = value
    mail.set_content(message.text)
    if message.html is not None:
        mail.add_alternative(message.html, subtype="html")
    recipients = [t[1] for t in targets] + cc + sorted(service.bcc)
    return mail, recipients


def _email(service: Any, message: Message, timeout: float) -> str | None:
    mail, recipients = email(service, message)
    context = ssl.create_default_context()
    if not service.verify_certificate:  # verify=no: a self-signed certificate, on purpose
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    mode = str(service.secure_mode)
    try:
        smtp: smtplib.SMTP
        if mode == "ssl":
            smtp = smtplib.SMTP_SSL(
                service.smtp_host, service.port, timeout=timeout, context=context
            )
        else:
            smtp = smtplib.SMTP(service.smtp_host, service.port, timeout=timeout)
        try:
            if mode == "starttls":
                smtp.starttls(context=context)
            if service.user and service.password:
                smtp.login(service.user, service.password)
            refused = smtp.send_message(mail, from_addr=service.from_addr[1], to_addrs=recipients)
        finally:
            with contextlib.suppress(OSError, smtplib.SMTPException):
                smtp.quit()
    except smtplib.SMTPRecipientsRefused as exc:
        said = "; ".join(f"{code} {_said(text)}" for code, text in exc.recipients.values())
        return f"the mail server refused every recipient ({said})"
    except smtplib.SMTPAuthenticationError as exc:
        return f"the mail server refused the login ({exc.smtp_code})"
    except smtplib.SMTPResponseException as exc:
        return f"the mail server answered {exc.smtp_code} {_said(exc.smtp_error)}"
    except (OSError, smtplib.SMTPException) as exc:
        return f"cannot reach the mail server {service.smtp_host}:{service.port}: {exc}"
    if refused:
        return f"the mail server refused {len(refused)} recipient(s)"
    return None


def _said(text: bytes | str) -> str:
    return text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
