"""pytest-alembic's standard peer checks of the migrations, against a real PostgreSQL.

Single head; upgrade from nothing to head; each revision up and back down again; and the
models (orderreport/models.py) matching the DDL the revisions produce, so autogenerate
would find nothing to add or drop (the indexes of 0001/0003 included).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.config import Config
from pytest_alembic.tests import (
    test_model_definitions_match_ddl,
    test_single_head_revision,
    test_up_down_consistency,
    test_upgrade,
)
from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import URL

from orderreport.schema import migrate
from tests.conftest import settings_for

__all__ = [
    "test_model_definitions_match_ddl",
    "test_single_head_revision",
    "test_up_down_consistency",
    "test_upgrade",
]


@pytest.fixture
def alembic_config(empty_url: URL) -> Config:
    cfg = migrate.alembic_config()
    cfg.attributes["settings"] = settings_for(empty_url)
    return cfg


@pytest.fixture
def alembic_engine(empty_url: URL) -> Iterator[Engine]:
    engine = create_engine(empty_url)  # an Engine, as pytest-alembic hands it to env.py
    try:
        yield engine
    finally:
        engine.dispose()


def test_the_checks_are_collected() -> None:
    """The imports above are what runs the built-in checks: a rename would drop them."""
    assert Path(__file__).read_text().count("test_") > 8
