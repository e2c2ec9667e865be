"""Prometheus helpers for the tests: read exposition text back, run a real Pushgateway.

The Pushgateway is the real binary (Debian: apt-get install prometheus-pushgateway); without
it a test that needs one is skipped, unless CI is set: then it fails.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import textwrap
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from orderreport.deliver import metrics


def values(text: str, **labels: str) -> dict[str, float]:
    """name -> value of the samples carrying all of `labels`; a name twice fails the test."""
    found: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if all(sample.labels.get(k) == v for k, v in labels.items()):
                assert sample.name not in found, f"{sample.name} twice in:\n{text}"
                found[sample.name] = sample.value
    return found


# A reader in its own process (no GIL shared with the writer) that reads a textfile in a
# tight loop until a stop file appears: every read must parse and carry exactly the expected
# series; `check` (Python, with `got` the read's name -> value) adds a test's own demands
# and puts the read's identity in `seen`. Prints "ready" after the first good read, then
# {"reads", "distinct", "bad"} as JSON.
_READER = """
import json, os, sys
from prometheus_client.parser import text_string_to_metric_families
path, stop, expected = sys.argv[1], sys.argv[2], set(json.loads(sys.argv[3]))
reads, seen, bad = 0, set(), []
while not os.path.exists(stop):
    with open(path) as f:
        text = f.read()
    reads += 1
    try:
        got = {s.name: s.value for fam in text_string_to_metric_families(text)
               for s in fam.samples}
    except Exception as exc:
        bad.append(f"unparsable ({exc!r}): {text!r}")
        continue
    if set(got) != expected:
        bad.append(f"series {sorted(set(got) ^ expected)} missing or extra: {text!r}")
        continue
CHECK
    if reads == 1:
        print("ready", flush=True)
print(json.dumps({"reads": reads, "distinct": len(seen), "bad": bad[:5]}), flush=True)
"""


def reader_script(check: str) -> str:
    """The reader above with `check` (unindented Python) inside its loop."""
    return _READER.replace("CHECK", textwrap.indent(textwrap.dedent(check).strip(), "    "))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


# urllib would send loopback requests through an http_proxy from the environment
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


# Read at import: conftest's clean_env removes ORDERREPORT_* variables before each test.
_PUSHGATEWAY_OVERRIDE = os.environ.get("ORDERREPORT_TEST_PUSHGATEWAY")


def pushgateway_binary() -> str:
    """The Pushgateway to test against; skip without one (fail instead when CI is set).

    ORDERREPORT_TEST_PUSHGATEWAY names the binary; else it is looked up on PATH.
    """
    found = (
        _PUSHGATEWAY_OVERRIDE
        or shutil.which("prometheus-pushgateway")
        or shutil.which("pushgateway")
    )
    if found and os.access(found, os.X_OK):
        return found
    reason = (
        "no Pushgateway binary: apt-get install prometheus-pushgateway "
        "(or point ORDERREPORT_TEST_PUSHGATEWAY at one)"
    )
    if os.environ.get("CI"):
        pytest.fail(f"{reason}; CI is set, so this fails instead of skipping")
    pytest.skip(reason)


def run_pushgateway(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """URL of a Pushgateway started for a test on a free loopback port (a fixture in
    conftest.py)."""
    binary = pushgateway_binary()
    for var in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy"):
        monkeypatch.delenv(var, raising=False)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp_path / "pushgateway.log"
    with log.open("wb") as log_file:
        process = subprocess.Popen(
            [
                binary,
                f"--web.listen-address=127.0.0.1:{port}",
                # Debian's build persists to /var/lib/prometheus by default
                f"--persistence.file={tmp_path / 'pushgateway.data'}",
            ],
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 15
        while True:
            if process.poll() is not None:
                pytest.fail(f"pushgateway exited {process.returncode}:\n{log.read_text()}")
            try:
                with _DIRECT.open(f"{url}/-/ready", timeout=1) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"pushgateway not ready after 15 s:\n{log.read_text()}")
            time.sleep(0.05)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def pushed(url: str, zone: str) -> dict[str, float]:
    """The series the gateway exposes for the zone's grouping key (its push_* ones excluded).

    Fails unless the gateway holds a group with exactly that key.
    """
    with _DIRECT.open(f"{url}/metrics", timeout=5) as response:
        text = response.read().decode("utf-8")
    # push_time_seconds carries the grouping key and nothing else: the group exists
    groups = {
        tuple(sorted((k, v) for k, v in sample.labels.items() if v))
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "push_time_seconds"
    }
    assert (("job", metrics.PUSH_JOB), ("time_zone", zone)) in groups, groups
    found = values(text, job=metrics.PUSH_JOB, time_zone=zone)
    return {k: v for k, v in found.items() if k.startswith("orderreport_")}
