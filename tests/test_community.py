"""/daily, /stats, /topics on|off, the cooldown and the daily scheduler, through FactBot."""

from __future__ import annotations

import asyncio
import io
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest

from factbot.adapters.console import ConsoleAdapter
from factbot.core import NOT_ADMIN, FactBot
from factbot.features.cooldown import CooldownLimiter, Verdict
from factbot.features.daily import (
    DailyRequest,
    SendThrottle,
    parse_daily,
)
from factbot.i18n import ENGLISH_STRINGS
from factbot.messages import IncomingMessage, Reply, ReplyKind
from factbot.packs import FactPack
from factbot.settings import CooldownSettings, Settings
from factbot.storage import ChatKey, MemoryStore
from factbot.storage.base import ChatSettings, Shards, due_at, is_due
from factbot.storage.sqlite import SqliteStore
from tests.harness import Harness

GROUP = "-100"
ADMIN = "admin"  # the group's admin, in every harness of this module


class Clock:
    """A settable clock that counts how often it was read (one read per scheduler round)."""

    def __init__(self, at: datetime) -> None:
        self.at = at
        self.reads = 0

    def __call__(self) -> datetime:
        self.reads += 1
        return self.at

    async def rounds(self, n: int = 3) -> None:
        target = self.reads + n

        async def spin() -> None:
            while self.reads < target:
                await asyncio.sleep(0)

        await asyncio.wait_for(spin(), timeout=30)


def harness(packs: tuple[FactPack, ...], store: MemoryStore | SqliteStore | None = None, *,
            settings: Settings | None = None, platform: str = "telegram") -> Harness:
    """A bot from build_bot with ADMIN as the admin of every chat; no cooldown unless
    ``settings`` are given."""
    return Harness(settings, store, packs=packs, cooldown=settings is not None,
                   platform=platform, admins={ADMIN})


async def in_group(h: Harness, text: str, user: str = ADMIN, chat: str = GROUP) -> Reply:
    """The answer to ``text`` said in a group chat, addressed to the bot."""
    return await h.ask(text, chat=chat, user=user, group=True)


async def in_private(h: Harness, text: str, user: str = "someone") -> Reply:
    """The answer to ``text`` in ``user``'s private chat with the bot."""
    return await h.ask(text, chat=user, user=user)


def group(text: str, user: str = ADMIN, chat: str = GROUP) -> IncomingMessage:
    """A group message as a Telegram adapter would hand it over (for the limiter alone)."""
    return IncomingMessage(text=text, platform="telegram", chat_id=chat, user_id=user,
                           is_group=True, addressed=True)


# --- /daily ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("args", "expected"), [
    ("", DailyRequest(None)),
    ("off", DailyRequest(False)),
    ("OFF", DailyRequest(False)),
    ("on", DailyRequest(True)),
    ("on 8:05", DailyRequest(True, time(8, 5))),
    ("on 23:59 asia/kuala_lumpur", DailyRequest(True, time(23, 59), "Asia/Kuala_Lumpur")),
    ("on Asia/Seoul 07:00", DailyRequest(True, time(7, 0), "Asia/Seoul")),
    ("on UTC", DailyRequest(True, None, "UTC")),
    ("on 7", DailyRequest(True, time(7, 0))),
])
def test_daily_arguments_parse(args: str, expected: DailyRequest) -> None:
    assert parse_daily(args) == expected


@pytest.mark.parametrize("args", [
    "on 25:99 Mars/Olympus", "on 24:00", "on 12:60", "on Mars/Olympus", "off 08:00",
    "on 08:00 UTC extra", "sometimes", "on 08:00 08:30", "on ../../etc/passwd",
    "on " + "A" * 200, "on 8:5", "on -1:00",
])
def test_malformed_daily_arguments_are_refused(args: str) -> None:
    assert parse_daily(args) is None


async def test_malformed_daily_gets_usage_and_stores_nothing(packs: tuple[FactPack, ...]
                                                             ) -> None:
    store = MemoryStore()
    h = harness(packs, store)
    reply = await in_group(h, "/daily on 25:99 Mars/Olympus")
    assert reply.kind is ReplyKind.INFO
    assert reply.text == ENGLISH_STRINGS("daily.usage")
    assert store.chats == {}


async def test_an_admin_turns_the_daily_fact_on_and_off(packs: tuple[FactPack, ...]) -> None:
    h = harness(packs)
    reply = await in_group(h, "/daily on 08:30 asia/seoul")
    assert reply.text.startswith("Daily fact: on, every day at 08:30 (Asia/Seoul)")
    settings = await h.store.chat_settings(ChatKey("telegram", GROUP))
    assert (settings.daily, settings.daily_time, settings.tz) == (True, time(8, 30),
                                                                  "Asia/Seoul")
    # Turned on now: the first post waits for the next 08:30, not straight away.
    assert settings.last_daily is not None
    status = await in_group(h, "/daily", user="anyone")
    assert "08:30 (Asia/Seoul)" in status.text
    off = await in_group(h, "/daily off")
    assert off.text.startswith("The daily fact is off")
    assert await h.store.daily_chats("telegram") == []


async def test_only_group_admins_may_change_the_daily_fact(packs: tuple[FactPack, ...]) -> None:
    store = MemoryStore()
    h = harness(packs, store)
    reply = await in_group(h, "/daily on", user="member")
    assert reply.text == NOT_ADMIN
    # No platform to ask: nobody in a group counts as an admin.
    unasked = await h.bot.handle(h.message("/daily on", chat=GROUP, user=ADMIN, group=True))
    assert unasked is not None and unasked.text == NOT_ADMIN
    assert store.chats == {}
    # In a private chat, the person is in charge of it (with no platform to ask, too).
    mine = await h.bot.handle(h.message("/daily on 06:00", chat="someone", user="someone"))
    assert mine is not None and mine.text.startswith("Daily fact: on")


async def test_daily_works_in_the_console_with_the_reply_printed(packs: tuple[FactPack, ...],
                                                                 tmp_path: Path) -> None:
    out = io.StringIO()
    async with SqliteStore(tmp_path / "state.db") as store:
        bot = FactBot(packs, store)
        console = ConsoleAdapter(bot, stdin=io.StringIO("/daily on 07:00 UTC\n/daily\n"),
                                 stdout=out)
        await console.run()
        settings = await store.chat_settings(ChatKey("console", "console"))
    assert "Daily fact: on, every day at 07:00 (UTC)" in out.getvalue()
    assert settings.daily


# --- /stats, /topics on|off --------------------------------------------------------------


async def test_stats_shows_top_topics_and_unanswered_count(packs: tuple[FactPack, ...]) -> None:
    h = harness(packs)
    first = packs[0].topics[0].command
    for _ in range(3):
        await in_group(h, f"/{first}")
    await in_group(h, "what is the weather on Mars?")
    stats = await in_group(h, "/stats")
    assert stats.kind is ReplyKind.INFO
    assert f"/{first} — 3" in stats.text
    assert "Unanswered questions kept: 1" in stats.text
    refused = await in_group(h, "/stats", user="member")
    assert refused.text == NOT_ADMIN


async def test_a_topic_turned_off_is_not_answered_in_that_chat(packs: tuple[FactPack, ...]
                                                               ) -> None:
    h = harness(packs)
    topic = packs[0].topics[0].command
    assert (await in_group(h, f"/topics off {topic}", user="member")).text == NOT_ADMIN
    done = await in_group(h, f"/topics off {topic}")
    assert done.text == f"/{topic} is off in this chat."
    assert (await in_group(h, f"/{topic}")).kind is ReplyKind.FALLBACK
    listing = await in_group(h, "/topics")
    assert topic not in [c for c, _ in listing.items]
    # Other chats are not affected.
    elsewhere = await in_group(h, f"/{topic}", chat="-200")
    assert elsewhere.kind is ReplyKind.FACT
    await in_group(h, f"/topics on {topic}")
    assert (await in_group(h, f"/{topic}")).kind is ReplyKind.FACT


async def test_unmatched_questions_keep_a_salted_hash_never_the_user_id(
        packs: tuple[FactPack, ...]) -> None:
    store = MemoryStore()
    h = harness(packs, store)
    for user in ("123456789", "123456789", "987654321"):
        await in_private(h, "what is the weather on Mars?", user=user)
    hashes = [digest for _, _, digest, _ in store.unmatched]
    assert hashes[0] == hashes[1] != hashes[2]
    assert not any("123456789" in d or "987654321" in d for d in hashes)
    other = MemoryStore()
    await in_private(harness(packs, other), "what is the weather on Mars?", user="123456789")
    assert other.unmatched[0][2] != hashes[0]  # each install has its own salt


# --- cooldown -------------------------------------------------------------------------------


def limited(packs: tuple[FactPack, ...], user: int, chat: int,
            store: MemoryStore | None = None) -> tuple[Harness, list[float]]:
    """A harness whose cooldown allows ``user`` and ``chat`` answers a minute, on a clock
    the test moves."""
    now = [1000.0]
    h = harness(packs, store, settings=Settings(cooldown=CooldownSettings(True, user, chat)))
    assert h.bot.limiter is not None
    h.bot.limiter.clock = lambda: now[0]
    return h, now


async def test_a_flooding_user_gets_one_slow_down_then_silence(packs: tuple[FactPack, ...]
                                                               ) -> None:
    h, now = limited(packs, user=3, chat=100)
    kinds = []
    for _ in range(6):
        reply = await h.push("/topics", chat=GROUP, user="flood", group=True)
        kinds.append(reply.kind if reply else None)
    assert kinds == [ReplyKind.TOPICS] * 3 + [ReplyKind.SLOW_DOWN, None, None]
    # Someone else in the same chat is still answered.
    assert (await in_group(h, "/topics", user="calm")).kind is ReplyKind.TOPICS
    now[0] += 61
    assert (await in_group(h, "/topics", user="flood")).kind is ReplyKind.TOPICS


async def test_a_busy_chat_is_limited_as_a_whole(packs: tuple[FactPack, ...]) -> None:
    h, _ = limited(packs, user=100, chat=4)
    replies = [await h.push("/topics", chat=GROUP, user=f"u{n}", group=True) for n in range(7)]
    kinds = [r.kind if r else None for r in replies]
    assert kinds == [ReplyKind.TOPICS] * 4 + [ReplyKind.SLOW_DOWN, None, None]
    other = await in_group(h, "/topics", user="u0", chat="-200")
    assert other.kind is ReplyKind.TOPICS


async def test_a_chat_can_have_its_own_cooldown(packs: tuple[FactPack, ...]) -> None:
    store = MemoryStore()
    await store.set_cooldown(ChatKey("telegram", GROUP), 1, None)
    h, _ = limited(packs, user=10, chat=100, store=store)
    assert (await in_group(h, "/topics")).kind is ReplyKind.TOPICS
    assert (await in_group(h, "/topics")).kind is ReplyKind.SLOW_DOWN


async def test_chatter_not_meant_for_the_bot_does_not_count(packs: tuple[FactPack, ...]) -> None:
    h, _ = limited(packs, user=2, chat=100)
    for _ in range(5):
        assert await h.push("lol", chat=GROUP, user=ADMIN, group=True, addressed=False) is None
    assert (await in_group(h, "/topics")).kind is ReplyKind.TOPICS


async def test_private_chats_are_not_limited(packs: tuple[FactPack, ...]) -> None:
    h, _ = limited(packs, user=1, chat=1)
    for _ in range(5):
        assert (await in_private(h, "/topics")).kind is ReplyKind.TOPICS


async def test_cooldown_can_be_turned_off(packs: tuple[FactPack, ...]) -> None:
    h = harness(packs, settings=Settings(cooldown=CooldownSettings(enabled=False,
                                                                   user_per_minute=1)))
    assert isinstance(h.bot.limiter, CooldownLimiter)  # a limiter, switched off
    for _ in range(5):
        assert (await in_group(h, "/topics")).kind is ReplyKind.TOPICS


def test_the_limiter_keeps_a_bounded_number_of_windows_and_the_flooder_in_them() -> None:
    now = [0.0]
    limiter = CooldownLimiter(CooldownSettings(True, 2, 0), clock=lambda: now[0], size=10)
    flood = group("hi", user="flood", chat="busy")
    assert [limiter.check(flood) for _ in range(3)] == [
        Verdict.ANSWER, Verdict.ANSWER, Verdict.SLOW_DOWN]
    for n in range(3000):  # within one minute: many others speak, the flood goes on
        now[0] = n * 0.01
        assert limiter.check(group("hi", user=f"u{n}", chat=f"c{n}")) is Verdict.ANSWER
        assert limiter.check(flood) is Verdict.QUIET
        assert len(limiter._windows) <= 10


# --- the daily scheduler ----------------------------------------------------------------


def test_due_at_is_the_latest_slot_in_the_chat_time_zone() -> None:
    seoul = ChatSettings(daily=True, daily_time=time(8, 30), tz="Asia/Seoul")
    # 08:30 in Seoul is 23:30 UTC the day before.
    assert due_at(seoul, datetime(2026, 3, 2, 0, 0, tzinfo=UTC)) == datetime(
        2026, 3, 1, 23, 30, tzinfo=UTC)
    assert due_at(seoul, datetime(2026, 3, 1, 23, 29, tzinfo=UTC)) == datetime(
        2026, 2, 28, 23, 30, tzinfo=UTC)
    sent = ChatSettings(daily=True, daily_time=time(8, 30), tz="Asia/Seoul",
                        last_daily=datetime(2026, 3, 1, 23, 31, tzinfo=UTC))
    assert not is_due(sent, datetime(2026, 3, 2, 10, 0, tzinfo=UTC))
    assert is_due(sent, datetime(2026, 3, 2, 23, 30, tzinfo=UTC))


def test_due_at_follows_daylight_saving() -> None:
    london = ChatSettings(daily=True, daily_time=time(9, 0), tz="Europe/London")
    assert due_at(london, datetime(2026, 1, 15, 12, tzinfo=UTC)).hour == 9
    assert due_at(london, datetime(2026, 7, 15, 12, tzinfo=UTC)).hour == 8


async def test_the_daily_fact_goes_out_once_a_day_even_across_a_restart(
        packs: tuple[FactPack, ...], tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    async with SqliteStore(path) as store:
        h = harness(packs, store)
        await in_group(h, "/daily on 08:30 Asia/Seoul")
        settings = await store.chat_settings(ChatKey("telegram", GROUP))
        assert settings.last_daily is not None
        slot = due_at(settings, settings.last_daily + timedelta(days=1))
        clock = Clock(slot - timedelta(minutes=1))
        loop = asyncio.create_task(h.bot.daily.loop(h, now=clock, tick=0))
        await clock.rounds()  # rounds done, not time passed: none of them was due
        assert h.sent == []
        clock.at = slot + timedelta(seconds=5)
        await clock.rounds()
        clock.at = slot + timedelta(minutes=30)
        await clock.rounds()
        loop.cancel()
        with pytest.raises(asyncio.CancelledError):
            await loop
    assert len(h.sent) == 1
    chat_id, first = h.sent[0]
    assert chat_id == GROUP
    assert first.kind is ReplyKind.FACT and first.text.startswith("Fact of the day:")

    async with SqliteStore(path) as store:  # the bot restarts the same day
        restarted = harness(packs, store)
        clock = Clock(slot + timedelta(hours=2))
        loop = asyncio.create_task(restarted.bot.daily.loop(restarted, now=clock, tick=0))
        await clock.rounds()
        assert restarted.sent == []
        clock.at = slot + timedelta(days=1, seconds=1)
        await clock.rounds()
        loop.cancel()
        with pytest.raises(asyncio.CancelledError):
            await loop
    [(_, second)] = restarted.sent
    assert second.quote != first.quote


async def test_the_daily_fact_only_goes_to_its_own_platform(packs: tuple[FactPack, ...]) -> None:
    store = MemoryStore()
    await store.set_daily(ChatKey("discord", "55"), True, time(0, 0), "UTC")
    await store.set_daily(ChatKey("telegram", GROUP), True, time(0, 0), "UTC")
    telegram = harness(packs, store, platform="telegram")
    clock = Clock(datetime(2026, 3, 1, 12, tzinfo=UTC))
    loop = asyncio.create_task(telegram.bot.daily.loop(telegram, now=clock, tick=0))
    await clock.rounds()
    loop.cancel()
    with pytest.raises(asyncio.CancelledError):
        await loop
    # Telegram's own chat got its fact in those rounds; Discord's was not sent through it.
    assert [chat for chat, _ in telegram.sent] == [GROUP]


async def test_a_failed_send_is_not_retried_the_same_day(packs: tuple[FactPack, ...]) -> None:
    store = MemoryStore()
    chats = [ChatKey("telegram", c) for c in ("1", "2")]
    for chat in chats:
        await store.set_daily(chat, True, time(6, 0), "UTC")
    h = harness(packs, store)
    h.fail_sends = True
    clock = Clock(datetime(2026, 3, 1, 6, 1, tzinfo=UTC))
    loop = asyncio.create_task(h.bot.daily.loop(h, now=clock, tick=0))
    await clock.rounds(5)
    loop.cancel()
    with pytest.raises(asyncio.CancelledError):
        await loop
    # Both chats tried once: one failing send neither stops the round nor repeats.
    assert sorted(c for c, _ in h.sent) == ["1", "2"]


async def test_the_daily_fact_skips_topics_turned_off(packs: tuple[FactPack, ...]) -> None:
    store = MemoryStore()
    chat = ChatKey("telegram", GROUP)
    keep = packs[0].topics[0].command
    for pack in packs:
        for topic in pack.topics:
            if topic.command != keep:
                await store.set_topic_enabled(chat, topic.command, False)
    await store.set_daily(chat, True, time(6, 0), "UTC")
    h = harness(packs, store)
    for day in range(1, 4):
        clock = Clock(datetime(2026, 3, day, 7, tzinfo=UTC))
        loop = asyncio.create_task(h.bot.daily.loop(h, now=clock, tick=0))
        await clock.rounds()
        loop.cancel()
        with pytest.raises(asyncio.CancelledError):
            await loop
    assert [r.topic for _, r in h.sent] == [keep] * 3


async def test_sends_stay_within_telegram_limits() -> None:
    now = [0.0]

    async def sleep(delay: float) -> None:
        now[0] += delay

    throttle = SendThrottle(clock=lambda: now[0], sleep=sleep)
    stamps = []
    for n in range(100):
        await throttle.wait(f"chat{n}")
        stamps.append(now[0])
    assert max(sum(1 for s in stamps if t <= s < t + 1.0) for t in stamps) <= 30
    assert stamps[-1] >= 3.0  # 100 sends need at least four one-second windows
    one_chat = []
    for _ in range(45):
        await throttle.wait("group")
        one_chat.append(now[0])
    assert max(sum(1 for s in one_chat if t <= s < t + 60.0) for t in one_chat) <= 20


async def test_the_console_prints_the_daily_fact_when_due(packs: tuple[FactPack, ...]) -> None:
    store = MemoryStore()
    await store.set_daily(ChatKey("console", "console"), True, time(6, 0), "UTC")
    out = io.StringIO()
    console = ConsoleAdapter(FactBot(packs, store), stdin=io.StringIO(""), stdout=out)
    clock = Clock(datetime(2026, 3, 1, 6, 1, tzinfo=UTC))
    loop = asyncio.create_task(console.bot.daily.loop(console, now=clock, tick=0))
    await clock.rounds()
    loop.cancel()
    with pytest.raises(asyncio.CancelledError):
        await loop
    assert out.getvalue().startswith("Fact of the day:\n“")
    assert out.getvalue().count("Fact of the day") == 1


class BrokenStore(MemoryStore):
    """A store whose daily schedule cannot be read, as with a database that is down."""

    async def daily_chats(self, platform: str) -> list[tuple[str, ChatSettings]]:
        raise OSError("disk I/O error")

    async def claim_daily(self, platform: str, now: datetime, limit: int = 100,
                          shards: Shards | None = None) -> list[tuple[str, ChatSettings]]:
        raise OSError("disk I/O error")


async def test_a_failing_daily_round_is_logged_once_not_every_tick(
        packs: tuple[FactPack, ...], caplog: pytest.LogCaptureFixture) -> None:
    h = harness(packs, BrokenStore())
    clock = Clock(datetime(2026, 1, 1, tzinfo=UTC))
    with caplog.at_level("ERROR", logger="factbot.features.daily"):
        loop = asyncio.create_task(h.bot.daily.loop(h, now=clock, tick=0))
        await clock.rounds(5)
        loop.cancel()
        with pytest.raises(asyncio.CancelledError):
            await loop
    failures = [r for r in caplog.records if "daily fact round failed" in r.getMessage()]
    assert len(failures) == 1


@pytest.mark.parametrize(("args", "expected"), [
    ("", ""), ("off", "off"), ("default", "default"), ("4", (4, None)), ("4 15", (4, 15)),
    ("0 0", (0, 0)), ("-1", None), ("4 15 2", None), ("lots", None), ("1001", None),
])
def test_cooldown_arguments_parse(args: str, expected: object) -> None:
    from factbot.features.cooldown import parse_cooldown

    assert parse_cooldown(args) == expected


async def test_an_admin_sets_the_chats_cooldown_and_it_is_applied(
        packs: tuple[FactPack, ...]) -> None:
    h = harness(packs, settings=Settings(cooldown=CooldownSettings(user_per_minute=6)))
    denied = await in_group(h, "/cooldown 1", user="someone")
    assert "admins" in denied.text
    shown = await in_group(h, "/cooldown", user="someone")
    assert "6 answers a minute per person" in shown.text
    bad = await in_group(h, "/cooldown 25:99")
    assert bad.text.startswith("Usage: /cooldown")
    done = await in_group(h, "/cooldown 1")
    assert "1 answers a minute per person" in done.text
    kinds = []
    for _ in range(3):
        reply = await h.push("/trade", chat=GROUP, user="fan", group=True)
        kinds.append(reply.kind if reply is not None else None)
    assert kinds == [ReplyKind.FACT, ReplyKind.SLOW_DOWN, None]
