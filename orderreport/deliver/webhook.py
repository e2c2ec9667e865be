"""Posting the digest to a Slack or Mattermost incoming webhook.

Both take the same JSON, `{"text": "<markdown>"}`. An incoming-webhook URL is a secret (its
path is the credential), so no message ever shows more of it than `scheme://host/…` (mask):
post() registers it, and its path, with redact.add_secret, so redact.scrub takes them out of
its own warning and of every later message, on stderr and in the run log alike. A post that
fails is a warning for stderr, never an exception: the digest's run stands.
"""

from __future__ import annotations

import http.client
import json
import time
import urllib.error
import urllib.request
from urllib.parse import urlsplit

from orderreport.config import redact, settings

DEFAULT_TIMEOUT = settings.DELIVERY_TIMEOUT  # seconds, each connect and each read
DEFAULT_RETRIES = settings.DELIVERY_RETRIES  # one more try after a failure
RETRY_PAUSE = settings.RETRY_PAUSE  # seconds between two tries
REASON_CHARS = 120  # of an error answer's body quoted in the warning


def mask(url: str) -> str:
    """`https://hooks.slack.com/…`: the URL's scheme, host and port, never its user, path,
    query or fragment (`the webhook URL` if it has no host to show)."""
    try:
        parts = urlsplit(url.strip())
        host, port = parts.hostname, parts.port
    except ValueError:
        return "the webhook URL (malformed)"
    if not parts.scheme or not host:
        return "the webhook URL"
    shown = f"[{host}]" if ":" in host else host
    if port is not None:
        shown += f":{port}"
    return f"{parts.scheme.lower()}://{shown}/…"


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    # A redirected POST comes back as a GET without its body: an answer of 200 to that
    # would be a message that never got there. A redirect is a failure, said as such.
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def post(
    url: str,
    markdown: str,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    retries: int = DEFAULT_RETRIES,
) -> str | None:
    """POST `{"text": markdown}` as JSON to the incoming webhook at `url` (http or https).

    `timeout` bounds the connection and each read (seconds). After an answer of 5xx, a
    timeout or a connection that failed it tries again, up to `retries` more times,
    RETRY_PAUSE apart; any other failure (4xx, a redirect) is final. Returns None once an
    answer of 2xx came back, else a one-line warning naming the URL as mask() shows it.
    Never raises for a network or HTTP failure.
    """
    where = mask(url)
    try:
        scheme = urlsplit(url.strip()).scheme.lower()
    except ValueError:
        scheme = ""
    if scheme not in ("http", "https") or where.startswith("the webhook URL"):
        return f"warning: digest not posted to {where}: not an http(s) URL with a host"
    _register(url, where)
    body = json.dumps({"text": markdown}).encode("utf-8")
    opener = urllib.request.build_opener(_NoRedirects)
    tries = 1 + max(0, retries)
    reason = "no answer"
    for attempt in range(tries):
        if attempt:
            time.sleep(RETRY_PAUSE)
        request = urllib.request.Request(  # noqa: S310 (the scheme is checked above)
            url.strip(),
            data=body,
            method="POST",
            headers={"Content-Type": "application/json; charset=utf-8"},
        )
        try:
            with opener.open(request, timeout=timeout) as response:
                response.read()
                return None
        except urllib.error.HTTPError as exc:
            reason = f"HTTP {exc.code}{_answer(exc)}"
            if exc.code < 500:
                break
        except TimeoutError:
            reason = f"no answer within {timeout:g} s"
        except urllib.error.URLError as exc:
            cause = exc.reason
            if isinstance(cause, TimeoutError):
                reason = f"no answer within {timeout:g} s"
            else:
                reason = _one_line(str(cause)) or type(cause).__name__
        except (OSError, http.client.HTTPException) as exc:  # a reset, a garbled answer
            reason = _one_line(str(exc)) or type(exc).__name__
    tried = f" ({tries} tries)" if tries > 1 and attempt == tries - 1 else ""
    return f"warning: digest not posted to {where}: {redact.scrub(reason)}{tried}"


def _answer(exc: urllib.error.HTTPError) -> str:
    """`: invalid_payload`: the start of an error answer's body (Slack says why there)."""
    try:
        text = exc.read(REASON_CHARS * 4).decode("utf-8", "replace")
    except (OSError, http.client.HTTPException):
        return ""
    found = _one_line(text)[:REASON_CHARS]
    return f": {found}" if found else ""


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _register(url: str, shown: str) -> None:
    """The URL as a secret for redact.scrub (shown as `shown`), and its path (shown as …),
    should an error echo either."""
    redact.add_secret(url.strip(), shown)
    try:
        path = urlsplit(url.strip()).path
    except ValueError:
        path = ""
    if len(path) > 1:
        redact.add_secret(path, "…")
