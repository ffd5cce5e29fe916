"""Shared fixtures: the default pack, a bot on the in-memory store, the test harness; the long
test run."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import NoReturn

import pytest
from hypothesis import settings

from factbot.app import build_bot
from factbot.core import FactBot
from factbot.packs import FactPack, load_packs
from factbot.settings import Settings

from .fakes.discord_api import FakeDiscord
from .harness import Harness

ROOT = Path(__file__).resolve().parent.parent
FACTS = ROOT / "facts"

# The long run, for CI (which sets CI=true) and on request (FACTBOT_HYPOTHESIS=long): the
# tests marked slow, and Hypothesis's long profile. Every local edit gets the short one.
# Both profiles are derandomized, with no example database: every run tries the same
# examples, so a failure in CI is a failure on every machine.
HYPOTHESIS_PROFILE = os.environ.get("FACTBOT_HYPOTHESIS") or (
    "long" if os.environ.get("CI", "").lower() in ("1", "true", "yes") else "short")
settings.register_profile("short", max_examples=30, deadline=None, derandomize=True,
                          database=None, print_blob=True)
settings.register_profile("long", max_examples=600, deadline=None, derandomize=True,
                          database=None, print_blob=True)
settings.load_profile(HYPOTHESIS_PROFILE)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip the tests marked slow outside the long run."""
    if HYPOTHESIS_PROFILE == "long":
        return
    skip = pytest.mark.skip(reason="slow: runs in CI, or with FACTBOT_HYPOTHESIS=long")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _private_data_dir(tmp_path_factory: pytest.TempPathFactory,
                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep every test's default database and the pack cache out of the user's folders."""
    home = tmp_path_factory.mktemp("xdg")
    monkeypatch.setenv("XDG_DATA_HOME", str(home))
    # One pack cache for the whole run (factbot.packcache), in the run's temp folder.
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.getbasetemp() / "cache"))
    monkeypatch.delenv("FACTBOT_DB", raising=False)
    monkeypatch.delenv("FACTBOT_CONFIG", raising=False)


@pytest.fixture(scope="session")
def packs() -> tuple[FactPack, ...]:
    return load_packs(FACTS)


@pytest.fixture
def factbot(packs: tuple[FactPack, ...]) -> FactBot:
    return build_bot(Settings(), packs=packs, cooldown=False)


@pytest.fixture
def harness(packs: tuple[FactPack, ...]) -> Harness:
    """The default packs on a bot from build_bot (in-memory store, no cooldown), and the
    Platform it talks to: ``await harness.push("/hallyu")``, ``harness.sent``."""
    return Harness(packs=packs)


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    """A fake Discord (REST and gateway) on 127.0.0.1, for any adapter test."""
    async with FakeDiscord() as server:
        yield server


# --- services a test needs: PostgreSQL, a browser ----------------------------------------


def missing_service(reason: str) -> NoReturn:
    """Skip the test, saying why, or fail it where FACTBOT_REQUIRE_SERVICES=1 (.ci/run):
    there every service must be present, so that a skip cannot hide a missing test."""
    if os.environ.get("FACTBOT_REQUIRE_SERVICES") == "1":
        pytest.fail(f"FACTBOT_REQUIRE_SERVICES=1 but {reason}", pytrace=False)
    pytest.skip(reason)


# --- a throwaway PostgreSQL database ------------------------------------------------------

POSTGRES_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A database of its own for this test run on the server at FACTBOT_TEST_POSTGRES_URL
    (default: the local one), dropped at the end; its URL.

    No server there: the tests that need one are skipped, saying why, unless
    FACTBOT_REQUIRE_SERVICES=1 (CI), where that is a failure.
    """
    from .postgres import create_database, drop_database, run_aside

    admin = os.environ.get("FACTBOT_TEST_POSTGRES_URL") or POSTGRES_ADMIN_URL
    try:
        url = run_aside(create_database, admin)
    except Exception as exc:  # whatever stops us, it is reported as the reason, never hidden
        from factbot.storage.postgres import redact_url, url_password

        problem = f"{type(exc).__name__}: {exc}"
        for secret in url_password(admin):
            problem = problem.replace(secret, "***")
        missing_service(f"no PostgreSQL server to test against at {redact_url(admin)} "
                        f"({problem}); set FACTBOT_TEST_POSTGRES_URL")
    try:
        yield url
    finally:
        run_aside(drop_database, admin, url)


@pytest.fixture
def postgres_url(postgres_server: str) -> str:
    """The run's PostgreSQL database, emptied for this test: nothing in it, not even the
    schema."""
    from .postgres import reset_database, run_aside

    run_aside(reset_database, postgres_server)
    return postgres_server
