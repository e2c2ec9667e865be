"""Posting to an incoming webhook: against a real HTTP server on a loopback port.

The server (http.server in a thread) records every request's body and answers as a test
tells it: a status per request in turn, or no answer at all (the handler sleeps past the
client's timeout). Everything stays on 127.0.0.1 and every wait is bounded.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from orderreport.deliver import webhook
from tests.prom import free_port

SECRET_PATH = "/hooks/T0000/B1111/s3cr3tT0ken"
MARKDOWN = "*Orders on Sunday 30 March 2025* (Europe/Berlin)\n• Value *1,234.56*: ▲ +12.2%\n"


@dataclass
class Hook:
    """A webhook endpoint: `statuses` answered in turn (the last one from then on), or
    silence when `silent`; `bodies` and `paths` what came in."""

    url: str
    statuses: list[int] = field(default_factory=lambda: [200])
    silent: bool = False
    location: str | None = None  # sent with a 3xx
    bodies: list[bytes] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    content_types: list[str] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)


@pytest.fixture
def hook(monkeypatch: pytest.MonkeyPatch) -> Iterator[Hook]:
    for var in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy"):
        monkeypatch.delenv(var, raising=False)
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    found = Hook(url=f"http://127.0.0.1:{server.server_address[1]}{SECRET_PATH}?token=abc")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            found.bodies.append(self.rfile.read(length))
            found.paths.append(self.path)
            found.content_types.append(self.headers.get("Content-Type", ""))
            if found.silent:
                found.release.wait(10)  # past any client timeout here; freed at teardown
                return
            index = min(len(found.bodies), len(found.statuses)) - 1
            status = found.statuses[index]
            answer = b"ok" if status < 300 else b"invalid_payload\n(see the docs)"
            self.send_response(status)
            if found.location is not None:
                self.send_header("Location", found.location)
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server.RequestHandlerClass = Handler
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield found
    finally:
        found.release.set()
        server.shutdown()
        server.server_close()
        thread.join(5)


def assert_masked(warning: str, hook: Hook) -> None:
    assert "\n" not in warning
    assert "/hooks" not in warning and "s3cr3t" not in warning and "token=" not in warning
    assert f"http://127.0.0.1:{hook.url.split(':')[2].split('/')[0]}/…" in warning


def test_a_5xx_then_success_posts_once_more_and_succeeds(hook: Hook) -> None:
    hook.statuses = [500, 200]
    assert webhook.post(hook.url, MARKDOWN, timeout=5) is None
    assert len(hook.bodies) == 2
    for body in hook.bodies:
        assert json.loads(body) == {"text": MARKDOWN}
    assert hook.paths == [SECRET_PATH + "?token=abc"] * 2
    assert hook.content_types[0].startswith("application/json")


def test_success_at_once_posts_once(hook: Hook) -> None:
    assert webhook.post(hook.url, MARKDOWN, timeout=5) is None
    assert [json.loads(b) for b in hook.bodies] == [{"text": MARKDOWN}]


def test_always_5xx_is_a_warning_with_the_url_masked(hook: Hook) -> None:
    hook.statuses = [500]
    warning = webhook.post(hook.url, MARKDOWN, timeout=5)
    assert warning is not None
    assert warning.startswith("warning: digest not posted to http://127.0.0.1:")
    assert "HTTP 500: invalid_payload (see the docs)" in warning
    assert "(2 tries)" in warning
    assert_masked(warning, hook)
    assert len(hook.bodies) == 2  # one retry, no more


def test_retries_is_a_bound(hook: Hook) -> None:
    hook.statuses = [503]
    assert webhook.post(hook.url, MARKDOWN, timeout=5, retries=0) is not None
    assert len(hook.bodies) == 1
    assert webhook.post(hook.url, MARKDOWN, timeout=5, retries=2) is not None
    assert len(hook.bodies) == 4


def test_a_4xx_is_final(hook: Hook) -> None:
    hook.statuses = [404]
    warning = webhook.post(hook.url, MARKDOWN, timeout=5)
    assert warning is not None and "HTTP 404" in warning and "tries" not in warning
    assert_masked(warning, hook)
    assert len(hook.bodies) == 1


def test_a_redirect_is_a_failure_not_a_get(hook: Hook) -> None:
    hook.statuses, hook.location = [302], "/elsewhere"
    warning = webhook.post(hook.url, MARKDOWN, timeout=5)
    assert warning is not None and "HTTP 302" in warning
    assert len(hook.bodies) == 1


def test_no_answer_is_a_warning_within_twice_the_timeout(hook: Hook) -> None:
    hook.silent = True
    timeout = 1.0
    started = time.monotonic()
    warning = webhook.post(hook.url, MARKDOWN, timeout=timeout)
    elapsed = time.monotonic() - started
    assert warning is not None
    assert "no answer within 1 s (2 tries)" in warning
    assert_masked(warning, hook)
    assert len(hook.bodies) == 2
    assert 2 * timeout <= elapsed < 2 * timeout + webhook.RETRY_PAUSE + 1.0


def test_a_refused_connection_is_a_warning(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("http_proxy", "HTTP_PROXY", "all_proxy"):
        monkeypatch.delenv(var, raising=False)
    port = free_port()  # nothing listens there any more
    url = f"http://127.0.0.1:{port}{SECRET_PATH}"
    started = time.monotonic()
    warning = webhook.post(url, MARKDOWN, timeout=2)
    assert time.monotonic() - started < 3
    assert warning is not None
    assert warning.startswith(f"warning: digest not posted to http://127.0.0.1:{port}/…: ")
    assert "refused" in warning.lower() and "s3cr3t" not in warning


@pytest.mark.parametrize(
    "url",
    ["file:///etc/passwd", "ftp://example.org/x", "hooks.slack.com/services/T/B/x", "", "http://"],
)
def test_only_http_urls_with_a_host_are_posted_to(url: str) -> None:
    warning = webhook.post(url, MARKDOWN, timeout=1)
    assert warning is not None and "not an http(s) URL" in warning
    assert "passwd" not in warning and "services" not in warning


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://hooks.slack.com/services/T0/B1/XXXX", "https://hooks.slack.com/…"),
        ("HTTPS://Chat.Example.ORG:8065/hooks/abc?x=1#f", "https://chat.example.org:8065/…"),
        ("https://user:pw@example.org/hooks/abc", "https://example.org/…"),
        ("http://[::1]:8080/hooks/abc", "http://[::1]:8080/…"),
        ("https://example.org", "https://example.org/…"),
        ("not a url", "the webhook URL"),
        ("http://[::1/x", "the webhook URL (malformed)"),
        ("http://example.org:99999/x", "the webhook URL (malformed)"),
    ],
)
def test_mask_shows_scheme_and_host_only(url: str, shown: str) -> None:
    assert webhook.mask(url) == shown


def test_a_posted_url_is_a_secret_every_later_message_masks(hook: Hook) -> None:
    """post() registers the URL and its path with redact: one redaction for stderr, the run
    log and the post's own warning."""
    from orderreport.config import redact

    redact.reset()
    try:
        assert webhook.post(hook.url, MARKDOWN, timeout=5) is None
        said = redact.scrub(f"failed near {hook.url} (path {SECRET_PATH})")
        assert said == f"failed near {webhook.mask(hook.url)} (path …)"
    finally:
        redact.reset()
