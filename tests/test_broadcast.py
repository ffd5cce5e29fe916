"""The daily broadcast at the platform's limit: due chats found on an index of when each is
next due, sends pipelined under one throttle that replies share and go first in."""

from __future__ import annotations

import sqlite3
import zoneinfo
from collections.abc import AsyncIterator
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest

from factbot.storage import ChatKey, MemoryStore
from factbot.storage.base import BaseStore, ChatSettings, is_due, next_daily
from factbot.storage.postgres import PostgresStore
from factbot.storage.sqlite import SqliteStore

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
    # The clocks went forward on the 8th: 08:30 there is now 12:30 UTC.
    assert await store.claim_daily("telegram", datetime(2026, 3, 8, 12, 29, tzinfo=UTC)) == []
    claimed = await store.claim_daily("telegram", datetime(2026, 3, 8, 12, 30, tzinfo=UTC))
    assert [c for c, _ in claimed] == ["-7"]
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
    for sql, params in ((_CLAIM, ("telegram", 10.0, 10)), (_UNSET, ("telegram", 10))):
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
        sql = _CLAIM.replace("$1", "'telegram'").replace("$2", "now()").replace("$3", "10")
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
