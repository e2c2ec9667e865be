"""The digest's HTML page in a real headless Chromium, at phone and desktop widths, in print.

Chromium (Debian: apt-get install chromium) is driven over its DevTools protocol on a pipe
(--remote-debugging-pipe: JSON messages on fds 3 and 4, no driver library): the page is
opened as it is, unmodified (it has no script; the checks run through Runtime.evaluate),
in a viewport emulated at 390 px (a phone, honouring the page's viewport meta) and at 1280
px, and once with print media. Without Chromium the tests are skipped, unless CI is set:
then they fail. Screenshots land in the test's tmp_path; docs/digest.png is the 1280 one,
taken once.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import re
import select
import shutil
import subprocess
import time
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import URL

from orderreport.render import digest as digest_render
from orderreport.render import html as html_render
from orderreport.reports.digest import BASES, Digest
from tests import test_digest
from tests.conftest import REPO
from tests.test_digest import BERLIN, DAY, the_digest

two_currencies = test_digest.two_currencies  # the fixture: the same hand-made history

WAIT = 30.0  # seconds for Chromium to start or answer one command
SCREENSHOT = REPO / "docs" / "digest.png"

# What the page looks like to a reader, measured in the browser.
MEASURE = """(() => {
  const de = document.documentElement;
  let right = 0;
  for (const el of document.querySelectorAll('body *')) {
    const box = el.getBoundingClientRect();
    if (box.width > 0) right = Math.max(right, box.right);
  }
  const texts = [...document.querySelectorAll('svg text')]
    .map(t => t.getBoundingClientRect().height);
  return {
    scrollWidth: de.scrollWidth, clientWidth: de.clientWidth, innerWidth: window.innerWidth,
    right: right, text: document.body.innerText, scripts: document.scripts.length,
    smallestSvgText: Math.min(...texts),
    svgs: [...document.querySelectorAll('svg')].map(s => ({
      title: s.querySelector('title').textContent,
      width: s.getBoundingClientRect().width,
      bars: [...s.querySelectorAll('rect[data-date]')].map(r => ({
        date: r.dataset.date, value: r.dataset.value, cls: r.getAttribute('class'),
        height: parseFloat(r.getAttribute('height')), y: parseFloat(r.getAttribute('y')),
        x: r.getBoundingClientRect().left, drawn: r.getBoundingClientRect().height,
      })),
    })),
    detailsShown: [...document.querySelectorAll('details')].some(d => d.checkVisibility()),
    tablesShown: [...document.querySelectorAll('details table')]
      .some(t => t.checkVisibility({contentVisibilityAuto: true})),
  };
})()"""


def chromium_binary() -> str:
    """Chromium's path; skip without one (fail instead when CI is set)."""
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    reason = "no Chromium: apt-get install chromium"
    if os.environ.get("CI"):
        pytest.fail(f"{reason}; CI is set, so this fails instead of skipping")
    pytest.skip(reason)


class Browser:
    """A headless Chromium and one page in it, spoken to over the DevTools pipe."""

    def __init__(self, binary: str, profile: Path) -> None:
        to_child, self._commands = os.pipe()  # we write commands, Chromium reads fd 3
        self._answers, from_child = os.pipe()  # Chromium writes fd 4, we read
        # out of the way of 3 and 4, where the child needs them
        high = [fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10) for fd in (to_child, from_child)]
        os.close(to_child)
        os.close(from_child)

        def fds() -> None:  # in the child, before exec: dup2 leaves 3 and 4 inheritable
            os.dup2(high[0], 3)
            os.dup2(high[1], 4)

        self.process = subprocess.Popen(
            [
                binary,
                "--headless",
                "--no-sandbox",  # as root
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-extensions",
                "--hide-scrollbars",
                f"--user-data-dir={profile}",
                "--remote-debugging-pipe",
                "about:blank",
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=fds,  # the test process starts no threads of its own
            close_fds=False,
        )
        for fd in high:
            os.close(fd)
        self._buffer = b""
        self._next = 0
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        attached = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})
        self._session = attached["sessionId"]

    def call(self, method: str, params: dict[str, Any] | None = None, page: bool = False) -> Any:
        """Send one command (to the page's session with `page`) and return its result."""
        self._next += 1
        message: dict[str, Any] = {"id": self._next, "method": method, "params": params or {}}
        if page:
            message["sessionId"] = self._session
        os.write(self._commands, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + WAIT
        while True:
            while b"\0" in self._buffer:
                raw, self._buffer = self._buffer.split(b"\0", 1)
                answer = json.loads(raw)
                if answer.get("id") == self._next:  # events and others' answers: skipped
                    if "error" in answer:
                        raise AssertionError(f"{method}: {answer['error']}")
                    return answer["result"]
            left = deadline - time.monotonic()
            if left <= 0 or self.process.poll() is not None:
                raise AssertionError(f"Chromium gave no answer to {method} in {WAIT} s")
            ready, _, _ = select.select([self._answers], [], [], left)
            if ready:
                chunk = os.read(self._answers, 1 << 20)
                if not chunk:
                    raise AssertionError(f"Chromium closed its pipe during {method}")
                self._buffer += chunk

    def open(self, path: Path, width: int, *, media: str = "screen") -> dict[str, Any]:
        """Open `path` in a viewport `width` CSS px wide (a phone's, under 600) with `media`
        emulated, and return what MEASURE measured."""
        self.call(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": 900, "deviceScaleFactor": 1, "mobile": width < 600},
            page=True,
        )
        self.call("Emulation.setEmulatedMedia", {"media": media}, page=True)
        self.call("Page.navigate", {"url": path.as_uri()}, page=True)
        deadline = time.monotonic() + WAIT
        while self.evaluate("document.readyState") != "complete":
            assert time.monotonic() < deadline, f"{path} did not load in {WAIT} s"
            time.sleep(0.05)
        found: dict[str, Any] = self.evaluate(MEASURE)
        return found

    def evaluate(self, expression: str) -> Any:
        result = self.call(
            "Runtime.evaluate", {"expression": expression, "returnByValue": True}, page=True
        )
        assert "exceptionDetails" not in result, result["exceptionDetails"]
        return result["result"].get("value")

    def screenshot(self, out: Path, width: int) -> None:
        """The whole page (as open, at `width`) as a PNG."""
        height = int(self.evaluate("document.documentElement.scrollHeight"))
        self.call(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600},
            page=True,
        )
        shot = self.call("Page.captureScreenshot", {"format": "png"}, page=True)
        out.write_bytes(base64.b64decode(shot["data"]))

    def close(self) -> None:
        try:
            self.call("Browser.close")
            self.process.wait(10)
        except (AssertionError, OSError, subprocess.TimeoutExpired):
            self.process.kill()
            self.process.wait(10)
        finally:
            os.close(self._commands)
            os.close(self._answers)


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Browser]:
    found = Browser(chromium_binary(), tmp_path / "profile")
    try:
        yield found
    finally:
        found.close()


def displayed(figure: str) -> str:
    return figure.replace("-", "\N{MINUS SIGN}")


def check_page(found: dict[str, Any], width: int, d: Digest) -> None:
    """No horizontal scroll, every figure in the text, the bars in order and proportion."""
    assert found["innerWidth"] == width  # the viewport meta gives a phone its own width
    assert found["scrollWidth"] <= found["clientWidth"] == width
    assert found["right"] <= width + 0.5  # nothing drawn past the edge either
    assert found["scripts"] == 0
    assert found["smallestSvgText"] >= 8, "chart labels too small to read"
    text = found["text"]
    for c in d.currencies:
        assert (c.currency or "All orders") in text
        for name in digest_render.LABELS if c.orders else digest_render.QUIET_FIGURES:
            figure = c.figure(name)
            assert digest_render.amount(name, figure.value) in text, name
            for basis in BASES:
                comparison = figure.against(basis)
                assert digest_render.amount(name, comparison.base) in text
                assert displayed(digest_render.signed(name, comparison.change)) in text
                assert displayed(digest_render.percent(comparison)) in text
    assert len(found["svgs"]) == len(d.currencies)
    for svg, c in zip(found["svgs"], d.currencies, strict=True):
        assert c.currency is None or c.currency in svg["title"]
        assert svg["width"] <= width
        bars = svg["bars"]
        # in date order, left to right, one per day of the history, values exact
        assert [b["date"] for b in bars] == [day.isoformat() for day, _ in c.history]
        assert [Decimal(b["value"]) for b in bars] == [v for _, v in c.history]
        assert [b["x"] for b in bars] == sorted(b["x"] for b in bars)
        assert [b["date"] for b in bars if b["cls"] == "day"] == [d.day.isoformat()]
        # heights in proportion to the values: one scale for the whole chart
        top = max(bars, key=lambda b: Decimal(b["value"]))
        scale = top["height"] / float(top["value"])
        for bar in bars:
            assert bar["y"] >= 0 and bar["y"] + bar["height"] <= 200, bar  # inside the chart
            assert abs(bar["height"] - float(bar["value"]) * scale) < 0.02, bar
            assert abs(bar["drawn"] - bar["height"] * svg["width"] / 400) < 0.6, bar


@pytest.mark.usefixtures("two_currencies")
def test_the_page_at_phone_and_desktop_width_and_in_print(
    db_url: URL, tmp_path: Path, browser: Browser
) -> None:
    d = the_digest(db_url, DAY, BERLIN)
    page = tmp_path / "digest.html"
    page.write_text(html_render.html(d), encoding="utf-8")
    for width in (390, 1280):
        found = browser.open(page, width)
        check_page(found, width, d)
        assert found["detailsShown"] and not found["tablesShown"]  # folded, until opened
        browser.screenshot(tmp_path / f"digest-{width}.png", width)
    # print: an A4 page's width at 96 dpi less margins, no folded tables, still no overflow
    printed = browser.open(page, 680, media="print")
    assert printed["scrollWidth"] <= printed["clientWidth"]
    assert not printed["detailsShown"]
    pdf = browser.call("Page.printToPDF", {"printBackground": True}, page=True)
    assert base64.b64decode(pdf["data"]).startswith(b"%PDF")
    # the README's picture, taken once (delete it to take it again): a run on another
    # machine, with other fonts, must not leave the checkout changed
    if not SCREENSHOT.exists():
        SCREENSHOT.parent.mkdir(exist_ok=True)
        shutil.copyfile(tmp_path / "digest-1280.png", SCREENSHOT)


@pytest.mark.usefixtures("two_currencies")
def test_the_page_is_self_contained(db_url: URL) -> None:
    page = html_render.html(the_digest(db_url, DAY, BERLIN))
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page
    assert "<script" not in page.lower() and "javascript:" not in page.lower()
    assert not re.search(r"""\b(src|href)\s*=|@import|url\(|<link|<img|<iframe""", page, re.I)
    assert "@media print" in page


def test_the_history_page(tmp_path: Path, browser: Browser) -> None:
    class Row:
        def __init__(self, day: date, currency: str | None, value: str) -> None:
            self.date, self.currency, self.total_value = day, currency, Decimal(value)

    rows = [Row(date(2024, 12, 1 + i), "EUR", f"{100 + i * 13}.{i:02d}") for i in range(31)]
    rows += [Row(date(2025, 1, 1 + i), "EUR", f"{90 + i}.00") for i in range(0, 31, 2)]
    rows += [Row(date(2024, 12, 24), "USD", "12.00"), Row(date(2025, 1, 3), "USD", "30.00")]
    page = tmp_path / "history.html"
    page.write_text(html_render.history_html(rows, "Stored reports (UTC)"), encoding="utf-8")
    for width in (390, 1280):
        found = browser.open(page, width)
        assert found["scrollWidth"] <= found["clientWidth"] == width
        assert found["scripts"] == 0
        eur, usd = found["svgs"]
        assert "EUR" in eur["title"] and "USD" in usd["title"]
        assert [b["date"] for b in eur["bars"]] == sorted(
            r.date.isoformat() for r in rows if r.currency == "EUR"
        )
        # a day without a row is a gap: the bars stand at their days' places
        x = {b["date"]: b["x"] for b in usd["bars"]}
        assert x["2025-01-03"] > x["2024-12-24"]
        scale = eur["bars"][0]["height"] / float(eur["bars"][0]["value"])
        for bar in eur["bars"]:
            assert abs(bar["height"] - float(bar["value"]) * scale) < 0.02
    empty = tmp_path / "empty.html"
    empty.write_text(html_render.history_html([], "Stored reports (UTC)"), encoding="utf-8")
    assert "No stored reports" in browser.open(empty, 390)["text"]
