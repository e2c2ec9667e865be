"""Configuration precedence and validation: flags > environment > config file > defaults."""

from __future__ import annotations

from pathlib import Path

import pytest

from orderreport.config import load_settings, mask_url, normalize_url
from orderreport.errors import UsageError
from tests.conftest import run_cli

FILE_URL = "postgresql://file:filepw@filehost/filedb"
ENV_URL = "postgresql://env@envhost/envdb"
GENERIC_URL = "postgresql://generic@generichost/genericdb"
FLAG_URL = "postgresql://flag@flaghost/flagdb"


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(f'database_url = "{FILE_URL}"\ntz = "Asia/Tokyo"\n')
    return path


def host(settings_url: object) -> str | None:
    return getattr(settings_url, "host", None)


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


def test_plain_postgresql_url_gets_psycopg() -> None:
    assert normalize_url("postgresql://u@h/d").drivername == "postgresql+psycopg"
    assert normalize_url("postgres://u@h/d").drivername == "postgresql+psycopg"
    with pytest.raises(UsageError, match="expected postgresql://"):
        normalize_url("mysql://u@h/d")


def test_password_is_masked() -> None:
    assert mask_url("postgresql://u:secret@h/d") == "postgresql+psycopg://u:***@h/d"


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
