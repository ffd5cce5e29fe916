"""Two real `factbot run telegram` processes on one PostgreSQL database, end to end.

Each process is a webhook worker, as behind a load balancer (``register_webhook`` false, one
shared secret): the test is the balancer and posts each update to one worker. Each worker
talks to a fake Bot API of its own (same token), so what each process sent is known.
Asserted: rotation never repeats in a round while a chat's messages alternate between the
processes; a setting made through one holds in the other; the cooldown's limit holds for a
sender alternating between them (each answer announced before the next message); the daily
fact goes to each chat once with both running their rounds, also when one is killed with
`kill -9` mid-broadcast (the other sends the rest, the chats the killed one had claimed and
not yet sent included, once their leases run out: the workers run with a 10-second lease and
a 1-second round); every update answered once, none lost, none doubled.

Two real `factbot run discord` shard-group processes (shards 0 and 1 of 2) on one database,
each with a fake Discord of its own: every channel subscribed to the daily fact gets it once,
from the process running its guild's shard.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import signal
import socket
import sys
from collections import Counter
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import pytest

from factbot.packs import FactPack
from factbot.storage.base import ChatKey, shard_of
from factbot.storage.postgres import PostgresStore
from tests.fakes import discord_api
from tests.fakes.discord_api import FakeDiscord
from tests.fakes.telegram_api import FakeBotAPI

TOKEN = "515151:SECRET-multiprocess-token"
SECRET = "multiprocess-webhook-secret"
HOOK = "https://bot.example.com/telegram-hook"
ROOT = Path(__file__).resolve().parent.parent
LEASE_SECONDS = 10.0  # the workers' daily lease (2 minutes in production)
# `factbot run`, with a short daily lease and a daily round every second, so that a killed
# worker's claimed chats come back within seconds.
_RUN = ("import sys; from datetime import timedelta;"
        " from factbot.storage.base import BaseStore;"
        f" BaseStore.daily_lease = timedelta(seconds={LEASE_SECONDS});"
        " from factbot.features.daily import DailyFacts;"
        " DailyFacts.loop.__kwdefaults__['tick'] = 1.0;"
        " from factbot.cli import main; sys.exit(main(sys.argv[1:]))")
_update_ids = itertools.count(1)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Worker:
    """One `factbot run telegram` webhook worker on the shared database, with its own fake."""

    def __init__(self, name: str, api: FakeBotAPI, url: str) -> None:
        self.name = name
        self.api = api
        self.url = url
        self.port = _free_port()
        self.process: asyncio.subprocess.Process | None = None
        self.log: list[str] = []
        self._reader: asyncio.Task[None] | None = None

    async def start(self) -> None:
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("DISCORD_", "TELEGRAM_", "FACTBOT_"))}
        env.update(TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_API_BASE_URL=self.api.base_url,
                   FACTBOT_DB=self.url, FACTBOT_TELEGRAM_WEBHOOK_URL=HOOK,
                   FACTBOT_TELEGRAM_LISTEN=f"127.0.0.1:{self.port}",
                   FACTBOT_TELEGRAM_WEBHOOK_SECRET=SECRET, PTB_TIMEDELTA="true",
                   # Workers behind a balancer: `factbot telegram set-webhook` ran once.
                   FACTBOT_TELEGRAM_REGISTER_WEBHOOK="false")
        self.process = await asyncio.create_subprocess_exec(
            sys.executable, "-c", _RUN, "run", "telegram", cwd=ROOT, env=env,
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
        self._reader = asyncio.create_task(self._read())
        await _until(lambda: any("serving a webhook" in line for line in self.log),
                     f"{self.name} serving", process=self.process, log=self.log)

    async def _read(self) -> None:
        assert self.process is not None and self.process.stderr is not None
        async for line in self.process.stderr:
            self.log.append(line.decode(errors="replace").rstrip())

    async def post(self, update: dict[str, Any]) -> None:
        """Hand one update to this worker, as the balancer would; it must take it."""
        async with aiohttp.ClientSession() as session, session.post(
                f"http://127.0.0.1:{self.port}/telegram-hook", json=update,
                headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}) as response:
            assert response.status == 200, await response.text()

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)

    async def stop(self) -> int | None:
        if self.process is None:
            return None
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.process.wait(), 30)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()
        if self._reader is not None:
            await self._reader
        return self.process.returncode

    def dailies(self, calls: str = "succeeded") -> list[int]:
        """The chats this worker delivered a daily fact to (the fake answered), in order;
        ``calls="sent"``: every one it tried, those the fake never answered included."""
        return [p["chat_id"] for p in getattr(self.api, calls)()
                if "Fact of the day" in str(p.get("text", "")).split("\n", 1)[0]]


async def _until(condition: Callable[[], bool], what: str, *, timeout: float = 60.0,
                 process: asyncio.subprocess.Process | None = None,
                 log: list[str] | None = None) -> None:
    """Wait for ``condition``; fail naming ``what`` (and the log) after a generous timeout."""
    async def wait() -> None:
        while not condition():
            if process is not None and process.returncode is not None:
                raise AssertionError(f"exited {process.returncode} before {what}: {log}")
            await asyncio.sleep(0.01)
    try:
        await asyncio.wait_for(wait(), timeout)
    except TimeoutError:
        raise AssertionError(f"timed out waiting for {what}: {log}") from None


@pytest.fixture
async def workers(postgres_url: str) -> AsyncIterator[list[Worker]]:
    """Two workers (not started), each with its own fake Bot API; stopped at the end."""
    async with FakeBotAPI(TOKEN) as a, FakeBotAPI(TOKEN) as b:
        pair = [Worker("A", a, postgres_url), Worker("B", b, postgres_url)]
        try:
            yield pair
        finally:
            for worker in pair:
                await worker.stop()
            for worker in pair:
                assert not worker.api.sent("setWebhook") and not worker.api.sent("deleteWebhook")
                assert TOKEN not in "\n".join(worker.log)
                assert not [line for line in worker.log if "Traceback" in line], worker.log


async def _say(worker: Worker, text: str, chat_id: int = 501) -> str:
    """Post ``text`` from ``chat_id`` to ``worker``; the one reply it sent back."""
    before = len(worker.api.sent())
    update = {"update_id": next(_update_ids),
              **worker.api.message(text, chat_id=chat_id, user_id=abs(chat_id))}
    await worker.post(update)
    await _until(lambda: len(worker.api.sent()) > before, f"{worker.name}'s reply to {text}")
    [reply] = worker.api.sent()[before:]
    assert reply["chat_id"] == chat_id
    return str(reply["text"])


@pytest.mark.slow
async def test_two_processes_share_rotation_settings_and_answer_every_update_once(
        workers: list[Worker], packs: tuple[FactPack, ...]) -> None:
    for worker in workers:
        await worker.start()
    [trade] = [t for p in packs for t in p.topics if t.command == "trade"]
    # One round of /trade, alternating between the processes: every fact once.
    replies = [await _say(workers[n % 2], "/trade") for n in range(len(trade.facts))]
    shown = [next(f.quote for f in trade.facts if f.quote in r) for r in replies]
    assert sorted(shown) == sorted(f.quote for f in trade.facts)
    # A setting made through one process holds in the other from the next message.
    await _say(workers[0], "/topics off trade")
    refused = await _say(workers[1], "/trade")
    assert not any(f.quote in refused for f in trade.facts)
    await _say(workers[1], "/topics on trade")
    answered = await _say(workers[0], "/trade")
    assert any(f.quote in answered for f in trade.facts)
    await _say(workers[1], "/daily on 08:30")
    assert "08:30" in await _say(workers[0], "/daily")
    # A burst over many chats, spread over both: each update answered once, by its worker.
    chats = list(range(601, 641))
    posted: dict[str, Counter[int]] = {w.name: Counter() for w in workers}
    before = {w.name: len(w.api.sent()) for w in workers}
    updates = []
    for n, chat in enumerate(chats * 3):
        worker = workers[n % 2]
        posted[worker.name][chat] += 1
        updates.append(worker.post({"update_id": next(_update_ids),
                                    **worker.api.message("/hallyu", chat_id=chat,
                                                         user_id=chat)}))
    await asyncio.gather(*updates)
    for worker in workers:
        await _until(lambda w=worker: len(w.api.sent()) - before[w.name]  # type: ignore[misc]
                     >= sum(posted[w.name].values()), f"{worker.name}'s burst replies")
    # Both answered everything they were given; a positive signal before "nothing more".
    for worker in workers:
        await _say(worker, "/help")
        replied = Counter(p["chat_id"] for p in worker.api.sent()[before[worker.name]:]
                           if p["chat_id"] in chats)
        assert replied == posted[worker.name]


async def _seed_daily(url: str, chats: list[int]) -> None:
    """Subscribe ``chats`` to the daily fact, last sent long ago: all due at once."""
    long_ago = datetime(2020, 1, 1, tzinfo=UTC)
    async with PostgresStore(url) as store:
        for chat in chats:
            await store.set_daily(ChatKey("telegram", str(chat)), True, since=long_ago)


async def _unsent(url: str, platform: str = "telegram") -> int:
    """How many chats are not yet marked sent (their daily fact still due)."""
    conn = await asyncpg.connect(url)
    try:
        return int(await conn.fetchval(
            "SELECT count(*) FROM chats WHERE platform = $1 AND daily"
            " AND (last_daily IS NULL OR last_daily < '2021-01-01' OR claimed_until IS NOT NULL)",
            platform))
    finally:
        await conn.close()


async def test_a_daily_claim_leaves_the_other_processes_cached_settings(
        postgres_url: str) -> None:
    # Two stores, as two processes. A claim changes no chat's settings (a lease, next_daily):
    # the other process keeps its cached settings through a whole round of claims.
    await _seed_daily(postgres_url, [-1, -2, -3])
    async with PostgresStore(postgres_url) as a, PostgresStore(postgres_url) as b:
        cached = ChatKey("telegram", "-3")
        assert (await b.chat_settings(cached)).daily
        assert ("telegram", "-3") in b._cache
        claimed = await a.claim_daily("telegram", datetime.now(UTC), limit=2)
        assert len(claimed) == 2
        # A positive signal first: a settings change made after the claim is heard by b.
        changed = ChatKey("telegram", "-999")
        assert (await b.chat_settings(changed)).daily is False
        await a.set_daily(changed, True)
        for _ in range(500):
            if ("telegram", "-999") not in b._cache:
                break
            await asyncio.sleep(0.01)
        else:
            raise AssertionError("b never heard the settings change")
        assert ("telegram", "-3") in b._cache  # the claim before it dropped nothing


@pytest.mark.slow
@pytest.mark.parametrize("kill", [False, True], ids=["both-run", "one-killed"])
async def test_the_daily_fact_goes_to_each_chat_once_across_two_processes(
        workers: list[Worker], postgres_url: str, kill: bool) -> None:
    # Enough chats that one process needs several seconds (30 sends a second at most).
    chats = [-1_000_000 - n for n in range(240)]
    await _seed_daily(postgres_url, chats)
    a, b = workers
    await a.start()
    await _until(lambda: len(a.dailies()) >= 1, "A's first daily fact")
    await b.start()
    await _until(lambda: len(b.dailies()) >= 1, "B's first daily fact")
    hung: list[int] = []
    if kill:
        # A's platform stops answering: its sends under way never arrive, their chats stay
        # claimed and unmarked. Its sends already answered get marked; then kill -9.
        a.api.hang("sendMessage", times=10**6)
        await asyncio.sleep(0.5)
        a.kill()
        await a.stop()
        hung = [c for c in a.dailies("sent") if c not in a.dailies()]
        assert hung, "A had sends under way when it was killed"
    # Every chat marked sent, by one process or the other.
    for _ in range(6000):
        if not await _unsent(postgres_url):
            break
        await asyncio.sleep(0.01)
    else:
        raise AssertionError(f"daily round never settled: {len(a.dailies())} + "
                             f"{len(b.dailies())} sent")
    await asyncio.sleep(1.5)  # a round more: nothing further goes out
    sent_a, sent_b = a.dailies(), b.dailies()
    assert not set(sent_a) & set(sent_b), "a chat got its daily fact twice"
    assert sorted(sent_a + sent_b) == sorted(chats), "each chat's daily fact exactly once"
    assert sent_a and sent_b  # both took part
    if kill:
        # The killed process's claimed, unsent chats went out from the survivor, after the
        # lease; nothing reached a chat twice.
        assert set(hung) <= set(sent_b)


@pytest.mark.slow
async def test_a_sender_alternating_between_two_processes_gets_one_cooldown_limit(
        workers: list[Worker], postgres_url: str) -> None:
    # Each process counts at once and announces its answers within COOLDOWN_SYNC: a sender
    # slower than that (here: each answer written to the database before the next message)
    # gets exactly the limit (SHARED_TOLERANCE).
    for worker in workers:
        await worker.start()
    group, user = -4242, 4242

    def facts() -> list[str]:
        return [str(p["text"]) for w in workers for p in w.api.sent()
                if p["chat_id"] == group and "Slow down" not in str(p["text"])]

    async def written() -> int:
        conn = await asyncpg.connect(postgres_url)
        try:
            return int(await conn.fetchval(
                "SELECT coalesce(max(cardinality(hits)), 0) FROM cooldown_hits"
                " WHERE chat_id = $1 AND user_id = $2", str(group), str(user)))
        finally:
            await conn.close()

    for n in range(10):  # the default limit is 6 answers a minute per person
        worker = workers[n % 2]
        await worker.post({"update_id": next(_update_ids),
                           **worker.api.message("/hallyu", chat_id=group, user_id=user,
                                                chat_type="supergroup")})
        # A positive signal before counting: a private message to the same worker answered.
        await worker.post({"update_id": next(_update_ids),
                           **worker.api.message("/help", chat_id=7000 + n, user_id=7000 + n)})
        await _until(lambda w=worker, c=7000 + n: any(  # type: ignore[misc]
            p["chat_id"] == c for p in w.api.sent()), "the /help reply")
        for _ in range(1000):  # each answer written (and so announced) before the next
            if await written() >= len(facts()):
                break
            await asyncio.sleep(0.01)
        else:
            raise AssertionError(f"{len(facts())} answers, {await written()} written")
        # The announcement reaches the other process's listener as the write commits; a
        # moment (milliseconds are enough; ample here for a loaded machine) to read it.
        await asyncio.sleep(0.5)
    texts = [str(p["text"]) for w in workers for p in w.api.sent() if p["chat_id"] == group]
    slow = [t for t in texts if "Slow down" in t]
    assert len(facts()) == 6, texts
    assert 1 <= len(slow) <= 2, texts  # once from each process at most
    assert await written() == 6


class ShardGroup:
    """One `factbot run discord` process running some of 2 shards, with its own fake Discord."""

    def __init__(self, name: str, fake: FakeDiscord, url: str, shard_ids: tuple[int, ...]
                 ) -> None:
        self.name, self.fake, self.url, self.shard_ids = name, fake, url, shard_ids
        self.process: asyncio.subprocess.Process | None = None
        self.log: list[str] = []
        self._reader: asyncio.Task[None] | None = None

    async def start(self) -> None:
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("DISCORD_", "TELEGRAM_", "FACTBOT_"))}
        env.update(DISCORD_BOT_TOKEN=discord_api.TOKEN, DISCORD_API_BASE_URL=self.fake.api_base_url,
                   DISCORD_GATEWAY_URL=self.fake.gateway_url, FACTBOT_DB=self.url,
                   FACTBOT_DISCORD_SHARD_COUNT="2",
                   FACTBOT_DISCORD_SHARD_IDS=",".join(map(str, self.shard_ids)),
                   FACTBOT_DISCORD_SYNC_COMMANDS="never")
        self.process = await asyncio.create_subprocess_exec(
            sys.executable, "-c", _RUN, "run", "discord", cwd=ROOT, env=env,
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
        self._reader = asyncio.create_task(self._read())
        await _until(lambda: any("discord: ready as" in line for line in self.log),
                     f"{self.name} ready", process=self.process, log=self.log)

    async def _read(self) -> None:
        assert self.process is not None and self.process.stderr is not None
        async for line in self.process.stderr:
            self.log.append(line.decode(errors="replace").rstrip())

    async def stop(self) -> None:
        if self.process is None:
            return
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.process.wait(), 30)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()
        if self._reader is not None:
            await self._reader

    def dailies(self) -> list[int]:
        """The channels this process posted to unprompted (the daily fact), in order."""
        return [channel for channel, _ in self.fake.channel_messages]


@pytest.mark.slow
async def test_two_discord_shard_groups_send_each_channel_its_daily_fact_once(
        postgres_url: str) -> None:
    # Channels in guilds of both shards (a guild's shard: its id >> 22, modulo 2).
    guilds = {shard: [(5000 + 2 * n + shard) << 22 for n in range(10)] for shard in (0, 1)}
    channels = {shard: {980_000_000_000_000_000 + 100 * shard + n: guilds[shard][n % 10]
                        for n in range(30)} for shard in (0, 1)}
    assert all(shard_of(g, 2) == shard for shard in (0, 1) for g in guilds[shard])
    long_ago = datetime(2020, 1, 1, tzinfo=UTC)
    async with PostgresStore(postgres_url) as store:
        for shard in (0, 1):
            for channel, guild in channels[shard].items():
                chat = ChatKey("discord", str(channel))
                await store.set_guild(chat, guild)
                await store.set_daily(chat, True, since=long_ago)
    async with FakeDiscord() as fake_a, FakeDiscord() as fake_b:
        groups = [ShardGroup("shard 0", fake_a, postgres_url, (0,)),
                  ShardGroup("shard 1", fake_b, postgres_url, (1,))]
        try:
            await asyncio.gather(*(group.start() for group in groups))
            for _ in range(6000):  # every channel marked sent, by one process or the other
                if not await _unsent(postgres_url, "discord"):
                    break
                await asyncio.sleep(0.01)
            else:
                raise AssertionError(f"daily round never settled: "
                                     f"{[len(g.dailies()) for g in groups]} sent")
            await asyncio.sleep(1.5)  # a round more: nothing further goes out
        finally:
            for group in groups:
                await group.stop()
        for group in groups:
            assert not [line for line in group.log if "Traceback" in line], group.log
            assert discord_api.TOKEN not in "\n".join(group.log)
    sent = {shard: groups[shard].dailies() for shard in (0, 1)}
    for shard in (0, 1):  # each process only its own shard's channels, each once
        assert sorted(sent[shard]) == sorted(channels[shard]), f"shard {shard}"
    assert [i["shard"] for i in fake_a.identifies] == [[0, 2]]
    assert [i["shard"] for i in fake_b.identifies] == [[1, 2]]
