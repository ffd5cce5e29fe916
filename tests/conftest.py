"""Shared fixtures: the default pack, a bot on the in-memory store."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.core import FactBot
from bot.packs import FactPack, load_packs

ROOT = Path(__file__).resolve().parent.parent
FACTS = ROOT / "facts"


@pytest.fixture(scope="session")
def packs() -> tuple[FactPack, ...]:
    return load_packs(FACTS)


@pytest.fixture
def factbot(packs: tuple[FactPack, ...]) -> FactBot:
    return FactBot(packs)
