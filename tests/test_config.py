"""Configuration precedence and validation: flags > environment > config file > defaults."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from psycopg.conninfo import conninfo_to_dict

from orderreport.config.settings import load_settings, normalize_url
from orderreport.errors import UsageError
from tests.conftest import ORDERREPORT, make_home, run_cli, subprocess_env

FILE_URL = "postgresql://file:filepw@filehost/filedb"
ENV_URL = "postgresql://env@envhost/envdb"
GENERIC_URL = "postgresql://generic@generichost/genericdb"
FLAG_URL = "postgresql://flag@flaghost/flagdb"


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(f'database_url = "{FILE_URL}"\ntz = "Asia/Tokyo"\n')
    return path


def host(settings_url: str | None) -> str | None:
    return str(conninfo_to_dict(settings_url)["host"]) if settings_url else None


def test_url_precedence(config_file: Path) -> None:
    env = {"ORDERREPORT_CONFIG": str(config_file)}
    assert host(load_settings(env=env).database_url) == "filehost"
    env["DATABASE_URL"] = GENERIC_URL
    assert host(load_settings(env=env).database_url) == "generichost"
    env["ORDERREPORT_DATABASE_URL"] = ENV_URL
    assert host(load_settings(env=env).database_url) == "envhost"
    assert host(load_settings(database_url=FLAG_URL, env=env).database_url) == "flaghost"


def test_tz_precedence(config_file: Path) -> None:
    assert load_settings(env={}).tz == "UTC"
    env = {"ORDERREPORT_CONFIG": str(config_file)}
    assert load_settings(env=env).tz == "Asia/Tokyo"
    env["ORDERREPORT_TZ"] = "Europe/Moscow"
    assert load_settings(env=env).tz == "Europe/Moscow"
    assert load_settings(tz="America/New_York", env=env).tz == "America/New_York"


def test_config_file_precedence(tmp_path: Path, config_file: Path) -> None:
    xdg = tmp_path / "xdg"
    (xdg / "orderreport").mkdir(parents=True)
    (xdg / "orderreport" / "config.toml").write_text('tz = "Europe/Berlin"\n')
    other = tmp_path / "other.toml"
    other.write_text('tz = "Africa/Cairo"\n')
    env = {"XDG_CONFIG_HOME": str(xdg)}
    assert load_settings(env=env).tz == "Europe/Berlin"
    env["ORDERREPORT_CONFIG"] = str(config_file)
    assert load_settings(env=env).tz == "Asia/Tokyo"
    assert load_settings(config=other, env=env).tz == "Africa/Cairo"


def test_no_configuration_means_embedded(tmp_path: Path) -> None:
    settings = load_settings(
        env={"XDG_CONFIG_HOME": str(tmp_path), "ORDERREPORT_HOME": str(tmp_path)}
    )
    assert settings.embedded and settings.home == tmp_path and settings.tz == "UTC"


def test_a_driver_url_becomes_libpq_s_own() -> None:
    # the str psycopg.connect takes: whatever driver a URL names, orderreport speaks psycopg
    for raw in ("postgresql://u@h/d", "postgres://u@h/d", "postgresql+psycopg2://u@h/d"):
        assert normalize_url(raw) == "postgresql://u@h/d"
    with pytest.raises(UsageError, match="expected postgresql://"):
        normalize_url("mysql://u@h/d")


def test_password_is_masked() -> None:
    settings = load_settings(database_url="postgresql://u:secret@h/d", env={})
    assert settings.database_url == "postgresql://u:secret@h/d"
    assert settings.describe_database() == "postgresql+psycopg://u:***@h/d"


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        ("tz = ", "invalid TOML"),
        ('tz = "Nowhere/Land"\n', "unknown time zone 'Nowhere/Land'"),
        ("colour = 'blue'\n", "unknown key 'colour'"),
        ("tz = 3\n", "tz must be a string"),
    ],
)
def test_bad_config_file_is_exit_2(tmp_path: Path, content: str, needle: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(content)
    r = run_cli("summary", "--config", str(path))
    assert r.code == 2 and needle in r.err and r.err.count("\n") == 1, r.err


def test_missing_or_unreadable_config_is_exit_2(tmp_path: Path) -> None:
    r = run_cli("summary", "--config", str(tmp_path / "missing.toml"))
    assert r.code == 2 and "not found" in r.err
    r = run_cli("summary", "--config", str(tmp_path))  # a folder is not a file
    assert r.code == 2 and r.err.count("\n") == 1


def test_env_tz_is_validated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ORDERREPORT_TZ", "Europe/Atlantis")
    r = run_cli("summary")
    assert r.code == 2 and "ORDERREPORT_TZ: unknown time zone 'Europe/Atlantis'" in r.err


def test_bad_url_never_echoes_it() -> None:
    r = run_cli("summary", "--database-url", "postgresql//u:topsecret@h/d")
    assert r.code == 2 and "topsecret" not in r.err and "not a database URL" in r.err


def unopenable(tmp_path: Path, how: str) -> tuple[dict[str, str], str]:
    """An environment whose default config path cannot be opened, and the reason (strerror)."""
    a_file = tmp_path / "a-file"
    a_file.write_text("")
    xdg = tmp_path / "xdg"
    (xdg / "orderreport").mkdir(parents=True)
    if how == "HOME=/dev/null":
        return {"HOME": "/dev/null"}, "Not a directory"
    if how == "HOME a file":
        return {"HOME": str(a_file)}, "Not a directory"
    if how == "XDG_CONFIG_HOME a file":
        return {"XDG_CONFIG_HOME": str(a_file)}, "Not a directory"
    if how == "a symlink loop":
        (xdg / "orderreport" / "config.toml").symlink_to(xdg / "orderreport" / "config.toml")
        return {"XDG_CONFIG_HOME": str(xdg)}, "Too many levels of symbolic links"
    (xdg / "orderreport" / "config.toml").mkdir()  # a folder
    return {"XDG_CONFIG_HOME": str(xdg)}, "Is a directory"


@pytest.mark.parametrize(
    "how", ["HOME=/dev/null", "HOME a file", "XDG_CONFIG_HOME a file", "a symlink loop", "a folder"]
)
def test_an_unopenable_default_config_is_no_file(tmp_path: Path, how: str) -> None:
    env, reason = unopenable(tmp_path, how)
    settings = load_settings(env=env)
    assert settings.config_file is None and settings.tz == "UTC"
    (note,) = settings.notes
    path = (
        Path(env.get("XDG_CONFIG_HOME") or Path(env["HOME"]) / ".config")
        / "orderreport"
        / "config.toml"
    )
    assert note == f"no config file read: {path} cannot be opened ({reason})"
    # the same path named explicitly must be read
    with pytest.raises(UsageError, match=r"config file .*: (cannot read|not a regular file)"):
        load_settings(env={**env, "ORDERREPORT_CONFIG": str(path)})
    assert run_cli("summary", "--config", str(path)).code == 2


def test_a_readable_default_config_must_be_valid(tmp_path: Path) -> None:
    (tmp_path / "xdg" / "orderreport").mkdir(parents=True)
    (tmp_path / "xdg" / "orderreport" / "config.toml").write_text("tz = ")
    with pytest.raises(UsageError, match="invalid TOML"):
        load_settings(env={"XDG_CONFIG_HOME": str(tmp_path / "xdg")})
    assert load_settings(env={"XDG_CONFIG_HOME": str(tmp_path)}).notes == ()  # merely absent


def as_another_user(job: Callable[[], str]) -> str:
    """job() where permission bits hold: as root, in a child process as nobody (65534)."""
    if os.geteuid() != 0:
        return job()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child never returns into pytest
        os.close(read)
        try:
            os.setgroups([])
            os.setgid(65534)
            os.setuid(65534)
            text = job()
        except BaseException as exc:
            text = f"child failed: {exc!r}"
        os.write(write, text.encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as answer:
        text = answer.read()
    os.waitpid(pid, 0)
    return text


def test_a_default_config_in_a_folder_we_may_not_enter_is_no_file() -> None:
    home = make_home()  # in /tmp, reachable by another user, unlike pytest's tmp_path
    locked = home / "xdg"
    (locked / "orderreport").mkdir(parents=True)
    path = locked / "orderreport" / "config.toml"
    path.write_text('tz = "Asia/Tokyo"\n')
    locked.chmod(0)
    env = {"XDG_CONFIG_HOME": str(locked), "ORDERREPORT_HOME": str(home)}

    def job() -> str:
        settings = load_settings(env=env)
        try:
            load_settings(config=path, env=env)
            explicit = "read"
        except UsageError as exc:
            explicit = str(exc)
        return json.dumps([settings.tz, list(settings.notes), explicit])

    try:
        answer = as_another_user(job)
    finally:
        locked.chmod(0o700)
        shutil.rmtree(home)
    if answer.startswith("child failed: PermissionError"):
        pytest.skip("cannot drop root to provoke a permission error")
    zone, notes, explicit = json.loads(answer)
    assert zone == "UTC" and notes == [
        f"no config file read: {path} cannot be opened (Permission denied)"
    ]
    assert explicit == f"config file {path}: cannot read (Permission denied)"


def test_a_cron_job_with_home_dev_null_runs() -> None:
    env = subprocess_env(HOME="/dev/null")
    env.pop("XDG_CONFIG_HOME", None)
    args = ["--verbose", "summary", "--database-url", "postgresql://nobody@127.0.0.1:1/x"]
    r = subprocess.run([*ORDERREPORT, *args], env=env, capture_output=True, text=True, timeout=60)
    # exit 1: the database cannot be reached; not 2, a config file that is not there
    assert r.returncode == 1 and "cannot connect" in r.stderr, r.stderr
    assert "config file none" in r.stderr and "error: config file" not in r.stderr, r.stderr
