"""The daily broadcast at the platform's limit: due chats found on an index of when each is
next due, sends pipelined under one throttle that replies share and go first in."""

from __future__ import annotations

import asyncio
import bisect
import heapq
import sqlite3
import zoneinfo
from collections.abc import AsyncIterator, Awaitable
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import TypeVar

import pytest

from factbot.core import FactBot
from factbot.features import daily as daily_module
from factbot.features.daily import DAILY_BATCH, SendThrottle
from factbot.packs import FactPack
from factbot.storage import ChatKey, MemoryStore
from factbot.storage.base import BaseStore, ChatSettings, Shards, is_due, next_daily
from factbot.storage.postgres import PostgresStore
from factbot.storage.sqlite import SqliteStore

T = TypeVar("T")
ZONES = ["UTC", "America/New_York", "Europe/London", "Australia/Lord_Howe", "Asia/Kolkata",
         "Pacific/Chatham", "America/Santiago"]
# 02:30 falls in New York's spring gap and 01:30 in its autumn fold; 00:00 in Santiago's gap.
TIMES = [time(0, 0), time(1, 30), time(2, 30), time(9, 0), time(23, 45)]


def sweep(start: datetime, hours: int, step: timedelta) -> list[datetime]:
    count = int(timedelta(hours=hours) / step)
    return [start + n * step for n in range(count)]


def near_a_change(zone: zoneinfo.ZoneInfo, now: datetime) -> bool:
    """Whether the zone's offset changes within two hours of ``now``."""
    return len({(now + timedelta(hours=h)).astimezone(zone).utcoffset()
                for h in (-2, -1, 0, 1, 2)}) > 1


@pytest.mark.parametrize("tz", ZONES)
def test_next_daily_says_due_exactly_when_a_slot_passed_since_the_last_send(tz: str) -> None:
    """Around both DST changes a chat is due when one of its local slots (each day's HH:MM
    at its instant, a time in a gap read as PEP 495 does) fell after its last send; away
    from a change that is what is_due says too (by a change is_due compares wall clocks,
    and can name a slot still to come, or miss one the repeated hour passed)."""
    zone = zoneinfo.ZoneInfo(tz)
    checked = 0
    for change in (datetime(2026, 3, 8, tzinfo=UTC), datetime(2026, 11, 1, tzinfo=UTC),
                   datetime(2026, 3, 29, tzinfo=UTC), datetime(2026, 4, 5, tzinfo=UTC),
                   datetime(2026, 9, 6, tzinfo=UTC), datetime(2026, 10, 4, tzinfo=UTC)):
        for at in TIMES:
            slots = [datetime.combine(change.date() + timedelta(days=d), at,
                                      tzinfo=zone).astimezone(UTC) for d in range(-3, 5)]
            for last in sweep(change - timedelta(days=1), 72, timedelta(minutes=97)):
                settings = ChatSettings(daily=True, daily_time=at, tz=tz, last_daily=last)
                due = next_daily(settings)
                assert due is not None and due > last
                for now in sweep(last, 60, timedelta(minutes=53)):
                    passed = any(last < slot <= now for slot in slots)
                    assert (due <= now) == passed, (at, last, now)
                    if not near_a_change(zone, now):
                        assert passed == is_due(settings, now), (at, last, now)
                    checked += 1
    assert checked > 20_000


def test_next_daily_is_the_chats_local_time_on_both_sides_of_a_dst_change() -> None:
    """08:30 in New York is 13:30 UTC before the March change and 12:30 after it."""
    settings = ChatSettings(daily=True, daily_time=time(8, 30), tz="America/New_York",
                            last_daily=datetime(2026, 3, 7, 13, 30, tzinfo=UTC))
    assert next_daily(settings) == datetime(2026, 3, 8, 12, 30, tzinfo=UTC)
    after = ChatSettings(daily=True, daily_time=time(8, 30), tz="America/New_York",
                         last_daily=datetime(2026, 3, 8, 12, 30, tzinfo=UTC))
    assert next_daily(after) == datetime(2026, 3, 9, 12, 30, tzinfo=UTC)
    assert next_daily(ChatSettings(daily=False)) is None
    assert next_daily(ChatSettings(daily=True)) == datetime.min.replace(tzinfo=UTC)


STORES = ["memory", "sqlite", "postgres"]


@pytest.fixture(params=STORES)
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[BaseStore]:
    opened: BaseStore
    if request.param == "memory":
        opened = MemoryStore()
    elif request.param == "sqlite":
        opened = SqliteStore(tmp_path / "state.db")
    else:
        opened = PostgresStore(request.getfixturevalue("postgres_url"))
    await opened.open()
    try:
        yield opened
    finally:
        await opened.close()


async def test_a_claim_advances_the_chat_to_its_next_local_day_across_a_dst_change(
        store: BaseStore) -> None:
    chat = ChatKey("telegram", "-7")
    await store.set_daily(chat, True, time(8, 30), "America/New_York",
                          since=datetime(2026, 3, 6, 20, 0, tzinfo=UTC))
    before = datetime(2026, 3, 7, 13, 29, tzinfo=UTC)
    assert await store.claim_daily("telegram", before) == []
    assert [c for c, _ in await store.claim_daily("telegram", before + timedelta(minutes=1))
            ] == ["-7"]
    await store.mark_daily_sent(chat, before + timedelta(minutes=1))
    # The clocks went forward on the 8th: 08:30 there is now 12:30 UTC.
    assert await store.claim_daily("telegram", datetime(2026, 3, 8, 12, 29, tzinfo=UTC)) == []
    claimed = await store.claim_daily("telegram", datetime(2026, 3, 8, 12, 30, tzinfo=UTC))
    assert [c for c, _ in claimed] == ["-7"]
    await store.mark_daily_sent(chat, datetime(2026, 3, 8, 12, 30, tzinfo=UTC))
    assert await store.claim_daily("telegram", datetime(2026, 3, 9, 12, 29, tzinfo=UTC)) == []


async def test_changing_the_time_or_zone_moves_the_next_claim(store: BaseStore) -> None:
    chat = ChatKey("telegram", "5")
    sent = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
    await store.set_daily(chat, True, time(9, 0), "UTC", since=sent)
    # 18:00 in Kuala Lumpur is 10:00 UTC: due an hour after the last send, the same day.
    await store.set_daily(chat, True, time(18, 0), "Asia/Kuala_Lumpur")
    assert await store.claim_daily("telegram", sent + timedelta(minutes=59)) == []
    assert len(await store.claim_daily("telegram", sent + timedelta(hours=1))) == 1
    await store.set_daily(chat, False)
    assert await store.claim_daily("telegram", sent + timedelta(days=3)) == []


async def test_due_chats_are_claimed_the_longest_due_first(store: BaseStore) -> None:
    day = datetime(2026, 6, 1, tzinfo=UTC)
    for n, hour in enumerate([7, 3, 5]):
        await store.set_daily(ChatKey("telegram", f"c{n}"), True, time(hour, 0), "UTC",
                              since=day - timedelta(hours=1))
    first = await store.claim_daily("telegram", day + timedelta(hours=8), limit=1)
    second = await store.claim_daily("telegram", day + timedelta(hours=8), limit=2)
    assert [c for c, _ in first] == ["c1"]  # due at 03:00
    assert [c for c, _ in second] == ["c0", "c2"]  # 05:00 and 07:00, returned by chat id


async def test_the_sqlite_claim_reads_due_chats_off_the_next_daily_index(
        tmp_path: Path) -> None:
    from factbot.storage.sqlite import _CLAIM, _UNSET

    async with SqliteStore(tmp_path / "state.db"):
        pass
    db = sqlite3.connect(tmp_path / "state.db")
    with db:
        db.executemany("INSERT INTO chats (platform, chat_id, daily, next_daily)"
                       " VALUES ('telegram', ?, 1, ?)", ((str(n), n) for n in range(2000)))
    # The claim's parameters: platform, now, now (for the leases), shard count and ids (every
    # chat: 1, [0]), limit.
    for sql, params in ((_CLAIM, ("telegram", 10.0, 10.0, 1, "[0]", 10)),
                        (_UNSET, ("telegram", 10))):
        plan = " ".join(row[3] for row in db.execute(f"EXPLAIN QUERY PLAN {sql}", params))
        assert "USING INDEX chats_next_daily" in plan, plan
        assert "TEMP B-TREE" not in plan, plan  # ordered by the index, not sorted
    db.close()


async def test_the_postgres_claim_can_use_the_next_daily_index(postgres_url: str) -> None:
    import asyncpg

    from factbot.storage.postgres import _CLAIM

    async with PostgresStore(postgres_url):
        pass
    conn = await asyncpg.connect(postgres_url)
    try:
        await conn.execute(
            "INSERT INTO chats (platform, chat_id, daily, next_daily) SELECT 'telegram',"
            " n::text, true, now() + n * interval '1 minute' FROM generate_series(1, 20000) n")
        await conn.execute("ANALYZE chats")
        sql = (_CLAIM.replace("$1", "'telegram'").replace("$2", "now()").replace("$3", "10")
               .replace("$4", "2").replace("$5", "ARRAY[1]"))  # shard 1 of 2
        plan = "\n".join(r[0] for r in await conn.fetch(f"EXPLAIN {sql}"))
        assert "chats_next_daily" in plan, plan
        assert "Seq Scan on chats" not in plan, plan
    finally:
        await conn.close()


async def test_a_migrated_sqlite_file_works_out_next_daily_in_the_first_claim(
        tmp_path: Path) -> None:
    """Rows written before schema 5 (next_daily NULL) are filled in, then claimed if due."""
    from factbot.storage import sqlite as module

    async with SqliteStore(tmp_path / "state.db"):
        pass
    day = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
    db = sqlite3.connect(tmp_path / "state.db")
    with db:
        db.executemany(
            "INSERT INTO chats (platform, chat_id, daily, daily_time, tz, last_daily)"
            " VALUES ('telegram', ?, 1, '09:00', 'UTC', ?)",
            [(str(n), (day - timedelta(days=1 if n % 2 else 0, hours=1)).timestamp())
             for n in range(module.FILL_BATCH * 2 + 7)])
    db.close()
    async with SqliteStore(tmp_path / "state.db") as store:
        due = []
        while batch := await store.claim_daily("telegram", day, limit=100):
            due += [c for c, _ in batch]
    assert sorted(due, key=int) == [str(n) for n in range(module.FILL_BATCH * 2 + 7) if n % 2]


# --- the pipelined round under one throttle, on simulated time ----------------------------

class VirtualTime:
    """A clock and a sleep for many tasks: time jumps to the next wake-up once every task
    is waiting, so a minute of sends runs in milliseconds and nothing reads the wall clock."""

    def __init__(self) -> None:
        self.now = 0.0
        self._timers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._seq = 0

    def clock(self) -> float:
        return self.now

    async def sleep(self, delay: float) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._seq += 1
        heapq.heappush(self._timers, (self.now + max(delay, 0.0), self._seq, future))
        await future

    async def run(self, main: Awaitable[T]) -> T:
        task = asyncio.ensure_future(main)
        while not task.done():
            for _ in range(50):  # let every runnable task run until it waits again
                await asyncio.sleep(0)
            if task.done() or not self._timers:
                continue
            at = self._timers[0][0]
            self.now = max(self.now, at)
            while self._timers and self._timers[0][0] <= at:
                _, _, future = heapq.heappop(self._timers)
                if not future.done():
                    future.set_result(None)
        return task.result()


class SlowPlatform:
    """Takes each message after a simulated round trip; notes when each one arrived."""

    name = "telegram"

    def __init__(self, time: VirtualTime, round_trip: float) -> None:
        self.time = time
        self.round_trip = round_trip
        self.arrived: list[tuple[float, str]] = []
        self.in_flight = 0
        self.most_in_flight = 0

    async def send(self, chat_id: str, reply: object) -> None:
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            await self.time.sleep(self.round_trip / 2)
            self.arrived.append((self.time.now, chat_id))
            await self.time.sleep(self.round_trip / 2)
        finally:
            self.in_flight -= 1


def most_in_any(stamps: list[float], window: float) -> int:
    stamps = sorted(stamps)
    return max((bisect.bisect_left(stamps, at + window) - n for n, at in enumerate(stamps)),
               default=0)


async def subscribed(count: int, day: datetime) -> MemoryStore:
    store = MemoryStore()
    for n in range(count):
        await store.set_daily(ChatKey("telegram", str(n)), True, time(9, 0), "UTC",
                              since=day - timedelta(days=1))
    return store


@pytest.mark.parametrize("round_trip", [0.0, 0.1, 0.3])
async def test_the_pipelined_round_keeps_to_the_bucket_and_near_its_rate(
        packs: tuple[FactPack, ...], round_trip: float) -> None:
    """600 chats at a 100 ms round trip: never over 30 in any second (counted on arrival),
    done within 1.2 x 600/30 simulated seconds, which one send at a time could not do."""
    day = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
    vt = VirtualTime()
    platform = SlowPlatform(vt, round_trip)
    bot = FactBot(packs, await subscribed(600, day))
    throttle = SendThrottle(clock=vt.clock, sleep=vt.sleep)
    sent = await vt.run(bot.daily.send_due(platform, day, throttle))  # type: ignore[arg-type]
    assert sent == 600 and len({chat for _, chat in platform.arrived}) == 600
    stamps = [at for at, _ in platform.arrived]
    assert most_in_any(stamps, 1.0) <= 30
    assert max(stamps) <= 1.2 * 600 / 30
    if round_trip:
        assert platform.most_in_flight > 1


async def test_one_send_at_a_time_would_miss_the_rate_at_a_100_ms_round_trip(
        packs: tuple[FactPack, ...]) -> None:
    """The measure above can fail: with nothing in flight but one, 600 sends take 60 s."""
    day = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
    vt = VirtualTime()
    platform = SlowPlatform(vt, 0.1)
    bot = FactBot(packs, await subscribed(600, day))
    throttle = SendThrottle(clock=vt.clock, sleep=vt.sleep)
    await vt.run(bot.daily.send_due(platform, day, throttle, in_flight=1))  # type: ignore[arg-type]
    assert max(at for at, _ in platform.arrived) > 1.2 * 600 / 30


async def test_replies_get_the_next_slots_ahead_of_a_broadcast(
        packs: tuple[FactPack, ...]) -> None:
    """Ten replies asked for at once, mid-broadcast, all go before the broadcast's next
    send; each waits at most a few slots; the bucket still holds across both."""
    day = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
    vt = VirtualTime()
    platform = SlowPlatform(vt, 0.1)
    bot = FactBot(packs, await subscribed(300, day))
    throttle = SendThrottle(clock=vt.clock, sleep=vt.sleep)
    granted: list[tuple[float, str]] = []
    asked_at: list[float] = []

    async def reply(n: int) -> None:
        await throttle.wait(f"user{n}", bulk=False, group=False)
        granted.append((vt.now, f"user{n}"))

    async def broadcast_and_replies() -> int:
        round_ = asyncio.create_task(bot.daily.send_due(platform, day, throttle))  # type: ignore[arg-type]
        await vt.sleep(3.0)
        asked_at.append(vt.now)
        await asyncio.gather(*(reply(n) for n in range(10)))
        return await round_

    assert await vt.run(broadcast_and_replies()) == 300
    [asked] = asked_at
    last_reply = max(at for at, _ in granted)
    bulk_between = [at for at, _ in platform.arrived if asked < at - 0.05 < last_reply]
    assert bulk_between == []  # sent (arrived half a round trip later) while replies waited
    assert last_reply - asked <= 10 * throttle.window / throttle.overall + 0.05
    stamps = [at for at, _ in platform.arrived] + [at + 0.05 for at, _ in granted]
    assert most_in_any(stamps, 1.0) <= 30


async def test_a_reply_takes_the_freed_slot_before_a_broadcast_send_waiting_longer() -> None:
    """Two a second: two broadcast sends fill the bucket, a third has waited since 0.5 s and
    a reply since 0.6 s: when a slot frees at 1.0 s the reply has it."""
    vt = VirtualTime()
    throttle = SendThrottle(overall=2, window=1.0, clock=vt.clock, sleep=vt.sleep)
    order: list[tuple[str, float]] = []

    async def bulk(name: str, at: float) -> None:
        await vt.sleep(at)
        await throttle.wait(name, group=False)
        order.append((name, vt.now))

    async def reply(at: float) -> None:
        await vt.sleep(at)
        await throttle.wait("user", bulk=False, group=False)
        order.append(("reply", vt.now))

    await vt.run(asyncio.gather(bulk("a", 0.0), bulk("b", 0.0), bulk("c", 0.5), reply(0.6)))
    # Two broadcast sends fill the bucket (0 and 0.5 s), then the reply, then the third.
    assert [name for name, _ in order].index("reply") == 2
    assert dict(order)["reply"] == 1.0


async def test_a_group_at_its_own_limit_holds_back_only_itself() -> None:
    """25 replies to one group: 20 in its minute, the rest after; broadcast sends meanwhile
    go on at the overall rate."""
    vt = VirtualTime()
    throttle = SendThrottle(clock=vt.clock, sleep=vt.sleep)
    group: list[float] = []
    bulk: list[float] = []

    async def to_group() -> None:
        await throttle.wait("-100", bulk=False, group=True)
        group.append(vt.now)

    async def broadcast() -> None:
        for n in range(300):
            await throttle.wait(str(n), group=False)
            bulk.append(vt.now)

    async def both() -> None:
        await asyncio.gather(broadcast(), *(to_group() for _ in range(25)))

    await vt.run(both())
    assert sorted(group)[19] < 1.0 and sorted(group)[20] >= 60.0
    assert most_in_any(group, 60.0) <= 20
    assert max(bulk) < 300 / 25  # not held for the group's minute
    assert most_in_any(group + bulk, 1.0) <= 30


# --- the Telegram adapter: one throttle for its replies and its daily round ---------------

async def test_telegram_replies_and_daily_sends_share_the_adapters_throttle(
        packs: tuple[FactPack, ...], monkeypatch: pytest.MonkeyPatch) -> None:
    """Each message the bot posts is counted once, in the adapter's throttle: an answer as a
    reply (first in line), the daily fact as a broadcast send, group chats by their id."""
    from factbot.adapters.telegram import ALLOWED_UPDATES, build_application
    from tests.fakes.telegram_api import FakeBotAPI

    async with FakeBotAPI("424242:TEST-throttle") as api:
        bot = FactBot(packs, MemoryStore())
        app, adapter = build_application(bot, api.token, base_url=api.base_url)
        throttle = adapter.throttle
        assert throttle is not None
        waits: list[tuple[str, bool, bool]] = []
        real_wait = throttle.wait

        async def counted(chat_id: str, *, bulk: bool = True, group: bool = True) -> None:
            waits.append((chat_id, bulk, group))
            await real_wait(chat_id, bulk=bulk, group=group)

        monkeypatch.setattr(throttle, "wait", counted)
        await app.initialize()
        assert app.updater is not None
        await app.updater.start_polling(allowed_updates=ALLOWED_UPDATES)
        await app.start()
        try:
            await api.push(api.message("/hallyu", chat_id=501, user_id=501))
            await api.wait_for(lambda: len(api.sent()) == 1)
            day = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
            await bot.store.set_daily(ChatKey("telegram", "-100123"), True, time(9, 0), "UTC",
                                      since=day - timedelta(days=1))
            # As the loop does: the platform's own throttle, so the round does not count too.
            assert await bot.daily.send_due(adapter, day, throttle) == 1
        finally:
            await app.updater.stop()
            await app.stop()
            await app.shutdown()
    assert [c["chat_id"] for c in api.sent()] == [501, -100123]
    assert waits == [("501", False, False), ("-100123", True, True)]


async def test_the_daily_loop_leaves_counting_to_a_platform_with_its_own_throttle(
        packs: tuple[FactPack, ...], monkeypatch: pytest.MonkeyPatch) -> None:
    """A platform whose send path has the token's throttle: the loop uses that one and does
    not count the daily fact in it a second time; a platform without one gets the loop's."""
    day = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)

    waits: list[SendThrottle] = []  # in whichever throttle, the loop's own included

    class Counting(SendThrottle):
        async def wait(self, chat_id: str, *, bulk: bool = True, group: bool = True) -> None:
            waits.append(self)

    monkeypatch.setattr(daily_module, "SendThrottle", Counting)

    class Own:
        name = "telegram"

        def __init__(self, throttle: SendThrottle | None) -> None:
            self.sent: list[str] = []
            if throttle is not None:
                self.throttle = throttle

        async def is_admin(self, message: object) -> bool:
            return False

        async def send(self, chat_id: str, reply: object) -> None:
            self.sent.append(chat_id)

    for own in (True, False):
        waits.clear()
        counting = Counting()
        platform = Own(counting if own else None)
        bot = FactBot(packs, await subscribed(3, day))
        loop = asyncio.create_task(bot.daily.loop(
            platform, now=lambda: day, tick=0,
            throttle=None if own else counting))
        while len(platform.sent) < 3:
            await asyncio.sleep(0)
        loop.cancel()
        with pytest.raises(asyncio.CancelledError):
            await loop
        assert waits == ([] if own else [counting] * 3)


async def test_a_store_failing_mid_round_still_lets_the_claimed_chats_be_sent(
        packs: tuple[FactPack, ...]) -> None:
    """The first batch is claimed (marked sent), the next claim fails: the batch goes out
    before the round's error is raised, rather than missing the day."""
    day = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)

    class FailingSecondClaim(MemoryStore):
        claims = 0

        async def claim_daily(self, platform: str, now: datetime, limit: int = 100,
                              shards: Shards | None = None) -> list[tuple[str, ChatSettings]]:
            self.claims += 1
            if self.claims > 1:
                raise OSError("disk I/O error")
            return await super().claim_daily(platform, now, limit, shards)

    store = FailingSecondClaim()
    for n in range(30):
        await store.set_daily(ChatKey("telegram", str(n)), True, time(9, 0), "UTC",
                              since=day - timedelta(days=1))
    vt = VirtualTime()
    platform = SlowPlatform(vt, 0.1)
    bot = FactBot(packs, store)

    async def round_() -> None:
        with pytest.raises(OSError, match="disk I/O error"):
            await bot.daily.send_due(platform, day, SendThrottle(clock=vt.clock,  # type: ignore[arg-type]
                                                                   sleep=vt.sleep))

    await vt.run(round_())
    assert len(platform.arrived) == DAILY_BATCH
