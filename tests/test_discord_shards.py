"""Discord shard groups in several processes: one of them syncs the slash commands, and each
sends the daily fact only to channels of its own shards' guilds."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest

from factbot.adapters.discord import syncs_commands
from factbot.app import build_bot
from factbot.core import FactBot
from factbot.packs import FactPack
from factbot.settings import DiscordSettings, Settings
from factbot.storage import BaseStore, ChatKey, MemoryStore
from factbot.storage.base import shard_of
from tests.fakes.discord_api import CHANNEL_ID, GUILD_ID, FakeDiscord
from tests.test_discord import running
from tests.test_store_contract import STORES, _open


async def test_of_two_shard_groups_starting_together_only_shard_0s_syncs(
        factbot: FactBot, packs: tuple[FactPack, ...], fake: FakeDiscord,
        tmp_path: Path) -> None:
    other = build_bot(Settings(), packs=packs, cooldown=False)
    async with contextlib.AsyncExitStack() as stack:
        # Each group its own host, so its own sync state: the rule, not the hash, decides.
        for bot, ids in ((other, (1,)), (factbot, (0,))):
            adapter = await stack.enter_async_context(
                running(bot, fake, tmp_path / f"sync-{ids[0]}.json", shard_count=2,
                        shard_ids=ids))
            assert adapter.client.is_ready()
        assert sorted(i["shard"] for i in fake.identifies) == [[0, 2], [1, 2]]
        callback = await fake.interact(fake.slash("hallyu"))
        assert callback.embeds  # both groups are up; the commands work wherever they run
    assert [scope for scope, _ in fake.synced] == [None]
    assert not (tmp_path / "sync-1.json").exists()


async def test_sync_commands_never_leaves_syncing_to_factbot_discord_sync(
        factbot: FactBot, fake: FakeDiscord, tmp_path: Path) -> None:
    async with running(factbot, fake, tmp_path / "sync.json", sync_commands="never") as adapter:
        await adapter.on_reload()  # a SIGHUP does not sync either
        assert adapter.client.is_ready()
    assert fake.synced == []
    async with running(factbot, fake, tmp_path / "sync.json"):  # the default: auto
        pass
    assert len(fake.synced) == 1


@pytest.mark.parametrize(("changes", "syncs"), [
    ({}, True),
    ({"shard_count": 4}, True),  # every shard in this process
    ({"shard_count": 4, "shard_ids": (0, 1)}, True),
    ({"shard_count": 4, "shard_ids": (2, 3)}, False),
    ({"sync_commands": "never"}, False),
    ({"shard_count": 4, "shard_ids": (0,), "sync_commands": "never"}, False),
])
def test_the_process_running_shard_0_is_the_one_that_syncs(
        changes: dict[str, object], syncs: bool) -> None:
    assert syncs_commands(DiscordSettings(**changes)) is syncs  # type: ignore[arg-type]


# --- the daily fact: each shard group claims its own guilds' channels -------------------

# Guild ids whose shard of 2 is 0 and 1 (shard = (guild_id >> 22) % shard_count).
ON_SHARD = {shard: (1000 + shard) << 22 for shard in (0, 1)}
DUE = datetime(2030, 1, 2, 9, 1, tzinfo=UTC)


@pytest.fixture(params=STORES)
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[BaseStore]:
    opened = await _open(request.param, request, tmp_path)
    try:
        yield opened
    finally:
        await opened.close()


async def test_a_shard_group_claims_only_the_channels_of_its_guilds(store: BaseStore) -> None:
    assert [shard_of(g, 2) for g in ON_SHARD.values()] == [0, 1]
    for chat_id in ("c0", "c1", "dm"):
        await store.set_daily(ChatKey("discord", chat_id), True, time(9, 0), "UTC",
                              since=DUE - timedelta(days=1))
    await store.set_guild(ChatKey("discord", "c0"), ON_SHARD[0])
    await store.set_guild(ChatKey("discord", "c1"), ON_SHARD[1])
    one = await store.claim_daily("discord", DUE, shards=(2, frozenset({1})))
    assert [chat for chat, _ in one] == ["c1"]
    # A chat with no guild (a DM) is shard 0's, as is the command sync.
    zero = await store.claim_daily("discord", DUE, shards=(2, frozenset({0})))
    assert sorted(chat for chat, _ in zero) == ["c0", "dm"]
    assert await store.claim_daily("discord", DUE) == []  # each claimed once, all told


async def test_without_shards_every_channel_is_claimed(store: BaseStore) -> None:
    for chat_id, guild in (("c0", ON_SHARD[0]), ("c1", ON_SHARD[1])):
        await store.set_daily(ChatKey("discord", chat_id), True, time(9, 0), "UTC",
                              since=DUE - timedelta(days=1))
        await store.set_guild(ChatKey("discord", chat_id), guild)
    claimed = await store.claim_daily("discord", DUE, shards=None)
    assert sorted(chat for chat, _ in claimed) == ["c0", "c1"]


async def test_daily_on_in_a_guild_is_sent_by_the_shard_group_running_that_guild(
        packs: tuple[FactPack, ...], fake: FakeDiscord, tmp_path: Path) -> None:
    from factbot.features.daily import SendThrottle

    store = MemoryStore()
    own = shard_of(GUILD_ID, 2)
    bots = [build_bot(Settings(), store, packs=packs, cooldown=False) for _ in range(2)]
    async with running(bots[0], fake, tmp_path / "a.json", shard_count=2,
                       shard_ids=(1 - own,)) as other:
        on = await fake.interact(fake.slash(
            "daily", {"state": "on", "time": "08:30", "timezone": "UTC"}, manage_guild=True))
        assert "08:30" in on.embeds[0]["description"]
        assert other.daily_shards == (2, frozenset({1 - own}))
        morning = datetime(2030, 1, 2, 8, 31, tzinfo=UTC)
        assert await bots[0].daily.send_due(other, morning, SendThrottle()) == 0
    async with running(bots[1], fake, tmp_path / "b.json", shard_count=2,
                       shard_ids=(own,)) as mine:
        assert await bots[1].daily.send_due(mine, morning, SendThrottle()) == 1
    [(channel, body)] = fake.channel_messages
    assert channel == CHANNEL_ID
    assert body["embeds"][0]["title"] == "Fact of the day"


def test_db_migrate_keeps_each_channels_guild(
        tmp_path: Path, postgres_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    from factbot.cli import main
    from factbot.storage.postgres import PostgresStore
    from factbot.storage.sqlite import SqliteStore

    async def fill() -> None:
        async with SqliteStore(tmp_path / "state.db") as store:
            for chat_id, guild in (("c0", ON_SHARD[0]), ("c1", ON_SHARD[1])):
                await store.set_daily(ChatKey("discord", chat_id), True, time(9, 0), "UTC",
                                      since=DUE - timedelta(days=1))
                await store.set_guild(ChatKey("discord", chat_id), guild)

    async def claimed_by_shard_1() -> list[str]:
        async with PostgresStore(postgres_url) as store:
            return [c for c, _ in await store.claim_daily("discord", DUE,
                                                          shards=(2, frozenset({1})))]

    asyncio.run(fill())
    assert main(["db", "migrate", "--db", str(tmp_path / "state.db"), "--to", postgres_url]) == 0
    capsys.readouterr()
    assert asyncio.run(claimed_by_shard_1()) == ["c1"]
