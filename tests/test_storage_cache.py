"""SqliteStore's per-chat cache is bounded, and a chat that drops out of it comes back whole.

Real files in tmp_path, a cache of a few chats, many chats passing through: rotation must
neither restart nor repeat, settings must read back, whether the chat's positions were
written yet or not.
"""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest

from factbot.core import FactBot
from factbot.messages import ReplyKind
from factbot.packs import FactPack
from factbot.storage import MemoryStore
from factbot.storage.base import ChatKey, ChatSettings
from factbot.storage.sqlite import CHAT_CACHE_SIZE, SqliteStore
from tests.test_storage_sqlite import ask, lock_held, release, rows

TOPICS = ("hallyu", "trade", "any")
FACTS = 4  # facts per topic: rotation wraps within the test


def chats(count: int) -> list[ChatKey]:
    return [ChatKey("telegram" if n % 2 else "discord", str(-n)) for n in range(count)]


def test_the_cache_has_a_stated_default_size(tmp_path: Path) -> None:
    assert SqliteStore(tmp_path / "s.db").chat_cache == CHAT_CACHE_SIZE == 10_000


@pytest.mark.parametrize("flush_every", [0, 1, 7], ids=["never-flushed", "flushed", "mixed"])
@pytest.mark.parametrize("size", [0, 1, 5])
async def test_rotation_goes_on_after_a_chat_drops_out_of_the_cache(
        tmp_path: Path, size: int, flush_every: int) -> None:
    """Against the in-memory store: the same index for every call, in every chat."""
    path = tmp_path / "state.db"
    reference = MemoryStore()
    many = chats(40)
    async with SqliteStore(path, flush_interval=3600, chat_cache=size) as store:
        for round_ in range(3 * FACTS):
            for n, chat in enumerate(many):
                topic = TOPICS[(n + round_) % len(TOPICS)]
                assert await store.next_rotation(chat, topic, FACTS) == \
                    await reference.next_rotation(chat, topic, FACTS), (round_, chat, topic)
                assert store.cached_chats <= size
                if flush_every and n % flush_every == 0:
                    await store.flush()
    # And what was written is what a new process reads.
    async with SqliteStore(path, chat_cache=size) as store:
        for chat in many:
            for topic in TOPICS:
                assert await store.next_rotation(chat, topic, FACTS) == \
                    await reference.next_rotation(chat, topic, FACTS)


async def test_positions_of_a_dropped_chat_are_not_lost_while_a_flush_is_writing_them(
        tmp_path: Path) -> None:
    a, b = chats(2)
    async with SqliteStore(tmp_path / "s.db", flush_interval=3600, chat_cache=1) as store:
        assert [await store.next_rotation(a, "hallyu", 10) for _ in range(3)] == [0, 1, 2]
        await store.next_rotation(b, "hallyu", 10)  # a drops out, 3 not yet written
        flushing = asyncio.create_task(store.flush())
        while store.pending:  # until the flush has taken them and is writing them
            await asyncio.sleep(0)
        assert not flushing.done()
        assert await store.next_rotation(a, "hallyu", 10) == 3
        await flushing
        await store.next_rotation(b, "hallyu", 10)  # a drops out again, 4 not yet written
        assert await store.next_rotation(a, "hallyu", 10) == 4


async def test_many_concurrent_messages_with_flushes_never_repeat_a_position(
        tmp_path: Path) -> None:
    many = chats(30)
    async with SqliteStore(tmp_path / "s.db", flush_interval=0.001, chat_cache=3) as store:
        calls = [store.next_rotation(chat, "hallyu", 1000) for _ in range(8) for chat in many]
        got = await asyncio.gather(*calls)
        assert store.cached_chats <= 3
    per_chat: dict[ChatKey, list[int]] = {}
    for n, index in enumerate(got):
        per_chat.setdefault(many[n % len(many)], []).append(index)
    assert all(sorted(indices) == list(range(8)) for indices in per_chat.values())


async def test_unwritten_positions_carry_on_when_reading_a_dropped_chat_fails(
        tmp_path: Path) -> None:
    a, b = chats(2)
    path = tmp_path / "s.db"
    async with SqliteStore(path, flush_interval=3600, chat_cache=1) as store:
        assert [await store.next_rotation(a, "hallyu", 10) for _ in range(3)] == [0, 1, 2]
        await store.next_rotation(b, "hallyu", 10)  # a drops out, 3 not yet written
        conn = sqlite3.connect(path)  # someone breaks the database under the running bot
        conn.execute("DROP TABLE rotation")
        conn.commit()
        conn.close()
        assert [await store.next_rotation(a, "hallyu", 10) for _ in range(3)] == [3, 4, 5]
        assert store.cached_chats <= 1


async def test_settings_read_back_after_the_chat_drops_out(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    many = chats(30)
    sent = datetime(2025, 1, 2, 3, 4, tzinfo=UTC)

    def expected(n: int) -> ChatSettings:
        return ChatSettings(
            daily=n % 3 == 0, daily_time=time(n % 24, n % 60), tz="Asia/Kuala_Lumpur",
            last_daily=sent if n % 3 == 0 else None,
            disabled=frozenset({"trade"} if n % 2 else ()),
            user_per_minute=n if n % 5 else None, chat_per_minute=2 * n if n % 5 else None)

    async with SqliteStore(path, flush_interval=3600, chat_cache=4) as store:
        for n, chat in enumerate(many):
            await store.next_rotation(chat, "hallyu", FACTS)  # cached with its positions
            await store.set_daily(chat, n % 3 == 0, time(n % 24, n % 60), "Asia/Kuala_Lumpur")
            if n % 3 == 0:
                await store.mark_daily_sent(chat, sent)
            if n % 2:
                await store.set_topic_enabled(chat, "trade", False)
            if n % 5:
                await store.set_cooldown(chat, n, 2 * n)
            assert store.cached_chats <= 4
        for _ in range(2):  # every chat drops out and is read again, twice over
            for n, chat in enumerate(many):
                assert await store.chat_settings(chat) == expected(n), chat
                assert store.cached_chats <= 4
        assert await store.chat_settings(ChatKey("telegram", "never seen")) == ChatSettings()
        daily = await store.daily_chats("discord")
        assert daily == sorted((c.chat_id, expected(n)) for n, c in enumerate(many)
                               if c.platform == "discord" and n % 3 == 0)
    async with SqliteStore(path, chat_cache=4) as store:
        for n, chat in enumerate(many):
            assert await store.chat_settings(chat) == expected(n)
            assert await store.next_rotation(chat, "hallyu", FACTS) == 1


async def test_the_daily_round_does_not_push_talking_chats_out_of_the_cache(
        tmp_path: Path) -> None:
    talking, *subscribers = chats(50)
    async with SqliteStore(tmp_path / "s.db", chat_cache=2) as store:
        for chat in subscribers:
            await store.set_daily(ChatKey("telegram", chat.chat_id), True)
        await store.set_topic_enabled(ChatKey("telegram", subscribers[0].chat_id), "trade", False)
        await store.chat_settings(talking)
        daily = await store.daily_chats("telegram")
        assert len(daily) == len(subscribers)
        assert dict(daily)[subscribers[0].chat_id].disabled == {"trade"}
        assert (talking.platform, talking.chat_id) in store._chats  # still cached


async def test_a_settings_change_in_a_cached_chat_keeps_its_rotation(tmp_path: Path) -> None:
    chat = chats(1)[0]
    async with SqliteStore(tmp_path / "s.db", flush_interval=3600) as store:
        assert [await store.next_rotation(chat, "hallyu", 10) for _ in range(2)] == [0, 1]
        await store.set_topic_enabled(chat, "trade", False)
        assert (await store.chat_settings(chat)).disabled == {"trade"}
        assert await store.next_rotation(chat, "hallyu", 10) == 2


async def test_through_the_core_every_chat_gets_each_quote_once_per_turn(
        tmp_path: Path, packs: tuple[FactPack, ...]) -> None:
    """Many chats and a cache of three: each chat still goes through the topic in order."""
    reference = FactBot(packs, MemoryStore())
    async with SqliteStore(tmp_path / "s.db", flush_interval=0.01, chat_cache=3) as store:
        bot = FactBot(packs, store)
        for round_ in range(4):
            for n in range(25):
                got = await bot.handle(ask("/hallyu", chat=str(n)))
                want = await reference.handle(ask("/hallyu", chat=str(n)))
                assert got is not None and got.kind is ReplyKind.FACT
                assert want is not None and got.quote == want.quote, (round_, n)
                assert store.cached_chats <= 3
            await asyncio.sleep(0.02)  # let the background flush run between rounds
    assert rows(tmp_path / "s.db", "SELECT count(*) FROM rotation WHERE topic = 'hallyu'") == \
        [(25,)]


# --- moved and forgotten chats: gone from the cache, from the file, and from later flushes ---

OLD, NEW = ChatKey("telegram", "-4001"), ChatKey("telegram", "-1004001")


@pytest.mark.parametrize("flushed", [False, True], ids=["unwritten", "written"])
async def test_a_moved_chat_never_comes_back_under_its_old_id(tmp_path: Path,
                                                              flushed: bool) -> None:
    path = tmp_path / "s.db"
    async with SqliteStore(path, flush_interval=3600) as store:
        await store.set_daily(OLD, True, time(9, 0))
        await store.set_topic_enabled(OLD, "trade", False)
        assert [await store.next_rotation(OLD, "hallyu", 10) for _ in range(3)] == [0, 1, 2]
        await store.next_rotation(NEW, "any", 10)  # the supergroup, cached too
        if flushed:
            await store.flush()
        await store.migrate_chat(OLD, NEW)
        assert (await store.chat_settings(OLD)) == ChatSettings()
        assert (await store.chat_settings(NEW)).disabled == {"trade"}
        assert await store.next_rotation(NEW, "hallyu", 10) == 3
        assert await store.next_rotation(NEW, "any", 10) == 1
    for table in ("chats", "disabled_topics", "rotation"):
        assert rows(path, f"SELECT count(*) FROM {table} WHERE chat_id = '-4001'") == [(0,)]
    assert sorted(rows(path, "SELECT topic, position FROM rotation")) == [
        ("any", 2), ("hallyu", 4)]
    async with SqliteStore(path) as store:
        assert [c for c, _ in await store.daily_chats("telegram")] == ["-1004001"]
        assert await store.next_rotation(NEW, "hallyu", 10) == 4


async def test_a_forgotten_chat_never_comes_back_from_the_cache_or_a_flush(
        tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    left_at = datetime(2025, 1, 1, tzinfo=UTC)
    async with SqliteStore(path, flush_interval=3600) as store:
        await store.set_topic_enabled(OLD, "trade", False)
        await store.next_rotation(OLD, "hallyu", 10)
        await store.flush()
        await store.set_left(OLD, left_at)
        await store.next_rotation(OLD, "hallyu", 10)  # unwritten, and cached
        assert await store.forget_left_chats("telegram", left_at + timedelta(days=1)) == 1
        assert store.pending == 0
        assert await store.chat_settings(OLD) == ChatSettings()
    for table in ("chats", "disabled_topics", "rotation"):
        assert rows(path, f"SELECT count(*) FROM {table}") == [(0,)]


async def test_a_move_that_the_database_refuses_loses_no_position(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    async with SqliteStore(path, busy_timeout=0.05, flush_interval=3600) as store:
        await store.set_daily(OLD, True)
        assert [await store.next_rotation(OLD, "hallyu", 10) for _ in range(2)] == [0, 1]
        with lock_held(path) as holder:
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                await store.migrate_chat(OLD, NEW)
            release(holder)
        assert await store.next_rotation(OLD, "hallyu", 10) == 2  # nothing moved, nothing lost
        await store.migrate_chat(OLD, NEW)
        assert await store.next_rotation(NEW, "hallyu", 10) == 3
        assert (await store.chat_settings(NEW)).daily
