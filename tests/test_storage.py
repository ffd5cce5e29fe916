"""The store contract, run against the in-memory store and SQLite on a tmp file alike."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest

from factbot.storage import BaseStore, ChatKey, MemoryStore
from factbot.storage.base import ChatSettings, question_key
from factbot.storage.sqlite import SqliteStore

CHAT = ChatKey("telegram", "-100")
OTHER = ChatKey("discord", "42")


@pytest.fixture(params=["memory", "sqlite", "sqlite-uncached"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[BaseStore]:
    if request.param == "memory":
        yield MemoryStore(max_rows=5)
        return
    # Uncached: every call reads the file, as for a chat that dropped out of the cache.
    cache = 0 if request.param == "sqlite-uncached" else 10
    async with SqliteStore(tmp_path / "state.db", max_rows=5, chat_cache=cache) as opened:
        yield opened


async def test_rotation_goes_through_every_fact_then_starts_over(store: BaseStore) -> None:
    got = [await store.next_rotation(CHAT, "hallyu", 3) for _ in range(7)]
    assert got == [0, 1, 2, 0, 1, 2, 0]


async def test_rotation_is_kept_per_chat_and_per_topic(store: BaseStore) -> None:
    assert await store.next_rotation(CHAT, "hallyu", 5) == 0
    assert await store.next_rotation(CHAT, "hallyu", 5) == 1
    assert await store.next_rotation(OTHER, "hallyu", 5) == 0
    assert await store.next_rotation(CHAT, "trade", 5) == 0


async def test_rotation_survives_a_pack_that_lost_facts(store: BaseStore) -> None:
    for _ in range(4):
        await store.next_rotation(CHAT, "hallyu", 5)
    assert await store.next_rotation(CHAT, "hallyu", 2) in (0, 1)


async def test_usage_is_counted_per_topic_with_a_platform_breakdown(store: BaseStore) -> None:
    for platform, topic in [("telegram", "hallyu"), ("discord", "hallyu"),
                            ("telegram", "hallyu"), ("telegram", "trade")]:
        await store.record_usage(platform, topic)
    top = await store.top_topics(10)
    assert [(t.topic, t.count) for t in top] == [("hallyu", 3), ("trade", 1)]
    assert top[0].by_platform == (("telegram", 2), ("discord", 1))
    assert [t.topic for t in await store.top_topics(1)] == ["hallyu"]


async def test_unmatched_questions_are_grouped_and_counted(store: BaseStore) -> None:
    now = datetime.now(UTC)
    await store.record_unmatched("telegram", "What about  K-pop?", "u1", now - timedelta(hours=2))
    await store.record_unmatched("discord", "what about k pop", "u2", now - timedelta(hours=1))
    await store.record_unmatched("telegram", "weather?", "u1", now)
    assert await store.unmatched_total() == 3
    top = await store.top_unmatched(10)
    assert [(q.text, q.count) for q in top] == [("what about k pop", 2), ("weather?", 1)]


async def test_unmatched_log_is_bounded_in_rows(store: BaseStore) -> None:
    for n in range(8):
        await store.record_unmatched("telegram", f"question {n}", "u")
    assert await store.unmatched_total() == 5
    texts = {q.text for q in await store.top_unmatched(10)}
    assert texts == {f"question {n}" for n in range(3, 8)}


async def test_unmatched_older_than_the_age_limit_are_dropped(store: BaseStore) -> None:
    old = datetime.now(UTC) - timedelta(days=91)
    await store.record_unmatched("telegram", "ancient question", "u", old)
    await store.record_unmatched("telegram", "fresh question", "u")
    assert [q.text for q in await store.top_unmatched(10)] == ["fresh question"]


async def test_an_unknown_chat_has_default_settings(store: BaseStore) -> None:
    assert await store.chat_settings(CHAT) == ChatSettings()
    assert await store.daily_chats("telegram") == []


async def test_daily_settings_round_trip(store: BaseStore) -> None:
    since = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    settings = await store.set_daily(CHAT, True, time(8, 30), "Asia/Seoul", since=since)
    assert (settings.daily, settings.daily_time, settings.tz) == (True, time(8, 30), "Asia/Seoul")
    assert settings.last_daily == since
    assert await store.chat_settings(CHAT) == settings
    assert [c for c, _ in await store.daily_chats("telegram")] == ["-100"]
    assert await store.daily_chats("discord") == []
    # Turning it off keeps the chosen hour and zone for next time.
    off = await store.set_daily(CHAT, False)
    assert (off.daily, off.daily_time, off.tz) == (False, time(8, 30), "Asia/Seoul")
    assert await store.daily_chats("telegram") == []


async def test_the_last_daily_send_is_stored(store: BaseStore) -> None:
    await store.set_daily(CHAT, True)
    when = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
    await store.mark_daily_sent(CHAT, when)
    assert (await store.chat_settings(CHAT)).last_daily == when
    [(_, listed)] = await store.daily_chats("telegram")
    assert listed.last_daily == when


async def test_topics_can_be_turned_off_and_on_per_chat(store: BaseStore) -> None:
    await store.set_topic_enabled(CHAT, "hallyu", False)
    await store.set_topic_enabled(CHAT, "trade", False)
    assert (await store.chat_settings(CHAT)).disabled == {"hallyu", "trade"}
    assert (await store.chat_settings(OTHER)).disabled == frozenset()
    settings = await store.set_topic_enabled(CHAT, "hallyu", True)
    assert settings.disabled == {"trade"}


async def test_cooldown_override_per_chat(store: BaseStore) -> None:
    settings = await store.set_cooldown(CHAT, 2, 10)
    assert (settings.user_per_minute, settings.chat_per_minute) == (2, 10)
    cleared = await store.set_cooldown(CHAT, None, None)
    assert (cleared.user_per_minute, cleared.chat_per_minute) == (None, None)


async def test_each_store_has_a_stable_salt(store: BaseStore) -> None:
    salt = await store.user_salt()
    assert len(salt) >= 16
    assert await store.user_salt() == salt


def test_question_key_ignores_case_spacing_and_punctuation() -> None:
    assert question_key("  Café,  K-POP?? ") == question_key("café k pop")
    assert question_key("한국 드라마?") == "한국 드라마"


async def test_the_memory_store_drops_a_chat_whose_settings_are_back_to_the_defaults() -> None:
    store = MemoryStore()
    await store.set_topic_enabled(CHAT, "trade", False)
    await store.set_cooldown(OTHER, 3, None)
    assert len(store.chats) == 2
    await store.set_topic_enabled(CHAT, "trade", True)
    await store.set_cooldown(OTHER, None, None)
    assert store.chats == {}
    assert await store.chat_settings(CHAT) == ChatSettings()


# --- the chat lifecycle: the bot leaves, a group moves to a new id, old chats are forgotten ---

NEW = ChatKey("telegram", "-1009999")
LEFT_AT = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


async def test_leaving_a_chat_stops_its_daily_fact_and_records_when(store: BaseStore) -> None:
    await store.set_daily(CHAT, True, time(7, 0), "Asia/Seoul")
    await store.set_topic_enabled(CHAT, "trade", False)
    left = await store.set_left(CHAT, LEFT_AT)
    assert (left.daily, left.left_at) == (False, LEFT_AT)
    assert await store.daily_chats("telegram") == []
    # Added back: the mark goes, the settings stay, the daily fact waits for an admin.
    back = await store.set_left(CHAT, None)
    assert back == ChatSettings(daily_time=time(7, 0), tz="Asia/Seoul",
                                disabled=frozenset({"trade"}))
    assert await store.chat_settings(CHAT) == back


async def test_a_chat_with_no_settings_can_be_marked_left(store: BaseStore) -> None:
    assert (await store.set_left(CHAT, LEFT_AT)).left_at == LEFT_AT
    assert (await store.chat_settings(CHAT)).left_at == LEFT_AT
    assert await store.set_left(OTHER, None) == ChatSettings()  # never left: nothing to clear


async def test_a_moved_chat_keeps_settings_subscription_and_rotation_under_the_new_id(
        store: BaseStore) -> None:
    since = datetime(2026, 1, 2, 9, 0, tzinfo=UTC)
    await store.set_daily(CHAT, True, time(8, 30), "Asia/Kuala_Lumpur", since=since)
    await store.set_topic_enabled(CHAT, "trade", False)
    await store.set_cooldown(CHAT, 2, 10)
    assert [await store.next_rotation(CHAT, "hallyu", 5) for _ in range(2)] == [0, 1]
    before = await store.chat_settings(CHAT)
    await store.migrate_chat(CHAT, NEW)
    assert await store.chat_settings(NEW) == before
    assert await store.chat_settings(CHAT) == ChatSettings()
    assert [c for c, _ in await store.daily_chats("telegram")] == [NEW.chat_id]
    assert await store.next_rotation(NEW, "hallyu", 5) == 2
    assert await store.next_rotation(CHAT, "hallyu", 5) == 0  # the old id starts afresh


async def test_a_move_seen_twice_changes_nothing_the_second_time(store: BaseStore) -> None:
    await store.set_daily(CHAT, True)
    await store.next_rotation(CHAT, "hallyu", 5)
    await store.migrate_chat(CHAT, NEW)
    moved = await store.chat_settings(NEW)
    await store.migrate_chat(CHAT, NEW)  # the service message in the new supergroup, later
    await store.migrate_chat(NEW, NEW)
    assert await store.chat_settings(NEW) == moved
    assert await store.next_rotation(NEW, "hallyu", 5) == 1


async def test_the_old_chats_settings_win_over_what_the_new_id_gathered(
        store: BaseStore) -> None:
    await store.set_daily(CHAT, True, time(6, 0))
    await store.set_topic_enabled(CHAT, "trade", False)
    await store.next_rotation(CHAT, "hallyu", 5)
    # The supergroup answered before the move was seen, and the bot had been removed there.
    await store.set_left(NEW, LEFT_AT)
    await store.set_topic_enabled(NEW, "hallyu", False)
    for _ in range(3):
        await store.next_rotation(NEW, "hallyu", 5)
    await store.next_rotation(NEW, "any", 5)
    await store.migrate_chat(CHAT, NEW)
    settings = await store.chat_settings(NEW)
    assert (settings.daily, settings.daily_time, settings.disabled) == (
        True, time(6, 0), {"trade"})
    assert settings.left_at == LEFT_AT  # whether the bot is there is the new id's own
    assert await store.next_rotation(NEW, "hallyu", 5) == 1  # the old chat's position
    assert await store.next_rotation(NEW, "any", 5) == 1  # a topic it never had: kept


async def test_topics_turned_off_alone_replace_the_new_ids_settings_whole(
        store: BaseStore) -> None:
    await store.set_topic_enabled(CHAT, "trade", False)
    await store.set_cooldown(NEW, 3, None)
    await store.migrate_chat(CHAT, NEW)
    assert await store.chat_settings(NEW) == ChatSettings(disabled=frozenset({"trade"}))


async def test_moving_a_chat_to_another_platform_is_refused(store: BaseStore) -> None:
    with pytest.raises(ValueError, match="cannot move chat"):
        await store.migrate_chat(CHAT, OTHER)


async def test_only_chats_left_before_the_cutoff_on_that_platform_are_forgotten(
        store: BaseStore) -> None:
    long_ago, lately = CHAT, ChatKey("telegram", "-200")
    staying, elsewhere = ChatKey("telegram", "-300"), ChatKey("discord", "-100")
    for chat in (long_ago, lately, staying, elsewhere):
        await store.set_topic_enabled(chat, "trade", False)
        await store.next_rotation(chat, "hallyu", 5)
    cutoff = LEFT_AT
    await store.set_left(long_ago, cutoff - timedelta(seconds=1))
    await store.set_left(lately, cutoff)
    await store.set_left(elsewhere, cutoff - timedelta(days=365))
    assert await store.forget_left_chats("telegram", cutoff) == 1
    assert await store.chat_settings(long_ago) == ChatSettings()
    assert await store.next_rotation(long_ago, "hallyu", 5) == 0  # its rotation is gone too
    for kept in (lately, staying, elsewhere):
        assert (await store.chat_settings(kept)).disabled == {"trade"}
        assert await store.next_rotation(kept, "hallyu", 5) == 1
    assert await store.forget_left_chats("telegram", cutoff) == 0
