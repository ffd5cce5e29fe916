"""Shared fixtures: the default pack, a bot on the in-memory store."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.core import FactBot
from bot.packs import FactPack, load_packs

ROOT = Path(__file__).resolve().parent.parent
FACTS = ROOT / "facts"


@pytest.fixture(autouse=True)
def _private_data_dir(tmp_path_factory: pytest.TempPathFactory,
                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep every test's default database out of the real user data directory."""
    home = tmp_path_factory.mktemp("xdg")
    monkeypatch.setenv("XDG_DATA_HOME", str(home))
    monkeypatch.delenv("FACTBOT_DB", raising=False)
    monkeypatch.delenv("FACTBOT_CONFIG", raising=False)


@pytest.fixture(scope="session")
def packs() -> tuple[FactPack, ...]:
    return load_packs(FACTS)


@pytest.fixture
def factbot(packs: tuple[FactPack, ...]) -> FactBot:
    return FactBot(packs)
