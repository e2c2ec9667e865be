"""orderreport installed as a person installs it: a wheel into a fresh virtual environment,
then `migrate`, `daily` and `verify` from the installed `orderreport` command."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg
import pytest
from sqlalchemy.engine import URL

from orderreport.cli.dates import today_in
from tests.conftest import add_order, plain, subprocess_env, url_text

UV = os.environ.get("UV", "uv")


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_the_installed_command_migrates_stores_and_verifies(
    built_wheel: Path, empty_url: URL, tmp_path: Path
) -> None:
    venv = tmp_path / "venv"
    subprocess.run(
        [UV, "venv", "--python", sys.executable, str(venv)], check=True, capture_output=True
    )
    python = venv / "bin" / "python"
    installed = subprocess.run(
        [UV, "pip", "install", "--python", str(python), str(built_wheel)],
        capture_output=True,
        text=True,
    )
    assert installed.returncode == 0, installed.stderr
    command = venv / "bin" / "orderreport"
    assert command.exists()
    work = tmp_path / "elsewhere"  # nowhere near the checkout
    work.mkdir()
    env = subprocess_env(ORDERREPORT_DATABASE_URL=url_text(empty_url), ORDERREPORT_TZ="UTC")
    # only the installed environment: no checkout, no test environment on the path
    env["PATH"] = f"{venv / 'bin'}:/usr/bin:/bin"
    env.pop("VIRTUAL_ENV", None)
    env.pop("PYTHONPATH", None)

    def orderreport(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(command), *args], cwd=work, env=env, capture_output=True, text=True, timeout=300
        )

    version = orderreport("--version")
    assert version.returncode == 0 and version.stdout.startswith("orderreport 0."), version
    where = subprocess.run(
        [str(python), "-c", "import orderreport; print(orderreport.__file__)"],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
    )
    assert where.stdout.startswith(str(venv)), where  # the installed copy, not the checkout

    migrated = orderreport("migrate")
    assert migrated.returncode == 0, migrated.stderr
    assert "from empty to 0008" in migrated.stderr
    yesterday = today_in("UTC") - timedelta(days=1)
    with psycopg.connect(plain(empty_url), autocommit=True) as shop:
        add_order(shop, datetime.combine(yesterday, time(9), ZoneInfo("UTC")), "12.34", 2)
    stored = orderreport("daily", "--format", "csv")
    assert stored.returncode == 0, stored.stderr
    assert stored.stdout.splitlines()[1] == f"{yesterday},UTC,,1,2,12.34,2.00,12.34"
    verified = orderreport("verify")
    assert verified.returncode == 0, verified.stderr
    assert "verified 1 stored day(s)" in verified.stderr
    with psycopg.connect(plain(empty_url), autocommit=True) as shop:
        shop.execute("UPDATE orders SET total_amount = 1.00")
    differs = orderreport("verify", "--json")
    assert differs.returncode == 1 and "total_value" in differs.stdout
    assert f"`orderreport daily --date {yesterday}`" in differs.stderr
