"""Discord shard groups in several processes: one of them syncs the slash commands."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest

from factbot.adapters.discord import syncs_commands
from factbot.app import build_bot
from factbot.core import FactBot
from factbot.packs import FactPack
from factbot.settings import DiscordSettings, Settings
from tests.fakes.discord_api import FakeDiscord
from tests.test_discord import running


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
