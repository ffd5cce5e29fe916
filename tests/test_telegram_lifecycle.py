"""The Telegram chat lifecycle, end to end: blocked and removed, upgraded to a supergroup,
forgotten 90 days after the bot left.

python-telegram-bot's real Application talks to the fake Bot API on 127.0.0.1, which answers
with Telegram's own error payloads and pushes Telegram's own updates; every assertion is on
what Telegram received, on the store, or on the log.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from factbot.adapters.telegram import TelegramAdapter
from factbot.app import build_bot
from factbot.core import FactBot
from factbot.features.daily import SendThrottle
from factbot.packs import FactPack
from factbot.settings import Settings
from factbot.storage import ChatKey
from factbot.storage.base import ChatSettings
from factbot.storage.sqlite import SqliteStore
from tests.fakes.telegram_api import BLOCKED, KICKED, NOT_MEMBER, FakeBotAPI
from tests.test_telegram import FLUSH_CHAT, TOKEN, _answered, _quotes, _settled, _texts, started

PRIVATE = 601
GROUP = -2001
OLD_GROUP = -4001  # a basic group, before its upgrade
SUPERGROUP = -1004001  # the same group after it
STAYING = -3001  # a subscribed chat that keeps the bot: a send that must go out
DAY0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)  # /daily on, before the 09:00 slot


def day(n: int) -> datetime:
    """Day ``n``'s daily round, an hour after the 09:00 UTC slot."""
    return datetime(2026, 3, 1 + n, 10, 0, tzinfo=UTC)


@pytest.fixture
async def api() -> AsyncIterator[FakeBotAPI]:
    async with FakeBotAPI(TOKEN) as fake:
        yield fake


@pytest.fixture(params=["memory", "sqlite"])
async def bot(request: pytest.FixtureRequest, packs: tuple[FactPack, ...],
              tmp_path: Path) -> AsyncIterator[FactBot]:
    """The bot from build_bot, on the in-memory store and on SQLite in a real file."""
    if request.param == "memory":
        yield build_bot(Settings(), packs=packs, cooldown=False)
        return
    async with SqliteStore(tmp_path / "state.db") as store:
        yield build_bot(Settings(), store, packs=packs, cooldown=False)


@pytest.fixture
async def running(api: FakeBotAPI, bot: FactBot) -> AsyncIterator[TelegramAdapter]:
    async with started(bot, api) as adapter:
        yield adapter


def key(chat_id: int) -> ChatKey:
    return ChatKey("telegram", str(chat_id))


async def subscribe(bot: FactBot, *chat_ids: int) -> None:
    for chat_id in chat_ids:
        await bot.store.set_daily(key(chat_id), True, time(9, 0), "UTC", since=DAY0)


async def settings(bot: FactBot, chat_id: int) -> ChatSettings:
    return await bot.store.chat_settings(key(chat_id))


async def subscribed(bot: FactBot) -> list[str]:
    return [chat_id for chat_id, _ in await bot.store.daily_chats("telegram")]


async def flush(api: FakeBotAPI, adapter: TelegramAdapter) -> None:
    """Send a message that is answered and wait for its answer and for every update before
    it to be handled; then assert on what was and was not done."""
    answered = len(_texts(api, FLUSH_CHAT))
    await api.push(api.message("/help", chat_id=FLUSH_CHAT, user_id=FLUSH_CHAT))
    await _answered(api, FLUSH_CHAT, answered + 1)
    await _settled(adapter)


def tracebacks(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]


def about(caplog: pytest.LogCaptureFixture, chat_id: int) -> list[str]:
    return [r.getMessage() for r in caplog.records if str(chat_id) in r.getMessage()]


# --- the fake speaks Telegram ------------------------------------------------------------


async def test_the_fake_answers_a_refused_chat_with_telegrams_exact_payloads(
        api: FakeBotAPI) -> None:
    api.block(PRIVATE)
    api.upgrade_group(OLD_GROUP, SUPERGROUP)
    url = f"{api.base_url}{api.token}/sendMessage"
    async with aiohttp.ClientSession() as session:
        async with session.post(url, json={"chat_id": PRIVATE, "text": "hi"}) as blocked:
            assert blocked.status == 403
            assert await blocked.json() == {
                "ok": False, "error_code": 403,
                "description": "Forbidden: bot was blocked by the user"}
        async with session.post(url, json={"chat_id": OLD_GROUP, "text": "hi"}) as moved:
            assert moved.status == 400
            assert await moved.json() == {
                "ok": False, "error_code": 400,
                "description": "Bad Request: group chat was upgraded to a supergroup chat",
                "parameters": {"migrate_to_chat_id": SUPERGROUP}}
        async with session.post(url, json={"chat_id": STAYING, "text": "hi"}) as other:
            assert other.status == 200


# --- blocked, kicked, removed ------------------------------------------------------------


@pytest.mark.parametrize(("chat_id", "description"), [
    (PRIVATE, BLOCKED), (GROUP, KICKED), (GROUP, NOT_MEMBER)], ids=["blocked", "kicked",
                                                                     "not-a-member"])
async def test_a_chat_that_refuses_the_daily_fact_is_unsubscribed_in_one_log_line(
        api: FakeBotAPI, running: TelegramAdapter, bot: FactBot,
        caplog: pytest.LogCaptureFixture, chat_id: int, description: str) -> None:
    caplog.set_level(logging.INFO, logger="factbot")
    await subscribe(bot, chat_id, STAYING)
    api.block(chat_id, description)
    assert await bot.daily.send_due(running, day(1), SendThrottle()) == 1
    assert sorted(p["chat_id"] for p in api.sent()) == sorted([chat_id, STAYING])
    gone = await settings(bot, chat_id)
    assert not gone.daily
    assert gone.left_at is not None
    assert await subscribed(bot) == [str(STAYING)]
    [line] = about(caplog, chat_id)
    assert description in line
    assert tracebacks(caplog) == []
    # The next days: the chat that stayed gets its fact, the one that left never again.
    for n in (2, 3):
        assert await bot.daily.send_due(running, day(n), SendThrottle()) == 1
    assert len(_texts(api, STAYING)) == 3
    assert len(_texts(api, chat_id)) == 1
    assert len(about(caplog, chat_id)) == 1


async def test_a_refused_reply_is_one_log_line_with_no_apology(
        api: FakeBotAPI, running: TelegramAdapter, bot: FactBot,
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="factbot")
    await subscribe(bot, GROUP)
    api.block(GROUP, KICKED)
    await api.push(api.message("/hallyu", chat_id=GROUP, chat_type="supergroup"))
    await flush(api, running)  # answered after it: the reply to /hallyu was handled
    assert len(_texts(api, GROUP)) == 1  # the reply that was refused; no apology after it
    assert not (await settings(bot, GROUP)).daily
    assert len(about(caplog, GROUP)) == 1
    assert tracebacks(caplog) == []


async def test_kicked_or_removed_by_my_chat_member_unsubscribes_and_back_clears_the_mark(
        api: FakeBotAPI, running: TelegramAdapter, bot: FactBot,
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="factbot")
    await subscribe(bot, PRIVATE, GROUP, STAYING)
    await bot.store.set_topic_enabled(key(GROUP), "trade", False)
    when = int(datetime(2026, 3, 1, 9, 30, tzinfo=UTC).timestamp())
    await api.push(api.my_chat_member(PRIVATE, "kicked", chat_type="private", date=when))
    await api.push(api.my_chat_member(GROUP, "left", old_status="administrator", date=when))
    await flush(api, running)
    for chat_id in (PRIVATE, GROUP):
        gone = await settings(bot, chat_id)
        assert (gone.daily, gone.left_at) == (False, datetime.fromtimestamp(when, UTC))
    assert await subscribed(bot) == [str(STAYING)]
    assert len(about(caplog, PRIVATE)) == len(about(caplog, GROUP)) == 1
    # The daily round skips them without trying.
    assert await bot.daily.send_due(running, day(1), SendThrottle()) == 1
    assert [p["chat_id"] for p in api.succeeded()] == [FLUSH_CHAT, STAYING]
    # Added back: the mark goes, the settings stay, and the daily fact waits for an admin.
    await api.push(api.my_chat_member(PRIVATE, "member", old_status="kicked",
                                      chat_type="private"))
    await api.push(api.my_chat_member(GROUP, "administrator", old_status="left"))
    await flush(api, running)
    back = await settings(bot, GROUP)
    assert (back.left_at, back.daily, back.disabled) == (None, False, {"trade"})
    assert (await settings(bot, PRIVATE)).left_at is None
    assert tracebacks(caplog) == []


async def test_a_message_from_a_chat_marked_left_clears_the_mark(
        api: FakeBotAPI, running: TelegramAdapter, bot: FactBot) -> None:
    """The my_chat_member that said the bot was back was missed (the bot was down a day)."""
    await bot.store.set_left(key(PRIVATE), DAY0)
    await api.push(api.message("/hallyu", chat_id=PRIVATE, user_id=PRIVATE))
    await api.wait_for(lambda: bool(_texts(api, PRIVATE)))
    assert (await settings(bot, PRIVATE)).left_at is None


# --- a group upgraded to a supergroup -------------------------------------------------------


async def test_a_group_upgraded_to_a_supergroup_keeps_its_settings_and_rotation(
        api: FakeBotAPI, running: TelegramAdapter, bot: FactBot,
        packs: tuple[FactPack, ...]) -> None:
    quotes = _quotes(packs, "hallyu")
    assert len(quotes) >= 3
    await bot.store.set_daily(key(OLD_GROUP), True, time(7, 30), "Asia/Kuala_Lumpur",
                              since=DAY0)
    await bot.store.set_topic_enabled(key(OLD_GROUP), "trade", False)
    for n in range(2):
        await api.push(api.message("/hallyu", chat_id=OLD_GROUP, chat_type="group"))
        await _answered(api, OLD_GROUP, n + 1)
    before = await settings(bot, OLD_GROUP)
    for update in api.migrate_updates(OLD_GROUP, SUPERGROUP):
        await api.push(update)
    await flush(api, running)
    assert await settings(bot, SUPERGROUP) == before
    assert await settings(bot, OLD_GROUP) == ChatSettings()
    assert await subscribed(bot) == [str(SUPERGROUP)]
    # The topic goes on where the group left it: the third fact, not the first again.
    await api.push(api.message("/hallyu", chat_id=SUPERGROUP, chat_type="supergroup"))
    await api.wait_for(lambda: bool(_texts(api, SUPERGROUP)))
    texts = _texts(api, OLD_GROUP) + _texts(api, SUPERGROUP)
    assert [quotes.index(next(q for q in quotes if html.escape(q) in t)) for t in texts] == [
        0, 1, 2]
    # And the daily fact goes to the new id.
    assert await bot.daily.send_due(running, day(1), SendThrottle()) == 1
    assert api.sent()[-1]["chat_id"] == SUPERGROUP
    assert len(_texts(api, OLD_GROUP)) == 2


async def test_a_daily_send_to_an_upgraded_group_moves_it_and_goes_to_the_new_id(
        api: FakeBotAPI, running: TelegramAdapter, bot: FactBot,
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="factbot")
    await subscribe(bot, OLD_GROUP)
    await bot.store.set_topic_enabled(key(OLD_GROUP), "trade", False)
    assert await bot.daily.send_due(running, day(1), SendThrottle()) == 1
    api.upgrade_group(OLD_GROUP, SUPERGROUP)
    assert await bot.daily.send_due(running, day(2), SendThrottle()) == 1
    sent = [(p["chat_id"], status) for p, status in _sends(api)]
    assert sent == [(OLD_GROUP, 200), (OLD_GROUP, 400), (SUPERGROUP, 200)]
    assert await subscribed(bot) == [str(SUPERGROUP)]
    assert (await settings(bot, SUPERGROUP)).disabled == {"trade"}
    # The next day it goes straight to the new id, and the facts went on in turn.
    assert await bot.daily.send_due(running, day(3), SendThrottle()) == 1
    assert [p["chat_id"] for p, _ in _sends(api)][3:] == [SUPERGROUP]
    day1, _, day2, day3 = [p["text"] for p, _ in _sends(api)]
    assert len({day1, day2, day3}) == 3
    assert tracebacks(caplog) == []


def _sends(api: FakeBotAPI) -> list[tuple[dict[str, Any], int]]:
    return [(c.params, c.status) for c in api.calls if c.method == "sendMessage"]


# --- forgetting chats the bot left long ago ------------------------------------------------


class Clock:
    """The daily loop's clock: set by the test, counting its reads (one a round)."""

    def __init__(self, at: datetime) -> None:
        self.at = at
        self.reads = 0

    def __call__(self) -> datetime:
        self.reads += 1
        return self.at

    async def rounds(self, n: int = 3) -> None:
        target = self.reads + n
        while self.reads < target:
            await asyncio.sleep(0)


async def test_the_daily_loop_forgets_only_chats_left_more_than_90_days_ago_once_a_day(
        api: FakeBotAPI, running: TelegramAdapter, bot: FactBot,
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="factbot")
    now = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
    long_ago, lately, staying, later = (key(c) for c in (-5001, -5002, -5003, -5004))
    elsewhere = ChatKey("discord", "-5001")
    for chat in (long_ago, lately, staying, later, elsewhere):
        await bot.store.set_topic_enabled(chat, "trade", False)
        await bot.store.next_rotation(chat, "hallyu", 5)
    await bot.store.set_left(long_ago, now - timedelta(days=91))
    await bot.store.set_left(lately, now - timedelta(days=88))
    await bot.store.set_left(elsewhere, now - timedelta(days=400))
    clock = Clock(now)
    loop = asyncio.create_task(bot.daily.loop(running, now=clock, tick=0))
    try:
        await clock.rounds(3)
        assert await bot.store.chat_settings(long_ago) == ChatSettings()
        assert await bot.store.next_rotation(long_ago, "hallyu", 5) == 0  # rotation gone too
        for kept in (lately, staying, later, elsewhere):
            assert (await bot.store.chat_settings(kept)).disabled == {"trade"}
        # Left long ago too, but the day's cleanup has run: it waits for tomorrow's.
        await bot.store.set_left(later, now - timedelta(days=100))
        await clock.rounds(3)
        assert (await bot.store.chat_settings(later)).disabled == {"trade"}
        clock.at = now + timedelta(days=1, seconds=1)
        await clock.rounds(3)
        assert await bot.store.chat_settings(later) == ChatSettings()
        assert (await bot.store.chat_settings(lately)).disabled == {"trade"}  # 89 days now
        clock.at = now + timedelta(days=2, seconds=2)
        await clock.rounds(3)
        assert await bot.store.chat_settings(lately) == ChatSettings()
        assert (await bot.store.chat_settings(staying)).disabled == {"trade"}
        assert (await bot.store.chat_settings(elsewhere)).disabled == {"trade"}  # not Telegram's
    finally:
        loop.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await loop
    assert len([r for r in caplog.records if "more than 90 days ago" in r.getMessage()]) == 3
    assert tracebacks(caplog) == []
