"""Cooldowns across processes: two bots on one PostgreSQL database count together.

Each bot has its own PostgresStore (its own connections), as two `factbot run` processes
would. Each decides at once from its own answers and those the other has announced (written
and NOTIFYed every COOLDOWN_SYNC seconds): a sender alternating between them more slowly
than that gets the chat's per-user limit in all; faster, at most one limit per process
(SHARED_TOLERANCE). Both sides of that are tested here.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator

import pytest

from factbot.messages import ReplyKind
from factbot.packs import FactPack
from factbot.settings import CooldownSettings, Settings
from factbot.storage import postgres
from factbot.storage.memory import MemoryStore
from factbot.storage.postgres import PostgresStore
from tests.harness import Harness

GROUP = "-100"


@pytest.fixture
async def two(postgres_url: str, packs: tuple[FactPack, ...]
              ) -> AsyncIterator[tuple[Harness, Harness]]:
    """Two bots, as two processes: each its own store on the one database."""
    settings = dataclasses.replace(Settings(), cooldown=CooldownSettings(True, 3, 0))
    async with PostgresStore(postgres_url) as a, PostgresStore(postgres_url) as b:
        yield (Harness(settings, a, packs=packs, cooldown=True),
               Harness(settings, b, packs=packs, cooldown=True))


def known(store: object, chat: str, user: str) -> int:
    """The answers to ``user`` in ``chat`` that ``store``'s process knows of."""
    assert isinstance(store, PostgresStore)
    return store._cd_count(("telegram", chat, user), float("-inf"))


async def heard(store: object, chat: str, user: str, count: int) -> None:
    """Wait until ``store``'s process knows of ``count`` answers to ``user`` in ``chat``."""
    for _ in range(500):
        if known(store, chat, user) >= count:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"never heard of {count} answers (knows {known(store, chat, user)})")


async def answered(bots: tuple[Harness, Harness], n: int, *, user: str = "u1",
                   chat: str = GROUP, paced: bool = True) -> list[bool]:
    """``n`` group messages from ``user``, alternating between the bots: which got a fact.

    ``paced``: each answer is written at once and heard by the other bot before the next
    message, as for a sender slower than a sync; otherwise they come all at once.
    """
    out: list[bool] = []
    for i in range(n):
        sender, other = bots[i % 2], bots[(i + 1) % 2]
        reply = await sender.push("/hallyu", chat=chat, user=user, group=True)
        out.append(reply is not None and reply.kind is ReplyKind.FACT)
        if paced and out[-1] and sender is not other:
            await sender.store.sync_cooldowns()  # type: ignore[attr-defined]
            await heard(other.store, chat, user, sum(out))
    return out


async def test_a_sender_alternating_between_two_processes_gets_one_limit(
        two: tuple[Harness, Harness]) -> None:
    assert await answered(two, 8) == [True] * 3 + [False] * 5


async def test_within_one_sync_each_process_answers_at_most_its_own_limit(
        two: tuple[Harness, Harness], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(postgres, "COOLDOWN_SYNC", 3600.0)  # no sync on its own meanwhile
    # The tolerance: faster than a sync, each process answers up to the limit (here 2 x 3).
    assert await answered(two, 10, paced=False) == [True] * 6 + [False] * 4
    for bot in two:
        await bot.store.sync_cooldowns()  # type: ignore[attr-defined]
    for bot in two:
        await heard(bot.store, GROUP, "u1", 6)
    # Once heard, each counts all six: the next answer is a minute away in both.
    assert await answered(two, 2, paced=False) == [False, False]


async def test_an_answer_reaches_the_other_process_by_itself(
        two: tuple[Harness, Harness]) -> None:
    assert await answered((two[0], two[0]), 1, paced=False) == [True]
    assert known(two[1].store, GROUP, "u1") == 0
    await heard(two[1].store, GROUP, "u1", 1)  # written and announced within COOLDOWN_SYNC


async def test_a_process_started_later_reads_the_windows(
        two: tuple[Harness, Harness], postgres_url: str, packs: tuple[FactPack, ...]) -> None:
    assert await answered(two, 3) == [True] * 3
    async with PostgresStore(postgres_url) as late:
        third = Harness(dataclasses.replace(Settings(), cooldown=CooldownSettings(True, 3, 0)),
                        late, packs=packs, cooldown=True)
        assert known(late, GROUP, "u1") == 0  # nothing heard: it was not listening
        await late.sync_cooldowns()  # the first sync reads what it missed
        assert known(late, GROUP, "u1") == 3
        reply = await third.push("/hallyu", chat=GROUP, user="u1", group=True)
        assert reply is not None and reply.kind is ReplyKind.SLOW_DOWN


async def test_each_process_says_slow_down_at_most_once_then_nothing(
        two: tuple[Harness, Harness]) -> None:
    await answered(two, 3)
    kinds = [getattr(await two[i % 2].push("/hallyu", chat=GROUP, group=True), "kind", None)
             for i in range(6)]
    assert kinds == [ReplyKind.SLOW_DOWN, ReplyKind.SLOW_DOWN] + [None] * 4


async def test_the_chat_limit_holds_across_processes_and_refusals_do_not_use_it(
        postgres_url: str, packs: tuple[FactPack, ...]) -> None:
    settings = dataclasses.replace(Settings(), cooldown=CooldownSettings(True, 2, 5))
    async with PostgresStore(postgres_url) as a, PostgresStore(postgres_url) as b:
        bots = (Harness(settings, a, packs=packs, cooldown=True),
                Harness(settings, b, packs=packs, cooldown=True))
        # A flooder's refused messages count for nothing: the chat keeps 3 of its 5.
        assert await answered(bots, 10, user="flood") == [True] * 2 + [False] * 8
        assert await answered(bots, 2, user="u2") == [True, True]
        await heard(b, GROUP, "", 4)  # the chat's count, as well as each person's
        assert await answered(bots, 3, user="u3") == [True, False, False]  # the chat's 5th
        await heard(b, GROUP, "", 5)
        assert await answered(bots, 1, user="u4") == [False]


async def test_other_senders_and_chats_have_their_own_counts(
        two: tuple[Harness, Harness]) -> None:
    assert await answered(two, 4) == [True] * 3 + [False]
    assert await answered(two, 4, user="u2") == [True] * 3 + [False]
    assert await answered(two, 4, chat="-200") == [True] * 3 + [False]


async def test_private_chats_are_not_limited_or_counted(two: tuple[Harness, Harness]) -> None:
    for i in range(8):
        reply = await two[i % 2].push("/hallyu", chat="u1", user="u1")
        assert reply is not None and reply.kind is ReplyKind.FACT
    await answered(two, 1, user="u2")  # one in a group: written
    async with two[0].store._conn().acquire() as conn:  # type: ignore[attr-defined]
        rows = await conn.fetch("SELECT chat_id, user_id FROM cooldown_hits")
    assert [tuple(r) for r in rows] == [(GROUP, "u2")]  # no chat limit here: no chat row


async def test_a_process_limits_on_its_own_while_the_server_cannot_count(
        two: tuple[Harness, Harness], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(postgres, "COOLDOWN_SYNC", 3600.0)
    store = two[0].store
    assert isinstance(store, PostgresStore)
    async with store._conn().acquire() as conn:
        await conn.execute("ALTER TABLE cooldown_hits RENAME TO away")  # every write fails
        assert await answered((two[0], two[0]), 5, paced=False) == [True] * 3 + [False] * 2
        await store.sync_cooldowns()  # fails, and keeps the answers for the next one
        assert store._failing
        await conn.execute("ALTER TABLE away RENAME TO cooldown_hits")
        await store.sync_cooldowns()
        assert not store._failing
        hits = await conn.fetchval("SELECT cardinality(hits) FROM cooldown_hits"
                                   " WHERE user_id = 'u1'")
    assert hits == 3
    await heard(two[1].store, GROUP, "u1", 3)  # and the other process hears them then


async def test_a_store_of_one_process_keeps_the_in_process_limiter(
        packs: tuple[FactPack, ...]) -> None:
    settings = dataclasses.replace(Settings(), cooldown=CooldownSettings(True, 3, 0))
    one = Harness(settings, MemoryStore(), packs=packs, cooldown=True)
    assert await answered((one, one), 5) == [True] * 3 + [False] * 2
    other = Harness(settings, MemoryStore(), packs=packs, cooldown=True)
    assert await answered((one, other), 4, user="u9", paced=False) == [True] * 4  # two limits


async def test_idle_cooldown_rows_are_pruned_and_live_ones_kept(
        two: tuple[Harness, Harness]) -> None:
    store = two[0].store
    assert isinstance(store, PostgresStore)
    await answered(two, 1, user="live")
    async with store._conn().acquire() as conn:
        await conn.execute("INSERT INTO cooldown_hits VALUES ('telegram', '-1', 'idle',"
                           " ARRAY[now() - interval '1 hour'])")
        await store._prune_cooldowns()
        rows = await conn.fetch("SELECT user_id FROM cooldown_hits ORDER BY user_id")
    assert [r["user_id"] for r in rows] == ["live"]  # no chat limit here: no chat row
