"""PostgresStore's per-process settings cache: used while its LISTEN connection lives, dropped
by the NOTIFY every settings change sends, given up when the listener is lost."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import asyncpg
import pytest

from factbot.storage.base import ChatKey, ChatSettings
from factbot.storage.postgres import PostgresStore

CHAT = ChatKey("telegram", "-100")


@pytest.fixture
async def stores(postgres_url: str) -> AsyncIterator[tuple[PostgresStore, PostgresStore]]:
    async with PostgresStore(postgres_url, flush_interval=0.05) as a, \
            PostgresStore(postgres_url, flush_interval=0.05) as b:
        yield a, b


async def _behind_its_back(url: str) -> None:
    """Turn a topic off in the database without telling anyone (no NOTIFY)."""
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("INSERT INTO disabled_topics VALUES ('telegram', '-100', 'trade')")
    finally:
        await conn.close()


async def _eventually(check: Callable[[], Awaitable[bool]], what: str) -> None:
    """Poll ``check`` until it holds; a generous bound names what never happened."""
    for _ in range(1000):
        if await check():
            return
        await asyncio.sleep(0.005)
    raise AssertionError(f"never: {what}")


async def test_settings_are_served_from_the_cache_until_a_change_is_announced(
        stores: tuple[PostgresStore, PostgresStore], postgres_url: str) -> None:
    a, b = stores
    assert await b.chat_settings(CHAT) == ChatSettings()
    await _behind_its_back(postgres_url)
    # The cache is in use: a change nobody announced is not seen...
    assert (await b.chat_settings(CHAT)).disabled == frozenset()
    # ...and an announced one is, as soon as the notification arrives.
    await a.set_cooldown(CHAT, 2, 9)

    async def seen() -> bool:
        settings = await b.chat_settings(CHAT)
        return (settings.disabled, settings.user_per_minute) == ({"trade"}, 2)
    await _eventually(seen, "the other process reads the new settings")


async def test_the_writer_reads_its_own_change_at_once(
        stores: tuple[PostgresStore, PostgresStore]) -> None:
    a, _ = stores
    assert await a.chat_settings(CHAT) == ChatSettings()
    await a.set_topic_enabled(CHAT, "trade", False)
    assert (await a.chat_settings(CHAT)).disabled == {"trade"}


async def test_a_lost_listener_turns_the_cache_off_until_it_is_back(
        stores: tuple[PostgresStore, PostgresStore], postgres_url: str) -> None:
    _, b = stores
    assert await b.chat_settings(CHAT) == ChatSettings()
    listener = b._listener
    assert listener is not None
    conn = await asyncpg.connect(postgres_url)
    try:
        await conn.execute("SELECT pg_terminate_backend($1)", listener.get_server_pid())
    finally:
        await conn.close()
    await _eventually(lambda: _true(b._listener is not listener), "the listener is given up")
    await _behind_its_back(postgres_url)
    # Nothing announced the change, yet it is read: no cache without a listener.
    assert (await b.chat_settings(CHAT)).disabled == {"trade"}
    await _eventually(lambda: _true(b._listener is not None), "a new listener")


async def test_with_the_cache_off_every_read_goes_to_the_server(postgres_url: str) -> None:
    async with PostgresStore(postgres_url, settings_cache=0) as store:
        assert await store.chat_settings(CHAT) == ChatSettings()
        await _behind_its_back(postgres_url)
        assert (await store.chat_settings(CHAT)).disabled == {"trade"}
        assert store._listener is None


async def _true(value: bool) -> bool:
    return value


async def test_rotation_steps_in_flight_together_never_repeat_across_processes(
        stores: tuple[PostgresStore, PostgresStore]) -> None:
    """Steps asked for at once go to the server together; each round is still every fact
    once, with steps of several chats and topics mixed and two processes at it."""
    a, b = stores
    keys = [(ChatKey("telegram", chat), topic, size)
            for chat in ("-1", "-2") for topic, size in (("trade", 5), ("hallyu", 3))]
    for _ in range(3):  # three rounds
        calls = [store.next_rotation(chat, topic, size)
                 for chat, topic, size in keys for n in range(size)
                 for store in ((a, b)[n % 2],)]
        got = await asyncio.gather(*calls)
        at = 0
        for _chat, _topic, size in keys:
            assert sorted(got[at:at + size]) == list(range(size))
            at += size
