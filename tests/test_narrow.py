"""Narrow terminals: `runs`, `summary` and `history` in a real pseudo-terminal of 20, 40 and
80 columns show every figure, date and status whole, and never an ellipsis."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import re
import select
import struct
import subprocess
import termios
import time
from datetime import UTC, datetime, timedelta
from datetime import time as clock

import psycopg
import pytest
from sqlalchemy.engine import URL

from orderreport.cli.dates import today_in
from tests.conftest import ORDERREPORT, add_order, run_cli, subprocess_env, url_text

ESCAPE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")  # colours and bold: not text
# variables that would override the terminal's own size or make Rich think it is no terminal
NOT_PASSED = ("COLUMNS", "LINES", "FORCE_COLOR", "NO_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE")


def in_terminal(args: list[str], env: dict[str, str], columns: int) -> tuple[int, str, str]:
    """Run orderreport with stdin and stdout on a pseudo-terminal `columns` wide; return its
    exit code, what it wrote to the terminal (without escapes, LF line ends) and stderr."""
    main, child = pty.openpty()
    fcntl.ioctl(child, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    proc = subprocess.Popen(
        [*ORDERREPORT, *args], stdin=child, stdout=child, stderr=subprocess.PIPE, env=env
    )
    os.close(child)
    seen = b""
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([main], [], [], 1)
            if not ready:
                continue
            try:
                data = os.read(main, 65536)
            except OSError:  # EIO: every end of the terminal's other side is closed
                break
            if not data:
                break
            seen += data
        code = proc.wait(timeout=30)
    finally:
        os.close(main)
        proc.kill()
    assert proc.stderr is not None
    err = proc.stderr.read().decode()
    return code, ESCAPE.sub("", seen.decode().replace("\r\n", "\n")), err


@pytest.fixture
def stored(db_url: URL, shop: psycopg.Connection[tuple[object, ...]]) -> dict[str, str]:
    """Yesterday's orders stored by two runs of `daily`; the environment to run in."""
    yesterday = today_in("UTC") - timedelta(days=1)
    noon = datetime.combine(yesterday, clock(12), UTC)
    add_order(shop, noon, "52000.00", 3)
    add_order(shop, noon, "167.40", 1)
    env = subprocess_env(ORDERREPORT_DATABASE_URL=url_text(db_url), TERM="xterm")
    for name in NOT_PASSED:
        env.pop(name, None)
    for _ in range(2):
        r = subprocess.run(
            [*ORDERREPORT, "daily"], env=env, capture_output=True, text=True, timeout=300
        )
        assert r.returncode == 0, r.stderr
    return env


@pytest.mark.slow
@pytest.mark.timeout(180)
@pytest.mark.parametrize("columns", [20, 40, 80])
def test_narrow_terminals_show_every_value_whole(
    db_url: URL, stored: dict[str, str], columns: int
) -> None:
    listed = json.loads(run_cli("runs", "--json", "--database-url", url_text(db_url)).out)
    assert len(listed) == 2
    code, out, err = in_terminal(["runs"], stored, columns)
    assert code == 0, err
    assert "…" not in out and out.count("succeeded") == 2, out
    for run in listed:
        started = datetime.fromisoformat(run["started_at"]).isoformat(" ", "seconds")
        assert started in out and re.search(rf"\b{run['id']}\b", out), out

    yesterday = str(today_in("UTC") - timedelta(days=1))
    for command in ("summary", "history"):
        code, out, err = in_terminal([command], stored, columns)
        assert code == 0, err
        assert "…" not in out and "52,167.40" in out and yesterday in out, out
        assert "26,083.70" in out  # the average order value
        if command == "summary":  # a day's figures: a table at 40 columns, records at 20
            folded = "total value: 52,167.40" in out or "total value:\n  52,167.40" in out
            assert folded == (columns == 20), out
