"""Test fixtures: a real PostgreSQL that the suite starts itself (the embedded server).

ORDERREPORT_TEST_DATABASE_URL points the suite at an existing server instead (its user
needs CREATEDB). Each test gets its own database, cloned from a template migrated once.
If no server can be had the suite fails; it never skips.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import URL, make_url

from orderreport.config.settings import Settings, load_settings, normalize_url
from orderreport.db.embedded import EmbeddedServer
from orderreport.entry import run as main
from orderreport.schema import migrate
from tests import prom

REPO = Path(__file__).resolve().parent.parent
TEMPLATE = "orderreport_test_template"


def make_home(prefix: str = "orderreport-test-") -> Path:
    """A fresh orderreport home in /tmp that the server's user can reach even as root."""
    home = Path(tempfile.mkdtemp(prefix=prefix))
    home.chmod(0o755)  # our own folder; /tmp above it is already world-searchable
    return home


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """`nodb` on every test that uses no server (no fixture that needs `server_url`, in a
    module that starts none of its own: STARTS_SERVERS): the database-free loop,
    `uv run pytest -m "nodb and not slow"`, takes seconds."""
    for item in items:
        module = getattr(item, "module", None)
        if getattr(module, "STARTS_SERVERS", False):
            continue
        if "server_url" not in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.nodb)


@pytest.fixture(scope="session")
def server_url() -> Iterator[URL]:
    """Admin URL of the test server (embedded unless ORDERREPORT_TEST_DATABASE_URL is set)."""
    external = os.environ.get("ORDERREPORT_TEST_DATABASE_URL")
    if external:
        yield make_url(normalize_url(external))
        return
    home = make_home()
    server = EmbeddedServer(home)
    # raises (and so fails the suite) if no server can be had
    url = make_url(server.start()).set(drivername="postgresql+psycopg")
    try:
        yield url
    finally:
        server.stop()
        shutil.rmtree(home, ignore_errors=True)


def _admin(url: URL) -> psycopg.Connection[tuple[object, ...]]:
    return psycopg.connect(
        url.set(drivername="postgresql").render_as_string(hide_password=False), autocommit=True
    )


def _create_db(server_url: URL, name: str, template: str | None = None) -> URL:
    with _admin(server_url) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        suffix = f' TEMPLATE "{template}"' if template else ""
        conn.execute(f'CREATE DATABASE "{name}"{suffix}')
    return server_url.set(database=name)


def _drop_db(server_url: URL, name: str) -> None:
    with _admin(server_url) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def template_db(server_url: URL) -> Iterator[str]:
    url = _create_db(server_url, TEMPLATE)
    migrate.migrate(
        Settings(database_url=url_text(url), tz="UTC", home=Path("/nonexistent"), config_file=None)
    )
    yield TEMPLATE
    _drop_db(server_url, TEMPLATE)


@pytest.fixture
def empty_url(server_url: URL) -> Iterator[URL]:
    """A fresh database with no schema at all."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    yield _create_db(server_url, name)
    _drop_db(server_url, name)


@pytest.fixture
def db_url(server_url: URL, template_db: str) -> Iterator[URL]:
    """A fresh database migrated to head."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    yield _create_db(server_url, name, template=template_db)
    _drop_db(server_url, name)


def url_text(url: URL) -> str:
    """The URL as the libpq URI Settings.database_url holds (scheme postgresql://)."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test reads the developer's own configuration or database."""
    for name in list(os.environ):
        if name.startswith("ORDERREPORT_") and name != "ORDERREPORT_TEST_DATABASE_URL":
            monkeypatch.delenv(name)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("ORDERREPORT_HOME", str(tmp_path / "no-embedded-here"))


def settings_for(url: URL, tz: str = "UTC") -> Settings:
    return load_settings(database_url=url_text(url), tz=tz, env={})


@dataclass
class Result:
    code: int
    out: str
    err: str


def run_cli(*args: str) -> Result:
    """Run orderreport in this process; return exit code, stdout and stderr."""
    out, err = io.StringIO(), io.StringIO()
    code = 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(list(args))
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
    return Result(code, out.getvalue(), err.getvalue())


def subprocess_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ORDERREPORT_")}
    env.pop("DATABASE_URL", None)
    env.update(extra)
    return env


ORDERREPORT = [sys.executable, "-m", "orderreport"]


def add_order(
    conn: psycopg.Connection[tuple[object, ...]],
    created_at: datetime,
    total: str | Decimal,
    lines: int = 0,
) -> int:
    """Insert one order (and `lines` order lines) at an exact instant; return its id."""
    user = conn.execute(
        "INSERT INTO users (name, email) VALUES ('u', %s) RETURNING id", (f"{uuid.uuid4()}@x",)
    ).fetchone()
    product = conn.execute(
        "INSERT INTO products (name, price, stock) VALUES ('p', 1.00, 5) RETURNING id"
    ).fetchone()
    assert user is not None and product is not None
    row = conn.execute(
        "INSERT INTO orders (user_id, total_amount, status, created_at, updated_at) "
        "VALUES (%s, %s, 'paid', %s, %s) RETURNING id",
        (user[0], Decimal(total), created_at, created_at),
    ).fetchone()
    assert row is not None
    for _ in range(lines):
        conn.execute(
            "INSERT INTO order_items (order_id, product_id, quantity, price) "
            "VALUES (%s, %s, 2, 1.00)",
            (row[0], product[0]),
        )
    return int(str(row[0]))


def fill_days(conn: psycopg.Connection[tuple[object, ...]], first: date, days: int) -> None:
    """Three orders a day (totals 1.10, 2.20, 3.30; no lines) for `days` days from `first`,
    at 05:00, 10:00 and 15:00 UTC."""
    conn.execute("INSERT INTO users (name, email) VALUES ('f', 'f@x') ON CONFLICT DO NOTHING")
    conn.execute(
        "INSERT INTO orders (user_id, total_amount, status, created_at, updated_at) "
        "SELECT (SELECT min(id) FROM users), k * 1.10, 'paid', "
        "(%s::date + d)::timestamp AT TIME ZONE 'UTC' + k * INTERVAL '5 hours', now() "
        "FROM generate_series(0, %s - 1) d, generate_series(1, 3) k",
        (first, days),
    )


@pytest.fixture
def shop(db_url: URL) -> Iterator[psycopg.Connection[tuple[object, ...]]]:
    """An autocommit psycopg connection to a migrated, empty test database."""
    with psycopg.connect(url_text(db_url.set(drivername="postgresql")), autocommit=True) as c:
        yield c


@pytest.fixture(scope="session")
def built_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """orderreport's wheel, built from this checkout by the uv that runs the tests."""
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [os.environ.get("UV", "uv"), "build", "--wheel", "--out-dir", str(out)],
        cwd=REPO,
        check=True,
        capture_output=True,
    )
    (built,) = out.glob("orderreport-*.whl")
    return built


@pytest.fixture
def pushgateway(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """URL of a real Pushgateway started for this test on a free loopback port."""
    yield from prom.run_pushgateway(tmp_path, monkeypatch)


def plain(url: URL) -> str:
    return url_text(url.set(drivername="postgresql"))


__all__ = ["REPO", "make_url"]


def spawn(url: URL, *args: str, **kw: object) -> subprocess.Popen[str]:
    """orderreport started as a process on `url`, its output piped (for signals and faults)."""
    env = subprocess_env(ORDERREPORT_DATABASE_URL=url_text(url))
    return subprocess.Popen(  # type: ignore[no-any-return]
        [*ORDERREPORT, *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kw,  # type: ignore[call-overload]
    )


def stored(url: URL) -> list[tuple[date, int, str]]:
    """The UTC days stored in daily_reports: (date, orders, value as text), oldest first."""
    with psycopg.connect(plain(url)) as conn:
        return [
            (d, n, str(v))
            for d, n, v in conn.execute(
                "SELECT report_date, total_orders, total_value FROM orderreport.daily_reports "
                "WHERE time_zone = 'UTC' ORDER BY 1"
            )
        ]
