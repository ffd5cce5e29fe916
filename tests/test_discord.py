"""The Discord adapter end to end: real discord.py Client + CommandTree against a fake Discord."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import sys
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import discord
import pytest

from factbot.adapters.discord import DiscordAdapter, discord_endpoints
from factbot.adapters.discord_render import render_embed
from factbot.core import FactBot
from factbot.i18n import strings
from factbot.messages import IncomingMessage, Reply, ReplyKind, fact_key
from factbot.packs import FactPack, load_packs
from factbot.settings import CooldownSettings, DiscordSettings, Secret
from tests.conftest import FACTS
from tests.fakes.discord_api import APP_ID, CHANNEL_ID, GUILD_ID, TOKEN, USER_ID, FakeDiscord

TEST_PACKS = Path(__file__).resolve().parent / "data" / "packs"


def settings_for(fake: FakeDiscord, **changes: Any) -> DiscordSettings:
    return DiscordSettings(token=Secret(TOKEN), api_base_url=fake.api_base_url,
                           gateway_url=fake.gateway_url, **changes)


@contextlib.asynccontextmanager
async def running(bot: FactBot, fake: FakeDiscord, state: Path, **changes: Any
                  ) -> AsyncIterator[DiscordAdapter]:
    """A real client connected to the fake, shut down cleanly on exit."""
    adapter = DiscordAdapter(bot, settings_for(fake, **changes), sync_state=state,
                             guild_ready_timeout=0.05)
    stop = asyncio.Event()
    task = asyncio.create_task(adapter.run(TOKEN, stop))

    async def ready() -> None:
        while not adapter.client.is_ready():
            if task.done():
                task.result()
                raise AssertionError("the client stopped before it was ready")
            await asyncio.sleep(0.01)

    await asyncio.wait_for(ready(), 10)
    try:
        yield adapter
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)


async def _mention_handlers_done() -> None:
    """Wait for every on_message handler discord.py has started, if any (it names each
    such task "discord.py: on_message").

    Gateway events are dispatched in order, so once the bot has answered something sent
    after a mention, the mention's handlers have started; handlers run concurrently, so
    that answer alone does not show they have finished. After this, whatever they did not
    post they never will.
    """
    handlers = [t for t in asyncio.all_tasks() if t.get_name() == "discord.py: on_message"]
    await asyncio.wait_for(asyncio.gather(*handlers), timeout=10)


def quotes(bot: FactBot, topic: str) -> list[str]:
    found = bot.topic(topic)
    assert found is not None
    return [f.quote for f in found[1].facts]


async def test_start_up_syncs_a_command_for_every_topic_with_the_pack_descriptions(
        factbot: FactBot, packs: tuple[FactPack, ...], fake: FakeDiscord,
        tmp_path: Path) -> None:
    """The synced payload holds each topic with its description, and /fact, /ask, ..."""
    async with running(factbot, fake, tmp_path / "sync.json"):
        pass
    assert len(fake.synced) == 1
    scope, payload = fake.synced[0]
    assert scope is None
    by_name = {c["name"]: c for c in payload}
    for pack in packs:
        for topic in pack.topics:
            assert by_name[topic.command]["description"] == topic.description
            assert by_name[topic.command]["type"] == 1
    for builtin in ("fact", "ask", "topics", "help", "source", "daily", "stats", "reload"):
        assert builtin in by_name
    fact_option = by_name["fact"]["options"][0]
    assert fact_option["name"] == "topic" and fact_option["autocomplete"] is True
    assert by_name["ask"]["options"][0]["name"] == "question"
    assert by_name["daily"]["default_member_permissions"] == 1 << 5
    assert by_name["stats"]["default_member_permissions"] == 1 << 5
    assert by_name["reload"]["default_member_permissions"] == 1 << 5
    assert by_name["reload"]["dm_permission"] is False
    assert by_name["reload"]["description"] == "Operators: reload the fact packs"
    assert by_name["hallyu"].get("default_member_permissions") is None
    assert fake.rejected == []


async def test_an_unchanged_command_set_is_not_synced_again_on_restart(
        factbot: FactBot, fake: FakeDiscord, tmp_path: Path) -> None:
    state = tmp_path / "sync.json"
    async with running(factbot, fake, state):
        pass
    async with running(factbot, fake, state):
        pass
    assert len(fake.synced) == 1
    saved = json.loads(state.read_text(encoding="utf-8"))
    assert list(saved) == [f"{APP_ID}:global"]


async def test_a_changed_command_set_is_synced_on_restart(
        factbot: FactBot, packs: tuple[FactPack, ...], fake: FakeDiscord,
        tmp_path: Path) -> None:
    state = tmp_path / "sync.json"
    async with running(factbot, fake, state):
        pass
    pack = packs[0]
    smaller = FactBot([replace(pack, topics=pack.topics[:2])])
    async with running(smaller, fake, state):
        pass
    assert len(fake.synced) == 2
    names = {c["name"] for c in fake.synced[1][1]}
    assert {t.command for t in pack.topics[2:]}.isdisjoint(names)


async def test_a_guild_setting_syncs_to_that_guild(factbot: FactBot, fake: FakeDiscord,
                                                   tmp_path: Path) -> None:
    async with running(factbot, fake, tmp_path / "sync.json", guild_id=GUILD_ID) as adapter:
        reply = await fake.interact(fake.slash("hallyu"))
        assert adapter.client.is_ready()
    assert fake.synced[0][0] == GUILD_ID
    assert reply.type == 4


async def test_a_topic_command_answers_with_an_embed_holding_the_quote(
        factbot: FactBot, fake: FakeDiscord, tmp_path: Path) -> None:
    async with running(factbot, fake, tmp_path / "sync.json"):
        callback = await fake.interact(fake.slash("hallyu"))
    assert callback.type == 4  # CHANNEL_MESSAGE_WITH_SOURCE
    assert not callback.ephemeral
    [embed] = callback.embeds
    assert any(q[:40] in embed["description"] for q in quotes(factbot, "hallyu"))
    assert embed["footer"]["text"].startswith("Source: ")
    assert "Bernama" in embed["footer"]["text"]
    assert callback.data["allowed_mentions"] == {"parse": []}
    # Another fact, Not what I asked and Show context, the last two naming the fact shown.
    [index] = [i for i, q in enumerate(quotes(factbot, "hallyu"))
               if q[:40] in embed["description"]]
    key = fact_key(quotes(factbot, "hallyu")[index])
    assert callback.custom_ids == ["factbot:next:hallyu", f"factbot:bad:hallyu:{index}:{key}",
                                   f"factbot:ctx:hallyu:{index}:{key}"]


async def test_the_callback_carries_no_authorization_header(
        factbot: FactBot, fake: FakeDiscord, tmp_path: Path) -> None:
    async with running(factbot, fake, tmp_path / "sync.json"):
        await fake.interact(fake.slash("topics"))
    callbacks = [h for m, p, h in fake.requests if p.endswith("/callback")]
    assert callbacks and all("Authorization" not in h for h in callbacks)


async def test_fact_autocomplete_answers_type_8_with_at_most_25_choices(
        factbot: FactBot, fake: FakeDiscord, tmp_path: Path) -> None:
    async with running(factbot, fake, tmp_path / "sync.json"):
        typo = await fake.interact(fake.autocomplete("fact", "topic", "halyu"))
        empty = await fake.interact(fake.autocomplete("fact", "topic", ""))
    assert typo.type == 8
    choices = typo.data["choices"]
    assert 1 <= len(choices) <= 25
    assert choices[0]["value"] == "hallyu"
    assert all(len(c["name"]) <= 100 for c in choices)
    assert 1 <= len(empty.data["choices"]) <= 25


async def test_fact_with_a_topic_option_gives_that_topic(
        factbot: FactBot, fake: FakeDiscord, tmp_path: Path) -> None:
    async with running(factbot, fake, tmp_path / "sync.json"):
        callback = await fake.interact(fake.slash("fact", {"topic": "k-pop"}))
    [embed] = callback.embeds
    assert any(q[:40] in embed["description"] for q in quotes(factbot, "hallyu"))


async def test_the_button_gives_the_next_fact_also_after_a_client_restart(
        factbot: FactBot, fake: FakeDiscord, tmp_path: Path) -> None:
    state = tmp_path / "sync.json"
    async with running(factbot, fake, state):
        first = await fake.interact(fake.slash("hallyu"))
        second = await fake.interact(fake.button(first.custom_ids[0]))
    async with running(factbot, fake, state):
        third = await fake.interact(fake.button("factbot:next:hallyu"))
    descriptions = [c.embeds[0]["description"] for c in (first, second, third)]
    assert len(set(descriptions)) == 3, descriptions
    assert second.type == 4 and third.type == 4
    assert third.custom_ids[0] == "factbot:next:hallyu"


async def test_ask_with_a_typo_still_finds_the_topic(
        factbot: FactBot, fake: FakeDiscord, tmp_path: Path) -> None:
    async with running(factbot, fake, tmp_path / "sync.json"):
        callback = await fake.interact(
            fake.slash("ask", {"question": "why is the korean wavee so popluar in malaysia?"}))
    [embed] = callback.embeds
    assert not callback.ephemeral
    assert any(q[:40] in embed["description"] for q in quotes(factbot, "hallyu"))


async def test_a_question_nothing_matches_is_answered_in_private(
        factbot: FactBot, fake: FakeDiscord, tmp_path: Path) -> None:
    async with running(factbot, fake, tmp_path / "sync.json"):
        callback = await fake.interact(
            fake.slash("ask", {"question": "what is the boiling point of tungsten"}))
    assert callback.ephemeral
    assert callback.custom_ids == []


async def test_user_text_is_escaped_and_mentions_do_not_ping() -> None:
    reply = Reply(kind=ReplyKind.INFO, text="**bold** @everyone <@123> _x_",
                  heading="**bold**")
    embed = render_embed(reply).to_dict()
    description = embed["description"]
    assert "\\*\\*bold\\*\\*" in description
    assert "@everyone" not in description
    assert "\\_x\\_" in description


async def test_embed_limits_hold_for_huge_replies() -> None:
    items = tuple((f"topic{i}", "d" * 2000) for i in range(60))
    reply = Reply(kind=ReplyKind.TOPICS, text="x", heading="h" * 500, items=items)
    embed = render_embed(reply)
    assert len(embed) <= 6000
    assert len(embed.fields) <= 25
    assert all(len(f.value or "") <= 1024 for f in embed.fields)
    assert len(embed.title or "") <= 256


async def test_a_mention_is_answered_as_free_text_when_the_intent_is_on(
        factbot: FactBot, fake: FakeDiscord, tmp_path: Path) -> None:
    async with running(factbot, fake, tmp_path / "sync.json", message_content=True):
        await fake.dispatch("MESSAGE_CREATE", fake.mention("tell me about k-pop fans"))

        async def posted() -> None:
            while not fake.channel_messages:
                await asyncio.sleep(0.01)

        await asyncio.wait_for(posted(), 10)
    intents = fake.identifies[-1]["intents"]
    assert intents & (1 << 15)  # MESSAGE_CONTENT
    channel, body = fake.channel_messages[0]
    assert channel == CHANNEL_ID
    assert any(q[:40] in body["embeds"][0]["description"] for q in quotes(factbot, "hallyu"))
    assert body["allowed_mentions"]["parse"] == []


async def test_without_the_intent_no_privileged_intent_is_requested(
        factbot: FactBot, fake: FakeDiscord, tmp_path: Path) -> None:
    async with running(factbot, fake, tmp_path / "sync.json"):
        await fake.dispatch("MESSAGE_CREATE", fake.mention("tell me about k-pop fans"))
        # Answered, and dispatched after the mention: any handler of the mention has started.
        await fake.interact(fake.slash("help"))
        await _mention_handlers_done()
    intents = fake.identifies[-1]["intents"]
    privileged = (1 << 1) | (1 << 8) | (1 << 15)  # members, presences, message content
    assert intents & privileged == 0
    assert fake.channel_messages == []


async def test_after_op_7_reconnect_the_client_resumes_and_keeps_answering(
        factbot: FactBot, fake: FakeDiscord, tmp_path: Path) -> None:
    async with running(factbot, fake, tmp_path / "sync.json"):
        await fake.interact(fake.slash("topics"))
        await fake.reconnect()
        await asyncio.wait_for(fake.wait_resumed(), 10)
        callback = await fake.interact(fake.slash("hallyu"))
    assert len(fake.identifies) == 1
    assert len(fake.resumes) == 1
    assert fake.resumes[0]["seq"] >= 2
    assert callback.embeds


async def test_a_429_on_a_callback_is_retried_after_retry_after(
        factbot: FactBot, fake: FakeDiscord, tmp_path: Path) -> None:
    async with running(factbot, fake, tmp_path / "sync.json"):
        fake.rate_limits["POST callback"] = 1
        callback = await fake.interact(fake.slash("hallyu"))
    assert fake.rate_limited == ["POST callback"]
    assert callback.embeds


async def test_a_429_on_sync_is_retried_then_succeeds(
        factbot: FactBot, fake: FakeDiscord, tmp_path: Path) -> None:
    fake.rate_limits["PUT commands"] = 2
    async with running(factbot, fake, tmp_path / "sync.json"):
        pass
    assert fake.rate_limited == ["PUT commands", "PUT commands"]
    assert len(fake.synced) == 1


async def test_a_failing_handler_gets_an_ephemeral_apology_and_the_bot_keeps_running(
        factbot: FactBot, fake: FakeDiscord, tmp_path: Path,
        caplog: pytest.LogCaptureFixture) -> None:
    async def broken(message: IncomingMessage, platform: object = None) -> Reply | None:
        raise RuntimeError("boom")

    async with running(factbot, fake, tmp_path / "sync.json") as adapter:
        original = factbot.handle
        factbot.handle = broken  # type: ignore[method-assign]  # a core fault, not a library mock
        try:
            with caplog.at_level(logging.ERROR, logger="factbot.adapters.discord"):
                apology = await fake.interact(fake.slash("hallyu"))
                button = await fake.interact(fake.button("factbot:next:hallyu"))
        finally:
            factbot.handle = original  # type: ignore[method-assign]
        after = await fake.interact(fake.slash("hallyu"))
        assert adapter.client.is_ready()
    assert apology.ephemeral and "Sorry" in apology.data["content"]
    assert button.ephemeral and "Sorry" in button.data["content"]
    assert "RuntimeError: boom" in caplog.text
    assert after.embeds


async def test_admin_is_taken_from_the_interaction_permissions(
        factbot: FactBot, fake: FakeDiscord, tmp_path: Path) -> None:
    seen: list[bool] = []
    original = factbot.handle

    async def spy(message: IncomingMessage, platform: Any = None) -> Reply | None:
        seen.append(await platform.is_admin(message))
        return await original(message, platform)

    async with running(factbot, fake, tmp_path / "sync.json"):
        factbot.handle = spy  # type: ignore[method-assign]  # observes the core, not discord.py
        try:
            await fake.interact(fake.slash("stats", manage_guild=True))
            await fake.interact(fake.slash("stats", manage_guild=False, user_id=5))
            await fake.interact(fake.slash("help", in_guild=False, user_id=6))
        finally:
            factbot.handle = original  # type: ignore[method-assign]
    assert seen == [True, False, True]


async def test_send_posts_a_fact_to_the_channel(
        factbot: FactBot, fake: FakeDiscord, tmp_path: Path) -> None:
    async with running(factbot, fake, tmp_path / "sync.json") as adapter:
        reply = await factbot.handle(IncomingMessage("/hallyu", platform="discord"))
        assert reply is not None
        await adapter.send(str(CHANNEL_ID), reply)
    channel, body = fake.channel_messages[0]
    assert channel == CHANNEL_ID
    assert body["embeds"][0]["description"].startswith("“")
    # Nobody asked for a daily fact: no "Not what I asked" under it.
    assert [c["custom_id"] for c in body["components"][0]["components"]] == [
        "factbot:next:hallyu", f"factbot:ctx:hallyu:{reply.fact}:{fact_key(reply.quote or '')}"]


async def test_a_reload_re_syncs_only_when_the_command_set_changed(
        factbot: FactBot, packs: tuple[FactPack, ...], fake: FakeDiscord,
        tmp_path: Path) -> None:
    async with running(factbot, fake, tmp_path / "sync.json"):
        for listener in factbot.reload_listeners:
            await listener()
        assert len(fake.synced) == 1
        pack = packs[0]
        factbot.load([replace(pack, topics=pack.topics[:3])])
        for listener in factbot.reload_listeners:
            await listener()
        assert len(fake.synced) == 2
    names = {c["name"] for c in fake.synced[1][1]}
    assert {t.command for t in packs[0].topics[:3]} <= names
    assert packs[0].topics[3].command not in names


async def test_the_token_never_appears_in_any_log_line(
        factbot: FactBot, fake: FakeDiscord, tmp_path: Path,
        caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG):
        async with running(factbot, fake, tmp_path / "sync.json") as adapter:
            await fake.interact(fake.slash("hallyu"))
            fake.rate_limits["POST callback"] = 1
            await fake.interact(fake.slash("topics"))
            await fake.reconnect()
            await asyncio.wait_for(fake.wait_resumed(), 10)
            await fake.interact(fake.slash("help"))
            assert TOKEN not in repr(adapter.settings)
    assert caplog.records
    assert all(TOKEN not in r.getMessage() for r in caplog.records)
    assert TOKEN not in caplog.text


async def test_a_rejected_token_is_a_config_error_without_the_token(
        factbot: FactBot, fake: FakeDiscord, tmp_path: Path) -> None:
    from factbot.errors import ConfigError

    adapter = DiscordAdapter(factbot, settings_for(fake), sync_state=tmp_path / "s.json")
    with pytest.raises(ConfigError, match="DISCORD_BOT_TOKEN was rejected") as info:
        await adapter.run("wrong-token", asyncio.Event())
    assert "wrong-token" not in str(info.value)


async def test_endpoints_are_patched_only_inside_and_restored() -> None:
    base, gateway = discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    with discord_endpoints(DiscordSettings(api_base_url="http://127.0.0.1:1/api/v10",
                                           gateway_url="ws://127.0.0.1:1/gateway/")):
        assert discord.http.Route.BASE == "http://127.0.0.1:1/api/v10"
        assert str(discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY) == \
            "ws://127.0.0.1:1/gateway/"
    assert base == discord.http.Route.BASE
    assert gateway == discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    with discord_endpoints(DiscordSettings()):
        assert base == discord.http.Route.BASE


async def test_shard_settings_select_the_auto_sharded_client(
        factbot: FactBot, fake: FakeDiscord, tmp_path: Path) -> None:
    async with running(factbot, fake, tmp_path / "sync.json", shard_count=2,
                       shard_ids=(1,)) as adapter:
        assert isinstance(adapter.client, discord.AutoShardedClient)
        callback = await fake.interact(fake.slash("hallyu"))
    assert [i["shard"] for i in fake.identifies] == [[1, 2]]
    assert callback.embeds


async def test_the_daily_fact_goes_to_the_channel_where_daily_on_was_issued(
        factbot: FactBot, fake: FakeDiscord, tmp_path: Path) -> None:
    from factbot.features.daily import SendThrottle

    async with running(factbot, fake, tmp_path / "sync.json") as adapter:
        denied = await fake.interact(fake.slash("daily", {"state": "on"}, user_id=7))
        on = await fake.interact(fake.slash(
            "daily", {"state": "on", "time": "08:30", "timezone": "Asia/Kuala_Lumpur"},
            manage_guild=True))
        morning = datetime(2030, 1, 2, 0, 31, tzinfo=UTC)  # 08:31 in Kuala Lumpur
        sent = await factbot.daily.send_due(adapter, morning, SendThrottle())
    assert "admins" in denied.embeds[0]["description"]
    assert "08:30" in on.embeds[0]["description"]
    assert sent == 1
    [(channel, body)] = fake.channel_messages
    assert channel == CHANNEL_ID
    assert body["embeds"][0]["title"] == "Fact of the day"
    assert body["embeds"][0]["description"].startswith("“")


def test_run_discord_without_a_token_exits_2_naming_the_variable(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from factbot.cli import main

    for name in ("DISCORD_BOT_TOKEN", "FACTBOT_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    assert main(["run", "discord"]) == 2
    err = capsys.readouterr().err
    assert "DISCORD_BOT_TOKEN" in err
    assert len(err.strip().splitlines()) == 1


async def test_discord_sync_registers_the_commands_in_a_guild(
        fake: FakeDiscord, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    from factbot.cli import main

    monkeypatch.delenv("FACTBOT_CONFIG", raising=False)
    monkeypatch.setenv("DISCORD_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("DISCORD_API_BASE_URL", fake.api_base_url)
    monkeypatch.setenv("DISCORD_GATEWAY_URL", fake.gateway_url)
    monkeypatch.setenv("FACTBOT_DB", str(tmp_path / "factbot.db"))
    # main() runs its own event loop; the fake keeps serving on this one.
    status = await asyncio.to_thread(main, ["discord", "sync", "--guild", str(GUILD_ID)])
    assert status == 0
    assert [scope for scope, _ in fake.synced] == [GUILD_ID]
    assert f"guild {GUILD_ID}" in capsys.readouterr().out
    assert (tmp_path / "discord-commands.json").exists()
    assert fake.identifies == []  # syncing needs no gateway connection


async def test_factbot_run_discord_serves_and_stops_cleanly_on_sigterm(
        fake: FakeDiscord, tmp_path: Path) -> None:
    root = Path(__file__).resolve().parent.parent
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "TELEGRAM_"))}
    env.pop("FACTBOT_CONFIG", None)
    env.update(DISCORD_BOT_TOKEN=TOKEN, DISCORD_API_BASE_URL=fake.api_base_url,
               DISCORD_GATEWAY_URL=fake.gateway_url, FACTBOT_DB=str(tmp_path / "factbot.db"),
               FACTBOT_LOG_LEVEL="DEBUG")
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "factbot.cli", "run", "discord", cwd=root, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        await asyncio.wait_for(fake.wait_ready(), 30)
        callback = await fake.interact(fake.slash("hallyu"), timeout=30)
        process.send_signal(signal.SIGTERM)
        out, err = await asyncio.wait_for(process.communicate(), 30)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode == 0, err.decode()
    assert callback.embeds
    assert fake.synced
    logged = out.decode() + err.decode()
    assert "discord" in logged  # DEBUG logging was on
    assert TOKEN not in logged


async def test_an_admin_can_turn_a_topic_off_in_a_channel_with_topics_options(
        factbot: FactBot, fake: FakeDiscord, tmp_path: Path) -> None:
    async with running(factbot, fake, tmp_path / "sync.json"):
        denied = await fake.interact(fake.slash("topics", {"action": "off", "topic": "hallyu"},
                                                user_id=8))
        done = await fake.interact(fake.slash("topics", {"action": "off", "topic": "hallyu"},
                                              manage_guild=True))
        listing = await fake.interact(fake.slash("topics"))
    assert "admins" in denied.embeds[0]["description"]
    assert "/hallyu is off" in done.embeds[0]["description"].replace("\\", "")
    names = [f["name"] for f in listing.embeds[0]["fields"]]
    assert "/hallyu" not in names and "/partnership" in names


async def test_a_message_content_intent_not_enabled_in_the_portal_is_a_config_error(
        factbot: FactBot, fake: FakeDiscord, tmp_path: Path) -> None:
    from factbot.errors import ConfigError

    fake.message_content_allowed = False
    adapter = DiscordAdapter(factbot, settings_for(fake, message_content=True),
                             sync_state=tmp_path / "s.json", guild_ready_timeout=0.05)
    with pytest.raises(ConfigError, match="Message Content intent"):
        await asyncio.wait_for(adapter.run(TOKEN, asyncio.Event()), 20)
    assert factbot.reload_listeners == []


async def test_reload_is_a_slash_command_that_reaches_the_core_and_answers_privately(
        packs: tuple[FactPack, ...], fake: FakeDiscord, tmp_path: Path) -> None:
    """/reload needs no Message Content intent; the core's answer goes to the asker only."""
    bot = FactBot(packs, facts_dir=FACTS, operators=[f"discord:{USER_ID}"])
    async with running(bot, fake, tmp_path / "sync.json"):
        done = await fake.interact(fake.slash("reload", manage_guild=True))
        # Manage Server in some guild is not enough: reloading changes the bot everywhere.
        denied = await fake.interact(fake.slash("reload", user_id=11, manage_guild=True))
    assert done.ephemeral and denied.ephemeral
    assert done.embeds[0]["description"].startswith("Fact packs reloaded 1 pack")
    assert denied.embeds[0]["description"].startswith("Only the bot's operators can")


async def test_a_slow_down_notice_is_never_posted_in_the_channel_for_a_mention(
        packs: tuple[FactPack, ...], fake: FakeDiscord, tmp_path: Path) -> None:
    bot = FactBot(packs, cooldown=CooldownSettings(user_per_minute=1))
    kinds: list[ReplyKind | None] = []
    original = bot.handle

    async def spy(message: IncomingMessage, platform: Any = None) -> Reply | None:
        reply = await original(message, platform)
        kinds.append(reply.kind if reply is not None else None)
        return reply

    bot.handle = spy  # type: ignore[method-assign]  # observes the core, not discord.py
    async with running(bot, fake, tmp_path / "sync.json", message_content=True):
        await fake.dispatch("MESSAGE_CREATE", fake.mention("tell me about k-pop fans"))
        await fake.dispatch("MESSAGE_CREATE", fake.mention("and the ambassador?"))
        # Someone else, after the flood: answered in the channel.
        await fake.dispatch("MESSAGE_CREATE", fake.mention("how many Koreans live in Malaysia?",
                                                           user_id=USER_ID + 1))

        async def answered_twice() -> None:
            while len(fake.channel_messages) < 2:
                await asyncio.sleep(0.01)

        await asyncio.wait_for(answered_twice(), 10)
        await _mention_handlers_done()  # the notice, if it were posted, would be here by now
    assert kinds == [ReplyKind.FACT, ReplyKind.SLOW_DOWN, ReplyKind.FACT]
    assert len(fake.channel_messages) == 2
    assert "Slow down" not in json.dumps(fake.channel_messages)
    shown = [body["embeds"][0]["description"] for _, body in fake.channel_messages]
    assert any(q[:40] in text for text in shown for q in quotes(bot, "community"))


async def test_a_command_the_cooldown_silences_gets_a_private_cooldown_notice(
        packs: tuple[FactPack, ...], fake: FakeDiscord, tmp_path: Path) -> None:
    bot = FactBot(packs, cooldown=CooldownSettings(user_per_minute=1))
    async with running(bot, fake, tmp_path / "sync.json"):
        first = await fake.interact(fake.slash("hallyu"))
        slow = await fake.interact(fake.slash("hallyu"))
        quiet = await fake.interact(fake.slash("hallyu"))
    assert not first.ephemeral and first.embeds
    assert slow.ephemeral and "Slow down" in slow.embeds[0]["description"]
    assert quiet.ephemeral
    assert quiet.data["content"] == strings("en")("slow_down")


# --- pack text with markdown and mentions --------------------------------------------------

MARKUP_QUOTE = "Fans wrote *stars*, _dots_ and `ticks` on a ||spoiler|| banner for @everyone"
MENTION_QUOTE = "Then <@123> and <@123456789012345678> waved at @here fans"
MARKUP_ARTICLE = f"""SEOUL, Jan 1 — Test *News* & Co reports.

Kim_Jr, a fan_club *lead*, said: “{MARKUP_QUOTE}.”

{MENTION_QUOTE}.
"""
MARKUP_PACK = """\
name: markup-test
source:
  outlet: Test *News* & Co
  dateline: SEOUL
  date: Jan 1
speakers:
  Kim_Jr: a fan_club *lead*
topics:
  - command: k_pop
    description: K-pop *fandom* & _more_ `code` ||spoiler|| @everyone <@123456789012345678>
    facts:
      - quote: 'Fans wrote *stars*, _dots_ and `ticks` on a ||spoiler|| banner for @everyone'
        speaker: Kim_Jr
      - quote: 'Then <@123> and <@123456789012345678> waved at @here fans'
"""


def markup_packs(tmp_path: Path) -> tuple[FactPack, ...]:
    folder = tmp_path / "packs" / "markup-test"
    folder.mkdir(parents=True)
    (folder / "pack.yaml").write_text(MARKUP_PACK, encoding="utf-8")
    (folder / "article.txt").write_text(MARKUP_ARTICLE, encoding="utf-8")
    return load_packs(folder.parent)


async def test_quotes_with_markdown_and_mentions_reach_discord_escaped(
        fake: FakeDiscord, tmp_path: Path) -> None:
    bot = FactBot(markup_packs(tmp_path))
    async with running(bot, fake, tmp_path / "sync.json"):
        first = await fake.interact(fake.slash("k_pop"))
        second = await fake.interact(fake.slash("k_pop"))
    markup = first.embeds[0]["description"]
    assert markup == ("“Fans wrote \\*stars\\*, \\_dots\\_ and \\`ticks\\` on a "
                      "\\|\\|spoiler\\|\\| banner for @\u200beveryone”")
    mentions = second.embeds[0]["description"]
    assert "<@\u200b123456789012345678>" in mentions and "@\u200bhere" in mentions
    assert "<@123>" in mentions  # not a real user id: shown, and it cannot ping (below)
    for callback in (first, second):
        assert callback.data["allowed_mentions"] == {"parse": []}
    # Author and footer are shown verbatim by Discord: no stray backslashes there.
    assert first.embeds[0]["author"]["name"] == "— Kim_Jr, a fan_club *lead*"
    assert first.embeds[0]["footer"]["text"] == "Source: Test *News* & Co, Seoul, Jan 1"


async def test_topic_lists_reach_discord_with_escaped_field_names_and_values(
        fake: FakeDiscord, tmp_path: Path) -> None:
    bot = FactBot(markup_packs(tmp_path))
    async with running(bot, fake, tmp_path / "sync.json"):
        listing = await fake.interact(fake.slash("topics"))
    [topic_field] = listing.embeds[0]["fields"]
    assert topic_field["name"] == "/k\\_pop"
    assert topic_field["value"] == ("K-pop \\*fandom\\* & \\_more\\_ \\`code\\` "
                                    "\\|\\|spoiler\\|\\| @\u200beveryone "
                                    "<@\u200b123456789012345678>")
    assert listing.data["allowed_mentions"] == {"parse": []}


# --- /topics with several packs --------------------------------------------------------------


async def test_topics_with_several_packs_shows_each_pack_as_its_own_group_of_fields(
        fake: FakeDiscord, tmp_path: Path) -> None:
    two = load_packs(TEST_PACKS)
    assert len(two) == 2
    bot = FactBot(two)
    async with running(bot, fake, tmp_path / "sync.json"):
        listing = await fake.interact(fake.slash("topics"))
    [embed] = listing.embeds
    names = [f["name"] for f in embed["fields"]]
    expected: list[str] = []
    for pack in two:
        expected.append(pack.source.line())
        expected += [f"/{t.command}" for t in pack.topics]
    assert names == [n.replace("_", "\\_") for n in expected]
    headers = [f for f in embed["fields"] if not f["name"].startswith("/")]
    assert len(headers) == 2
    assert fake.rejected == []


async def test_topics_with_many_packs_stay_within_the_embed_limits(
        fake: FakeDiscord, tmp_path: Path) -> None:
    """Too many topics for a field each: one field per pack, every pack still named."""
    base = load_packs(TEST_PACKS)
    many = [replace(pack, name=f"{pack.name}-{i}",
                    source=replace(pack.source, outlet=f"{pack.source.outlet} {i}"),
                    topics=tuple(replace(t, command=f"{t.command}{i}") for t in pack.topics))
            for i in range(4) for pack in base]
    bot = FactBot(many)
    async with running(bot, fake, tmp_path / "sync.json"):
        listing = await fake.interact(fake.slash("topics"))
    assert fake.rejected == []
    [embed] = listing.embeds
    assert [f["name"] for f in embed["fields"]] == [p.source.line() for p in many]
    for pack, shown in zip(many, embed["fields"], strict=True):
        for topic in pack.topics:
            assert f"/{topic.command.replace('_', chr(92) + '_')}" in shown["value"]


# --- the fake rejects what Discord rejects ---------------------------------------------------


async def test_the_fake_answers_400_to_bodies_over_discords_limits(
        factbot: FactBot, fake: FakeDiscord, tmp_path: Path) -> None:
    """So a regression in rendering or command building fails a test instead of passing."""
    async with running(factbot, fake, tmp_path / "sync.json") as adapter:
        channel = adapter.client.get_partial_messageable(CHANNEL_ID)
        bad_embeds = [discord.Embed(description="x" * 4097), discord.Embed(title="t" * 257),
                      discord.Embed().add_field(name="n", value="v" * 1025),
                      discord.Embed().set_footer(text="f" * 2049),
                      discord.Embed(description="d" * 4000).add_field(name="n", value="v" * 1000)
                      .add_field(name="n", value="v" * 1000),
                      discord.Embed().add_field(name="", value="v")]
        many = discord.Embed()
        for _ in range(26):
            many.add_field(name="n", value="v")
        for embed in [*bad_embeds, many]:
            with pytest.raises(discord.HTTPException) as info:
                await channel.send(embed=embed)
            assert info.value.status == 400 and info.value.code == 50035
        view = discord.ui.View()
        view.add_item(discord.ui.Button(label="x", custom_id="c" * 101))
        with pytest.raises(discord.HTTPException):
            await channel.send(content="hi", view=view)
        view.stop()
        good = {"name": "ok", "description": "fine", "type": 1}
        bad_sets = [[{**good, "name": "Upper"}], [{**good, "name": "has space"}],
                    [{**good, "name": "n" * 33}], [{**good, "description": ""}],
                    [{**good, "description": "d" * 101}],
                    [{**good, "name": f"c{i}"} for i in range(101)],
                    [good, good]]
        for commands in bad_sets:
            with pytest.raises(discord.HTTPException) as info:
                await adapter.client.http.bulk_upsert_global_commands(APP_ID, commands)
            assert info.value.status == 400 and info.value.code == 50035
        await adapter.client.http.bulk_upsert_global_commands(
            APP_ID, [good, {**good, "name": "한류-k_pop2"}])
    assert len(fake.rejected) == 8 + len(bad_sets)
    key, errors = fake.rejected[0]
    assert key == "POST message"
    assert errors["embeds"]["0"]["description"]["_errors"][0]["code"] == "BASE_TYPE_BAD_LENGTH"


async def test_a_reply_over_the_limits_would_show_as_an_apology_not_a_pass(
        factbot: FactBot, fake: FakeDiscord, tmp_path: Path) -> None:
    """The adapter's clipping is what keeps a huge reply valid: without it Discord says 400."""
    huge = Reply(kind=ReplyKind.TOPICS, text="x", heading="h" * 500,
                 items=tuple((f"topic{i}", "d" * 2000) for i in range(60)))
    async with running(factbot, fake, tmp_path / "sync.json") as adapter:
        await adapter.send(str(CHANNEL_ID), huge)
        with pytest.raises(discord.HTTPException):
            await adapter.client.get_partial_messageable(CHANNEL_ID).send(
                embed=discord.Embed(title="h" * 500))
    assert len(fake.channel_messages) == 1
    assert [key for key, _ in fake.rejected] == ["POST message"]


# --- more topics than Discord has room for ---------------------------------------------------


@pytest.mark.parametrize("copies", [1, 4], ids=["a field per topic", "a field per pack"])
async def test_pack_citations_and_topic_lines_in_grouped_topics_are_escaped(
        fake: FakeDiscord, tmp_path: Path, copies: int) -> None:
    markup = markup_packs(tmp_path)[0]
    extra = [replace(pack, name=f"{pack.name}-{i}",
                     source=replace(pack.source, outlet=f"{pack.source.outlet} {i}"),
                     topics=tuple(replace(t, command=f"{t.command}{i}") for t in pack.topics))
             for i in range(copies) for pack in load_packs(TEST_PACKS)]
    bot = FactBot([markup, *extra])
    async with running(bot, fake, tmp_path / "sync.json"):
        listing = await fake.interact(fake.slash("topics"))
    assert fake.rejected == []
    fields = listing.embeds[0]["fields"]
    assert fields[0]["name"] == "Test \\*News\\* & Co, Seoul, Jan 1"
    shown = json.dumps(fields, ensure_ascii=False)
    assert "/k\\\\_pop" in shown and "\\\\*fandom\\\\*" in shown and "@\u200beveryone" in shown
    assert "*fandom*" not in shown.replace("\\\\*", "")
    assert listing.data["allowed_mentions"] == {"parse": []}


async def test_cooldown_is_an_admin_slash_command_answered_privately(
        packs: tuple[FactPack, ...], fake: FakeDiscord, tmp_path: Path) -> None:
    bot = FactBot(packs, cooldown=CooldownSettings(user_per_minute=6))
    async with running(bot, fake, tmp_path / "sync.json"):
        shown = await fake.interact(fake.slash("cooldown", manage_guild=True))
    assert shown.ephemeral
    assert "6 answers a minute per person" in shown.embeds[0]["description"]
    [command] = [c for _, body in fake.synced[-1:] for c in body if c["name"] == "cooldown"]
    assert command["default_member_permissions"] == 1 << 5


# --- command sets that pile up: `discord sync --clear` and the start-up warning -----------


async def factbot_cli(fake: FakeDiscord, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                      *argv: str) -> int:
    """``factbot ARGV`` against the fake, in a thread: main() runs its own event loop."""
    from factbot.cli import main

    monkeypatch.setenv("DISCORD_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("DISCORD_API_BASE_URL", fake.api_base_url)
    monkeypatch.setenv("DISCORD_GATEWAY_URL", fake.gateway_url)
    monkeypatch.setenv("FACTBOT_DB", str(tmp_path / "factbot.db"))
    return await asyncio.to_thread(main, list(argv))


async def test_sync_clear_with_a_guild_empties_that_guild_set_and_leaves_the_global_one(
        fake: FakeDiscord, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """The README's set-up (a guild sync, then a global one) cleaned up with --clear."""
    assert await factbot_cli(fake, tmp_path, monkeypatch,
                             "discord", "sync", "--guild", str(GUILD_ID)) == 0
    assert await factbot_cli(fake, tmp_path, monkeypatch, "discord", "sync") == 0
    in_guild, everywhere = list(fake.commands[GUILD_ID]), list(fake.commands[None])
    assert in_guild and everywhere
    capsys.readouterr()

    status = await factbot_cli(fake, tmp_path, monkeypatch,
                               "discord", "sync", "--guild", str(GUILD_ID), "--clear")
    out, err = capsys.readouterr()
    assert status == 0, err
    assert fake.commands[GUILD_ID] == []
    assert fake.commands[None] == everywhere
    assert fake.synced[-1] == (GUILD_ID, [])
    assert out == f"cleared guild {GUILD_ID}'s command set: {len(in_guild)} commands removed\n"
    # The next start-up with discord.guild_id must sync that guild again, not trust the hash.
    saved = json.loads((tmp_path / "discord-commands.json").read_text(encoding="utf-8"))
    assert list(saved) == [f"{APP_ID}:global"]


async def test_sync_clear_without_a_guild_empties_the_global_set_whatever_the_config_says(
        fake: FakeDiscord, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    assert await factbot_cli(fake, tmp_path, monkeypatch,
                             "discord", "sync", "--guild", str(GUILD_ID)) == 0
    assert await factbot_cli(fake, tmp_path, monkeypatch, "discord", "sync") == 0
    in_guild, everywhere = list(fake.commands[GUILD_ID]), list(fake.commands[None])
    config = tmp_path / "factbot.yaml"
    config.write_text(f"discord:\n  guild_id: {GUILD_ID}\n", encoding="utf-8")
    monkeypatch.setenv("FACTBOT_CONFIG", str(config))
    capsys.readouterr()

    status = await factbot_cli(fake, tmp_path, monkeypatch, "discord", "sync", "--clear")
    out, err = capsys.readouterr()
    assert status == 0, err
    assert fake.commands[None] == []
    assert fake.commands[GUILD_ID] == in_guild
    assert out == f"cleared the global command set: {len(everywhere)} commands removed\n"


@pytest.mark.parametrize(("fault", "exit_status"), [(403, 2), ("garbage", 75)])
async def test_sync_clear_that_discord_refuses_is_a_one_line_error(
        fake: FakeDiscord, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str], fault: str | int, exit_status: int) -> None:
    fake.commands[GUILD_ID] = fake.command_set(
        [{"name": "hallyu", "description": "Hallyu", "type": 1}], GUILD_ID)
    fake.faults["GET commands"] = fault
    status = await factbot_cli(fake, tmp_path, monkeypatch,
                               "discord", "sync", "--guild", str(GUILD_ID), "--clear")
    out, err = capsys.readouterr()
    assert status == exit_status
    assert out == ""
    assert len(err.strip().splitlines()) == 1 and err.startswith("factbot: error: ")
    assert TOKEN not in err
    assert len(fake.commands[GUILD_ID]) == 1  # nothing was cleared


def doubled_warnings(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records
            if r.name == "factbot.adapters.discord" and "twice" in r.getMessage()]


async def checked(adapter: DiscordAdapter) -> None:
    """Wait for the start-up check of the command sets to finish."""
    assert adapter.command_check is not None
    await asyncio.wait_for(asyncio.shield(adapter.command_check), 10)


@pytest.mark.parametrize(("first", "then", "fix"), [
    # The README's set-up: a guild set for testing, then the bot runs globally.
    ({"guild_id": GUILD_ID}, {}, f"`factbot discord sync --guild {GUILD_ID} --clear`"),
    # Run globally once, then pinned to one guild: the global set is the stray.
    ({}, {"guild_id": GUILD_ID}, "`factbot discord sync --clear`"),
])
async def test_a_guild_set_beside_the_global_set_is_warned_about_once_at_start_up(
        factbot: FactBot, fake: FakeDiscord, tmp_path: Path,
        caplog: pytest.LogCaptureFixture, first: dict[str, Any], then: dict[str, Any],
        fix: str) -> None:
    caplog.set_level(logging.INFO, logger="factbot.adapters.discord")
    state = tmp_path / "sync.json"
    async with running(factbot, fake, state, **first) as adapter:
        await checked(adapter)
    assert doubled_warnings(caplog) == []  # one set so far
    async with running(factbot, fake, state, **then) as adapter:
        await checked(adapter)
        # Neither a reconnect nor more answers repeat it.
        await fake.reconnect()
        await asyncio.wait_for(fake.wait_resumed(), 10)
        callback = await fake.interact(fake.slash("hallyu"))
    assert callback.embeds
    [warning] = doubled_warnings(caplog)
    line = warning.getMessage()
    assert warning.levelno == logging.WARNING
    assert "\n" not in line
    assert str(GUILD_ID) in line and fix in line
    assert f"Discord shows {len(fake.commands[None])} commands twice" in line


@pytest.mark.parametrize("changes", [{}, {"guild_id": GUILD_ID}], ids=["global", "guild"])
async def test_one_command_set_alone_gives_no_warning(
        factbot: FactBot, fake: FakeDiscord, tmp_path: Path,
        caplog: pytest.LogCaptureFixture, changes: dict[str, Any]) -> None:
    caplog.set_level(logging.INFO, logger="factbot.adapters.discord")
    async with running(factbot, fake, tmp_path / "sync.json", **changes) as adapter:
        callback = await fake.interact(fake.slash("hallyu"))
        await checked(adapter)
    assert callback.embeds
    global_reads = [p for m, p, _ in fake.requests
                    if m == "GET" and p == f"/api/v10/applications/{APP_ID}/commands"]
    assert len(global_reads) == 1  # the check did look
    assert doubled_warnings(caplog) == []


async def test_the_check_reads_at_most_five_guild_sets_the_smallest_guilds_first(
        factbot: FactBot, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="factbot.adapters.discord")
    async with FakeDiscord(extra_guilds=7) as fake:
        for guild in fake.guild_ids:
            fake.commands[guild] = fake.command_set(
                [{"name": "hallyu", "description": "Hallyu", "type": 1}], guild)
        async with running(factbot, fake, tmp_path / "sync.json") as adapter:
            await checked(adapter)
        guild_reads = [p for m, p, _ in fake.requests if m == "GET" and "/guilds/" in p]
    # GUILD_ID has 2 members; the extra guilds get smaller as their ids grow.
    smallest = [GUILD_ID, GUILD_ID + 7, GUILD_ID + 6, GUILD_ID + 5, GUILD_ID + 4]
    assert guild_reads == [f"/api/v10/applications/{APP_ID}/guilds/{g}/commands"
                           for g in smallest]
    [warning] = doubled_warnings(caplog)
    line = warning.getMessage()
    assert "Discord shows 1 commands twice in guilds " in line
    assert all(f"--guild {g} --clear" in line for g in smallest)


async def test_a_check_that_discord_never_answers_does_not_delay_the_answers(
        factbot: FactBot, fake: FakeDiscord, tmp_path: Path) -> None:
    fake.faults["GET commands"] = "hang"
    async with running(factbot, fake, tmp_path / "sync.json") as adapter:
        callback = await fake.interact(fake.slash("hallyu"))
        assert adapter.command_check is not None
        assert not adapter.command_check.done()  # still waiting for Discord
    assert callback.embeds
    assert any(m == "GET" and p.endswith("/commands") for m, p, _ in fake.requests)


async def test_a_check_that_fails_is_logged_at_debug_and_the_bot_keeps_answering(
        factbot: FactBot, fake: FakeDiscord, tmp_path: Path,
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="factbot.adapters.discord")
    fake.faults["GET commands"] = 403
    async with running(factbot, fake, tmp_path / "sync.json") as adapter:
        await checked(adapter)
        callback = await fake.interact(fake.slash("hallyu"))
    assert callback.embeds
    mine = [r for r in caplog.records if r.name == "factbot.adapters.discord"]
    assert any(r.levelno == logging.DEBUG and "global Discord commands" in r.getMessage()
               for r in mine)
    assert all(r.levelno < logging.WARNING for r in mine)


async def test_factbot_run_discord_prints_the_doubled_commands_warning_once(
        fake: FakeDiscord, tmp_path: Path) -> None:
    """The README's set-up run for real: a guild set left over, then `factbot run discord`."""
    fake.commands[GUILD_ID] = fake.command_set(
        [{"name": "hallyu", "description": "Hallyu", "type": 1}], GUILD_ID)
    root = Path(__file__).resolve().parent.parent
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "TELEGRAM_"))}
    env.pop("FACTBOT_CONFIG", None)
    env.update(DISCORD_BOT_TOKEN=TOKEN, DISCORD_API_BASE_URL=fake.api_base_url,
               DISCORD_GATEWAY_URL=fake.gateway_url, FACTBOT_DB=str(tmp_path / "factbot.db"))
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "factbot.cli", "run", "discord", cwd=root, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    stderr = process.stderr
    assert stderr is not None
    lines: list[str] = []
    try:
        async def warned() -> None:
            while not any("twice" in line for line in lines):
                line = await stderr.readline()
                assert line, "factbot ended without the warning: " + "".join(lines)
                lines.append(line.decode())

        await asyncio.wait_for(warned(), 30)
        callback = await fake.interact(fake.slash("hallyu"), timeout=30)
        process.send_signal(signal.SIGTERM)
        out, err = await asyncio.wait_for(process.communicate(), 30)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode == 0
    assert callback.embeds
    logged = "".join(lines) + out.decode() + err.decode()
    [warning] = [line for line in logged.splitlines() if "twice" in line]
    assert f"`factbot discord sync --guild {GUILD_ID} --clear`" in warning
    assert TOKEN not in logged
