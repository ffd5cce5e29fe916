"""Health and metrics: /healthz, /readyz and /metrics scraped while the real adapters serve.

The Telegram tests run the real serve() against the fake Bot API, with the endpoint of
``factbot run`` (adapters.launch.monitoring) on a free port, and read /metrics as
Prometheus would. Counts are asserted once the metrics show every message handled: a
message the bot stays quiet on sends nothing that could be waited for.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import errno
import shutil
import socket
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import aiohttp
import discord
import pytest
from hypothesis import given
from hypothesis import strategies as st
from prometheus_client.parser import text_string_to_metric_families

from factbot.adapters.discord import error_kind as discord_error_kind
from factbot.adapters.launch import Monitor, metrics_address, monitoring
from factbot.adapters.telegram import serve, status_kind
from factbot.app import build_bot
from factbot.core import FactBot
from factbot.errors import ConfigError, UnreachableError
from factbot.metrics import OUTCOMES, REPLY_BUCKETS, Metrics
from factbot.packs import FactPack
from factbot.settings import CooldownSettings, Secret, Settings, TelegramSettings
from factbot.storage import ChatKey, MemoryStore
from factbot.storage.sqlite import SqliteStore
from tests.conftest import FACTS
from tests.fakes.discord_api import TOKEN as DISCORD_TOKEN
from tests.fakes.discord_api import FakeDiscord
from tests.fakes.telegram_api import BOT_USERNAME, FakeBotAPI
from tests.harness import Harness
from tests.test_discord import running as discord_running

TOKEN = "135790:SECRET-metrics-token"
GROUP = -100777
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


@pytest.fixture(autouse=True)
def _ptb_timedelta(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")  # as serve() sets it; see test_telegram.py


@pytest.fixture
async def api() -> AsyncIterator[FakeBotAPI]:
    async with FakeBotAPI(TOKEN) as fake:
        yield fake


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def get(http: aiohttp.ClientSession, monitor: Monitor, path: str) -> tuple[int, str]:
    async with http.get(monitor.url + path) as response:
        return response.status, await response.text()


async def scrape(http: aiohttp.ClientSession, monitor: Monitor) -> Samples:
    """Every sample of /metrics, by name and labels."""
    status, text = await get(http, monitor, "/metrics")
    assert status == 200
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples[(name, tuple(sorted(labels.items())))]


async def until(check: Callable[[], Any], timeout: float = 10.0) -> None:
    """Wait for ``check()`` (a coroutine's result) to be true; fail after ``timeout``."""
    async def poll() -> None:
        while not await check():
            await asyncio.sleep(0.02)

    await asyncio.wait_for(poll(), timeout)


def _settings(api: FakeBotAPI) -> Settings:
    return Settings(telegram=TelegramSettings(token=Secret(api.token),
                                              api_base_url=api.base_url),
                    cooldown=CooldownSettings(user_per_minute=1, chat_per_minute=100))


def _args() -> argparse.Namespace:
    return argparse.Namespace(platform="telegram", webhook_url=None, listen=None)


@contextlib.asynccontextmanager
async def serving(bot: FactBot, api: FakeBotAPI) -> AsyncIterator[asyncio.Task[None]]:
    """The real Telegram serve(), stopped cleanly on the way out."""
    stop = asyncio.Event()
    task = asyncio.create_task(serve(bot, _settings(api), _args(), stop))
    try:
        yield task
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)


@pytest.fixture
def bot(packs: tuple[FactPack, ...]) -> FactBot:
    """The default packs, with a cooldown of one answer a minute per person in a group."""
    return build_bot(Settings(cooldown=CooldownSettings(user_per_minute=1,
                                                        chat_per_minute=100)),
                     MemoryStore(), packs=packs)


# --- the endpoint while Telegram serves -----------------------------------------------


async def test_metrics_count_every_outcome_while_telegram_serves(
        api: FakeBotAPI, bot: FactBot, packs: tuple[FactPack, ...],
        http: aiohttp.ClientSession) -> None:
    async with monitoring(bot, ("127.0.0.1", 0), ["telegram"]) as monitor:
        before = await scrape(http, monitor)
        assert all(value(before, "factbot_messages_total", platform="telegram", outcome=o)
                   == 0 for o in OUTCOMES)
        async with serving(bot, api):
            await api.push(api.message("/hallyu"))  # a fact
            await api.push(api.message("what is the weather on mars"))  # the fallback
            await api.push(api.message("/help"))  # a built-in command
            # Group chatter not for us, and another bot's command: ignored.
            await api.push(api.message("k-pop is great", chat_id=GROUP, chat_type="group"))
            await api.push(api.message("/hallyu@otherbot", chat_id=GROUP,
                                       chat_type="supergroup"))
            # One person in a group, one answer a minute: a fact, "slow down", silence.
            for _ in range(3):
                await api.push(api.message(f"/hallyu@{BOT_USERNAME}", chat_id=GROUP,
                                           user_id=9, chat_type="supergroup"))

            async def all_handled() -> bool:
                samples = await scrape(http, monitor)
                return sum(value(samples, "factbot_messages_total", platform="telegram",
                                 outcome=o) for o in OUTCOMES) >= 8

            await until(all_handled)
            samples = await scrape(http, monitor)
    counts = {o: value(samples, "factbot_messages_total", platform="telegram", outcome=o)
              for o in OUTCOMES}
    assert counts == {"fact": 2, "fallback": 1, "command": 1, "cooldown": 2, "ignored": 2,
                      "error": 0}
    assert value(samples, "factbot_reply_seconds_count", platform="telegram") == 8
    assert value(samples, "factbot_reply_seconds_bucket", platform="telegram", le="+Inf") == 8
    # The store calls the core waited on, by store method.
    assert value(samples, "factbot_db_seconds_count", operation="chat_settings") >= 4
    assert value(samples, "factbot_db_seconds_count", operation="record_usage") == 2
    assert value(samples, "factbot_db_seconds_count", operation="record_unmatched") == 1
    assert value(samples, "factbot_packs_loaded") == len(packs)
    assert value(samples, "factbot_facts_loaded") == sum(len(t.facts) for p in packs
                                                         for t in p.topics)
    assert value(samples, "factbot_database_up") == 1
    assert value(samples, "factbot_build_info", version="0.1.0") == 1
    # What the fake received agrees: three answers in the private chat, two in the group.
    assert len(api.sent()) == 5


async def test_readyz_waits_for_telegram_and_says_what_is_missing(
        api: FakeBotAPI, bot: FactBot, http: aiohttp.ClientSession) -> None:
    async with monitoring(bot, ("127.0.0.1", 0), ["telegram"]) as monitor:
        assert await get(http, monitor, "/healthz") == (200, "ok\n")
        status, body = await get(http, monitor, "/readyz")
        assert status == 503
        assert body.splitlines() == ["not ready", "packs: ok (1 pack, 9 topics)",
                                     "database: ok", "telegram: not connected"]
        samples = await scrape(http, monitor)
        assert value(samples, "factbot_platform_connected", platform="telegram") == 0
        async with serving(bot, api):
            async def ready() -> bool:
                return (await get(http, monitor, "/readyz"))[0] == 200

            await until(ready)
            status, body = await get(http, monitor, "/readyz")
            assert body.splitlines()[0] == "ready"
            assert "telegram: connected" in body.splitlines()
            samples = await scrape(http, monitor)
            assert value(samples, "factbot_platform_connected", platform="telegram") == 1
        # Stopped: no longer ready, still alive.
        status, body = await get(http, monitor, "/readyz")
        assert status == 503 and "telegram: not connected" in body
        assert (await get(http, monitor, "/healthz"))[0] == 200


async def test_failed_bot_api_calls_are_counted_by_kind_and_polling_failures_disconnect(
        api: FakeBotAPI, bot: FactBot, http: aiohttp.ClientSession) -> None:
    async with monitoring(bot, ("127.0.0.1", 0), ["telegram"]) as monitor, \
            serving(bot, api):
        async def ready() -> bool:
            return (await get(http, monitor, "/readyz"))[0] == 200

        await until(ready)
        api.fail("sendMessage", 429, retry_after=1)  # retried after a second, then sent
        await api.push(api.message("/hallyu"))
        await api.wait_for(lambda: bool(api.succeeded()))
        api.fail("sendMessage", 403, description="Forbidden: bot was blocked by the user")
        await api.push(api.message("/trade", chat_id=502, user_id=502))
        await api.wait_for(lambda: any(c.method == "sendMessage" and c.status == 403
                                       for c in api.calls))
        # The poll in flight gets this message; the next one fails.
        api.fail("getUpdates", 502, times=1)
        await api.push(api.message("/help", chat_id=503, user_id=503))

        async def counted() -> bool:
            samples = await scrape(http, monitor)
            return value(samples, "factbot_platform_errors_total", platform="telegram",
                         kind="network") >= 1

        await until(counted)
        # Disconnected: the poll after the failure waits for an update to get through.
        status, body = await get(http, monitor, "/readyz")
        assert status == 503 and "telegram: not connected" in body
        await api.push(api.message("/source", chat_id=504, user_id=504))
        await until(ready)
        await api.wait_for(lambda: any(p["chat_id"] == 504 for p in api.sent()))
        samples = await scrape(http, monitor)
    errors = {kind: value(samples, "factbot_platform_errors_total", platform="telegram",
                          kind=kind)
              for kind in ("network", "forbidden", "rate_limited", "bad_request", "other")}
    assert errors == {"network": 1, "forbidden": 1, "rate_limited": 1, "bad_request": 0,
                      "other": 0}


async def test_a_telegram_webhook_is_connected_once_it_listens(
        api: FakeBotAPI, bot: FactBot, http: aiohttp.ClientSession) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    args = argparse.Namespace(platform="telegram", listen=f"127.0.0.1:{port}",
                              webhook_url="https://bot.example.com/telegram-hook")
    stop = asyncio.Event()
    async with monitoring(bot, ("127.0.0.1", 0), ["telegram"]) as monitor:
        task = asyncio.create_task(serve(bot, _settings(api), args, stop))
        try:
            async def ready() -> bool:
                return (await get(http, monitor, "/readyz"))[0] == 200

            await until(ready)
            assert api.webhook is not None  # registered, and listening: ready
        finally:
            stop.set()
            await asyncio.wait_for(task, 10)
        assert (await get(http, monitor, "/readyz"))[0] == 503


def test_bot_api_statuses_map_to_error_kinds() -> None:
    assert [status_kind(s) for s in (200, None, 502, 429, 403, 401, 409, 400, 418)] == [
        None, "network", "network", "rate_limited", "forbidden", "forbidden", "conflict",
        "bad_request", "other"]


# --- the database in /readyz ----------------------------------------------------------


async def test_readyz_is_503_naming_the_database_when_it_cannot_be_used(
        packs: tuple[FactPack, ...], tmp_path: Path, http: aiohttp.ClientSession) -> None:
    store = SqliteStore(tmp_path / "state.db")
    await store.open()
    bot = build_bot(Settings(), store, packs=packs)
    async with monitoring(bot, ("127.0.0.1", 0), []) as monitor:
        assert (await get(http, monitor, "/readyz"))[0] == 200
        await store.close()  # gone from under the bot
        status, body = await get(http, monitor, "/readyz")
        samples = await scrape(http, monitor)
    assert status == 503
    lines = body.splitlines()
    assert lines[0] == "not ready"
    assert any(line.startswith("database: ") and "state.db" in line and "not open" in line
               for line in lines), body
    assert value(samples, "factbot_database_up") == 0


async def test_sqlite_ping_reports_writes_that_keep_failing(
        packs: tuple[FactPack, ...], tmp_path: Path) -> None:
    from factbot.errors import StorageError

    path = tmp_path / "state.db"
    async with SqliteStore(path, flush_interval=3600) as store:
        await store.ping()
        await store.record_usage("telegram", "hallyu")
        # The file is replaced by a folder: the store cannot write it again at its path.
        for name in ("state.db", "state.db-wal", "state.db-shm"):
            (tmp_path / name).unlink(missing_ok=True)
        path.mkdir()
        await store.flush()
        with pytest.raises(StorageError, match="writes are failing"):
            await store.ping()
        path.rmdir()
        await store.flush()  # the path is free again: written there anew
        await store.ping()


# --- Discord's connection -------------------------------------------------------------


@pytest.mark.parametrize("shards", [{}, {"shard_count": 2, "shard_ids": (1,)}],
                         ids=["one connection", "sharded"])
async def test_readyz_follows_the_discord_gateway_through_a_reconnect(
        shards: dict[str, Any], packs: tuple[FactPack, ...], fake: FakeDiscord,
        tmp_path: Path, http: aiohttp.ClientSession) -> None:
    bot = build_bot(Settings(), MemoryStore(), packs=packs)
    async with monitoring(bot, ("127.0.0.1", 0), ["discord"]) as monitor:
        assert (await get(http, monitor, "/readyz"))[0] == 503
        async with discord_running(bot, fake, tmp_path / "sync.json", **shards):
            async def connected(up: bool) -> bool:
                samples = await scrape(http, monitor)
                return value(samples, "factbot_platform_connected",
                             platform="discord") == (1 if up else 0)

            await until(lambda: connected(True))
            assert (await get(http, monitor, "/readyz"))[0] == 200
            await fake.interact(fake.slash("hallyu"))
            await fake.reconnect()
            await asyncio.wait_for(fake.wait_resumed(), 10)
            await until(lambda: connected(True))
            samples = await scrape(http, monitor)
        assert value(samples, "factbot_messages_total", platform="discord",
                     outcome="fact") == 1
        assert (await get(http, monitor, "/readyz"))[0] == 503  # stopped
    assert DISCORD_TOKEN not in str(samples)


def test_discord_failures_map_to_error_kinds() -> None:
    def http_error(status: int) -> discord.HTTPException:
        response = SimpleNamespace(status=status, reason="x")
        error: discord.HTTPException = (discord.Forbidden if status == 403
                                        else discord.HTTPException)(response, "failed")
        return error

    wrapped = SimpleNamespace(original=http_error(403))  # as CommandInvokeError holds it
    assert discord_error_kind(wrapped) == "forbidden"  # type: ignore[arg-type]
    assert [discord_error_kind(e) for e in (http_error(429), http_error(503), http_error(404),
                                            aiohttp.ClientConnectionError(), TimeoutError(),
                                            RuntimeError("a bug"))] == [
        "rate_limited", "network", "bad_request", "network", "network", "other"]


# --- the core's own counts -----------------------------------------------------------


async def test_daily_facts_sent_and_failed_are_counted(packs: tuple[FactPack, ...]) -> None:
    from datetime import UTC, datetime, time

    from factbot.features.daily import SendThrottle

    store = MemoryStore()
    for chat in ("1", "2"):
        await store.set_daily(ChatKey("telegram", chat), True, time(6, 0), "UTC")
    harness = Harness(store=store, packs=packs)
    metrics = Metrics(["telegram"])
    harness.bot.instrument(metrics)
    now = datetime(2026, 3, 1, 6, 1, tzinfo=UTC)
    assert await harness.bot.daily.send_due(harness, now, SendThrottle()) == 2
    await store.set_daily(ChatKey("telegram", "3"), True, time(6, 0), "UTC")
    harness.fail_sends = True
    assert await harness.bot.daily.send_due(harness, now, SendThrottle()) == 0
    sample = metrics.registry.get_sample_value
    assert sample("factbot_daily_sent_total", {"platform": "telegram"}) == 2
    assert sample("factbot_daily_failed_total", {"platform": "telegram", "stage": "chat"}) == 1


async def test_reloads_are_counted_and_the_pack_gauges_follow(tmp_path: Path) -> None:
    facts = tmp_path / "facts"
    shutil.copytree(FACTS, facts)
    bot = build_bot(Settings(facts=facts), MemoryStore())
    metrics = Metrics()
    bot.instrument(metrics)
    sample = metrics.registry.get_sample_value
    topics = sample("factbot_topics_loaded")
    assert sample("factbot_packs_loaded") == 1 and topics is not None and topics > 1
    assert (await bot.reload()).ok
    pack = next(facts.glob("*/pack.yaml"))
    pack.write_text(pack.read_text(encoding="utf-8") + "\n  - : broken\n", encoding="utf-8")
    assert not (await bot.reload()).ok
    assert sample("factbot_reloads_total", {"result": "ok"}) == 1
    assert sample("factbot_reloads_total", {"result": "refused"}) == 1
    assert sample("factbot_topics_loaded") == topics  # the last good packs, still served


async def test_an_error_in_handle_is_counted_and_raised(packs: tuple[FactPack, ...]) -> None:
    harness = Harness(packs=packs)
    metrics = Metrics(["telegram"])
    harness.bot.instrument(metrics)

    def broken(*_: Any) -> Any:
        raise RuntimeError("a bug")

    harness.bot.decide = broken  # type: ignore[assignment,method-assign]  # a bug, injected
    with pytest.raises(RuntimeError):
        await harness.push("/hallyu")
    assert metrics.registry.get_sample_value(
        "factbot_messages_total", {"platform": "telegram", "outcome": "error"}) == 1


def test_the_core_without_metrics_runs_its_own_methods_and_imports_no_prometheus(
        packs: tuple[FactPack, ...]) -> None:
    """Off, handle and _guard are the class's own: not even a branch is added."""
    import subprocess

    bot = build_bot(Settings(), MemoryStore(), packs=packs)
    assert bot.metrics is None
    assert "handle" not in vars(bot) and "_guard" not in vars(bot)
    code = ("import sys, asyncio\n"
            "from factbot.cli import main\n"
            "main(['ask', '/hallyu'])\n"
            "assert 'prometheus_client' not in sys.modules, 'imported'\n"
            "assert 'factbot.metrics' not in sys.modules, 'imported'\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr


@given(st.lists(st.one_of(st.sampled_from(REPLY_BUCKETS),
                          st.floats(min_value=0, max_value=20, allow_nan=False)),
                max_size=40))
def test_the_reply_histogram_has_the_buckets_of_prometheus_clients_own(
        values: list[float]) -> None:
    """A value on a bound counts in that bound's bucket ("le"), as prometheus_client has it."""
    from prometheus_client import CollectorRegistry, Histogram

    metrics = Metrics(["telegram"])
    reference = CollectorRegistry()
    histogram = Histogram("factbot_reply_seconds", "reference", ["platform"],
                          buckets=REPLY_BUCKETS, registry=reference)
    histogram.labels("telegram")  # at zero, as Metrics starts each named platform
    for seconds in values:
        metrics.message("telegram", "fact", seconds)
        histogram.labels("telegram").observe(seconds)

    def samples(registry: Any) -> dict[tuple[str, str], float]:
        return {(s.name, s.labels.get("le", "")): s.value for family in registry.collect()
                for s in family.samples if s.name.startswith("factbot_reply_seconds")
                and not s.name.endswith("_created")}

    assert samples(metrics.registry) == pytest.approx(samples(reference))


# --- the setting ----------------------------------------------------------------------


@pytest.mark.parametrize("bad", ["9108", "localhost", ":9108", "127.0.0.1:", "127.0.0.1:x",
                                 "127.0.0.1:70000", "127.0.0.1:0"])
def test_a_metrics_value_that_is_not_host_port_is_a_config_error(bad: str) -> None:
    with pytest.raises(ConfigError, match=r"metrics .* is not HOST:PORT"):
        metrics_address(bad)


def test_metrics_addresses_take_ipv6_in_brackets() -> None:
    assert metrics_address("[::1]:9108") == ("::1", 9108)
    assert metrics_address("0.0.0.0:9108") == ("0.0.0.0", 9108)


async def test_a_port_in_use_is_one_line_to_retry_later(bot: FactBot) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(UnreachableError, match=rf"metrics 127\.0\.0\.1:{port}: the port "
                                                   r"is in use") as info:
            async with monitoring(bot, ("127.0.0.1", port), ["telegram"]):
                pass
    assert info.value.exit_status == 75
    assert errno.EADDRINUSE  # the errno the mapping is for exists on this platform


def test_factbot_run_refuses_a_bad_metrics_value_in_one_line(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from factbot.cli import main

    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("FACTBOT_METRICS", "127.0.0.1")
    assert main(["run", "telegram"]) == 2
    [line] = capsys.readouterr().err.splitlines()
    # Said by the settings or by `factbot run`, whichever looks first: the key, the value,
    # and what it should be.
    assert line.startswith("factbot: error: ")
    assert "FACTBOT_METRICS" in line and "'127.0.0.1'" in line and "HOST:PORT" in line


def test_factbot_run_with_its_metrics_port_taken_exits_75(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        tmp_path: Path) -> None:
    from factbot.cli import main

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
        monkeypatch.setenv("TELEGRAM_API_BASE_URL", "http://127.0.0.1:9/bot")  # never reached
        monkeypatch.setenv("FACTBOT_DB", str(tmp_path / "state.db"))
        monkeypatch.setenv("FACTBOT_METRICS", f"127.0.0.1:{port}")
        assert main(["run", "telegram"]) == 75
    [line] = capsys.readouterr().err.splitlines()
    assert line == (f"factbot: error: metrics 127.0.0.1:{port}: the port is in use (by another "
                    f"factbot?); try again when it is free, or choose another port")
