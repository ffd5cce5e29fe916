"""Cooldowns across processes: two bots on one PostgreSQL database count together.

Each bot has its own PostgresStore (its own connections), as two `factbot run` processes
would. A sender alternating between them gets the chat's per-user limit in all, not one
limit per process (the tolerance, SHARED_TOLERANCE: none while the server answers).
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator

import pytest

from factbot.messages import ReplyKind
from factbot.packs import FactPack
from factbot.settings import CooldownSettings, Settings
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


async def answered(bots: tuple[Harness, Harness], n: int, *, user: str = "u1",
                   chat: str = GROUP) -> list[bool]:
    """``n`` group messages from ``user``, alternating between the bots: which got a fact."""
    out = []
    for i in range(n):
        reply = await bots[i % 2].push("/hallyu", chat=chat, user=user, group=True)
        out.append(reply is not None and reply.kind is ReplyKind.FACT)
    return out


async def test_a_sender_alternating_between_two_processes_gets_one_limit(
        two: tuple[Harness, Harness]) -> None:
    assert await answered(two, 8) == [True] * 3 + [False] * 5


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
        assert await answered(bots, 3, user="u3") == [True, False, False]  # the chat's 5th
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
    async with two[0].store._conn().acquire() as conn:  # type: ignore[attr-defined]
        assert await conn.fetchval("SELECT count(*) FROM cooldown_hits") == 0


async def test_a_process_limits_on_its_own_while_the_server_cannot_count(
        two: tuple[Harness, Harness], packs: tuple[FactPack, ...]) -> None:
    store = two[0].store
    assert isinstance(store, PostgresStore)
    async with store._conn().acquire() as conn:
        await conn.execute("DROP FUNCTION factbot_cooldown")  # every count now fails
    assert await answered((two[0], two[0]), 5) == [True] * 3 + [False] * 2


async def test_a_store_of_one_process_keeps_the_in_process_limiter(
        packs: tuple[FactPack, ...]) -> None:
    settings = dataclasses.replace(Settings(), cooldown=CooldownSettings(True, 3, 0))
    one = Harness(settings, MemoryStore(), packs=packs, cooldown=True)
    assert await answered((one, one), 5) == [True] * 3 + [False] * 2
    other = Harness(settings, MemoryStore(), packs=packs, cooldown=True)
    assert await answered((one, other), 4, user="u9") == [True] * 4  # two limits: no sharing


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
