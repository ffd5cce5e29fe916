"""Hot reload: SIGHUP and /reload swap packs in; a bad pack is refused and the bot keeps going."""

from __future__ import annotations

import asyncio
import io
import logging
import os
import shutil
import signal
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from factbot.adapters.launch import reload_on_sighup
from factbot.messages import Reply, ReplyKind
from factbot.packs import load_packs
from factbot.settings import Settings
from factbot.storage import BaseStore, ChatKey, MemoryStore
from factbot.storage.base import ChatSettings
from tests.conftest import FACTS
from tests.harness import Harness

PACKS = Path(__file__).resolve().parent / "data" / "packs"
SPECS = "/specs"
BATTERY = "Its battery lasts 14 hours on a single charge and recharges in 90 minutes, " \
          "long enough to cover two full shifts."


@pytest.fixture
def facts(tmp_path: Path) -> Path:
    root = tmp_path / "facts"
    shutil.copytree(PACKS / "larkspur-tern2", root / "larkspur-tern2")
    return root


def pack_yaml(facts: Path) -> Path:
    return facts / "larkspur-tern2" / "pack.yaml"


def edit(facts: Path, old: str, new: str) -> None:
    path = pack_yaml(facts)
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def reloadable(facts: Path, store: BaseStore | None = None, *, operators: tuple[str, ...] = (),
               platform: str = "telegram") -> Harness:
    """A bot from build_bot on the packs in ``facts``, which it can reload."""
    return Harness(Settings(facts=facts, operators=operators), store, platform=platform)


async def test_good_then_bad_then_good_with_the_bot_answering_throughout(
        facts: Path, caplog: pytest.LogCaptureFixture) -> None:
    h = reloadable(facts)
    bot = h.bot
    assert (await h.ask("how long does the battery last")).quote == BATTERY

    # Good: a new alias takes effect without a restart.
    assert (await h.ask("/stamina")).kind is ReplyKind.FALLBACK
    edit(facts, "aliases: [specifications,", "aliases: [stamina, specifications,")
    result = await bot.reload()
    assert result.ok and not result.changed  # an alias is not a menu command
    assert (await h.ask("/stamina")).topic == "specs"

    # Bad: a quote that is not in the article. Refused, logged with file and line.
    edit(facts, "Its battery lasts 14 hours", "Its battery lasts 40 hours")
    with caplog.at_level(logging.ERROR, logger="factbot.core"):
        result = await bot.reload()
    assert not result.ok and "not verbatim" in result.message
    line = next(n for n, text in enumerate(
        pack_yaml(facts).read_text(encoding="utf-8").splitlines(), 1) if "40 hours" in text)
    assert f"{pack_yaml(facts)}:{line}:" in caplog.text
    assert (await h.ask("how long does the battery last")).quote == BATTERY
    assert (await h.ask("/stamina")).topic == "specs"

    # Good again: fixed, and a topic renamed, which changes the menus.
    edit(facts, "Its battery lasts 40 hours", "Its battery lasts 14 hours")
    edit(facts, "- command: specs", "- command: tern_specs")
    result = await bot.reload()
    assert result.ok and result.changed
    assert (await h.ask("/tern_specs")).topic == "tern_specs"
    assert (await h.ask("how long does the battery last")).quote == BATTERY
    assert "tern_specs" in [c for c, _ in bot.commands()]


async def test_listeners_re_register_commands_only_when_the_menu_changed(facts: Path) -> None:
    bot = reloadable(facts).bot
    calls: list[list[str]] = []

    async def republish() -> None:
        calls.append([c for c, _ in bot.commands()])

    bot.reload_listeners.append(republish)
    assert (await bot.reload()).ok
    assert calls == []  # same commands, nothing to publish
    edit(facts, "description: \"Tern 2's speed, battery and size\"",
         "description: Speed and battery")
    assert (await bot.reload()).changed
    edit(facts, "- command: rivals", "- command: competitors_")
    assert (await bot.reload()).changed
    assert len(calls) == 2 and "competitors_" in calls[1] and "rivals" not in calls[1]


async def test_a_failing_listener_does_not_undo_the_reload(
        facts: Path, caplog: pytest.LogCaptureFixture) -> None:
    bot = reloadable(facts).bot

    async def broken() -> None:
        raise RuntimeError("platform down")

    bot.reload_listeners.append(broken)
    edit(facts, "- command: rivals", "- command: competition_")
    with caplog.at_level(logging.ERROR, logger="factbot.core"):
        result = await bot.reload()
    assert result.ok and bot.topic("competition_") is not None
    assert "reload listener failed" in caplog.text


async def test_reload_admin_command(facts: Path) -> None:
    h = reloadable(facts, operators=("telegram:7",))
    edit(facts, "- command: rivals", "- command: competition_")
    # A group admin is not enough: anyone can make a group and be its admin.
    denied = await h.ask("/reload", chat="g", user="8", group=True, admin=True)
    assert "Only the bot's operators" in denied.text
    assert h.bot.topic("competition_") is None
    done = await h.ask("/reload", chat="g", user="7", group=True, admin=False)
    assert done.kind is ReplyKind.INFO
    assert "reloaded 1 pack(s), 7 topics" in done.text
    assert h.bot.topic("competition_") is not None
    edit(facts, "- command: competition_", "- command: BAD NAME")
    refused = await h.ask("/reload", chat="g", user="7", group=True, admin=False)
    assert "refused" in refused.text and "Still serving the last good packs" in refused.text
    assert h.bot.topic("competition_") is not None
    assert h.sent == []  # a reload posts nothing unprompted


async def test_reload_is_not_for_whoever_writes_to_the_bot_privately(facts: Path) -> None:
    """Adapters call the user of a private chat its admin; reloading is bot-wide."""
    h = reloadable(facts)
    edit(facts, "- command: rivals", "- command: competition_")
    reply = await h.ask("/reload", chat="dm", user="dm", admin=True)
    assert "Only the bot's operators" in reply.text
    assert h.bot.topic("competition_") is None


async def test_a_bot_without_a_facts_dir_says_it_cannot_reload(facts: Path) -> None:
    bot = Harness(packs=load_packs(facts)).bot  # packs given, not read from a directory
    result = await bot.reload()
    assert not result.ok and "facts directory" in result.message


async def test_sighup_reloads_the_packs(facts: Path) -> None:
    bot = reloadable(facts).bot
    edit(facts, "- command: rivals", "- command: competition_")
    with reload_on_sighup(bot) as pending:
        os.kill(os.getpid(), signal.SIGHUP)

        async def reloaded() -> None:
            while bot.topic("competition_") is None:
                await asyncio.sleep(0.01)

        await asyncio.wait_for(reloaded(), timeout=10)
        await asyncio.gather(*pending)
    assert bot.topic("competition_") is not None


class GatedStore(MemoryStore):
    """A store whose rotation waits for a gate: a message stays 'being handled'."""

    def __init__(self) -> None:
        super().__init__()
        self.entered = asyncio.Event()
        self.gate = asyncio.Event()

    async def next_rotation(self, chat: ChatKey, topic: str, count: int) -> int:
        self.entered.set()
        await self.gate.wait()
        return await super().next_rotation(chat, topic, count)


async def test_reload_while_a_message_is_being_handled_gives_no_mixed_answer(
        facts: Path) -> None:
    store = GatedStore()
    h = reloadable(facts, store)
    bot = h.bot
    task = asyncio.create_task(h.push("/rivals", chat="c1"))
    await asyncio.wait_for(store.entered.wait(), timeout=10)
    # While the command waits on storage, the pack changes: new source, rivals gone.
    edit(facts, "outlet: Asia Tech Wire", "outlet: Priya Raman")
    edit(facts, "- command: rivals", "- command: competition_")
    assert (await bot.reload()).ok
    store.gate.set()
    reply = await asyncio.wait_for(task, timeout=10)
    assert reply is not None and reply.kind is ReplyKind.FACT
    # The answer is wholly the old pack's: old topic, old citation.
    assert reply.topic == "rivals"
    assert reply.source is not None and "Asia Tech Wire" in reply.source
    assert "Priya Raman" not in reply.source
    # The next message sees wholly the new one.
    after = await h.ask("/competition_", chat="c2")
    assert after.topic == "competition_"
    assert after.source is not None and "Priya Raman" in after.source


class GatedUnmatchedStore(MemoryStore):
    """A store that holds an unanswered question at the gate."""

    def __init__(self) -> None:
        super().__init__()
        self.entered = asyncio.Event()
        self.gate = asyncio.Event()

    async def record_unmatched(self, platform: str, text: str, user_hash: str,
                               at: datetime | None = None) -> None:
        self.entered.set()
        await self.gate.wait()
        await super().record_unmatched(platform, text, user_hash, at)


async def test_an_unanswered_question_during_a_reload_lists_the_topics_it_was_judged_on(
        facts: Path) -> None:
    store = GatedUnmatchedStore()
    h = reloadable(facts, store)
    bot = h.bot
    task = asyncio.create_task(h.push("what is the capital of Peru", chat="c1"))
    await asyncio.wait_for(store.entered.wait(), timeout=10)
    edit(facts, "- command: rivals", "- command: competition_")
    assert (await bot.reload()).ok
    store.gate.set()
    reply = await asyncio.wait_for(task, timeout=10)
    assert reply is not None and reply.kind is ReplyKind.FALLBACK
    commands = [c for c, _ in reply.items]
    assert "rivals" in commands and "competition_" not in commands


async def test_the_console_user_can_reload(facts: Path) -> None:
    """`factbot chat` is run by whoever runs the bot: its user is an operator."""
    from factbot.adapters.console import ConsoleAdapter
    from factbot.app import build_bot
    from factbot.settings import Settings

    bot = build_bot(Settings(facts=facts), console=True)
    edit(facts, "- command: rivals", "- command: competition_")
    out = io.StringIO()
    await ConsoleAdapter(bot, stdin=io.StringIO("/reload\n/competition_\n"), stdout=out).run()
    assert "Fact packs reloaded 1 pack(s), 7 topics" in out.getvalue()
    assert "Stackwise and Binmatic" in out.getvalue()


async def test_a_platform_named_console_is_not_trusted_with_reload(facts: Path) -> None:
    """Permission comes from the operators list, never from the platform's name."""
    h = reloadable(facts, platform="console")
    reply = await h.ask("/reload", chat="c", user="7", admin=True)
    assert "Only the bot's operators" in reply.text
    assert h.sent == []


async def test_questions_keep_being_answered_while_reloads_come_and_go(facts: Path) -> None:
    """A stream of questions runs through good, refused and good reloads without a miss."""
    h = reloadable(facts)
    bot = h.bot
    done = asyncio.Event()
    replies: list[Reply] = []

    async def keep_asking() -> None:
        while not done.is_set():
            replies.append(await h.ask("how long does the battery last"))
            await asyncio.sleep(0)

    asker = asyncio.create_task(keep_asking())
    results = []
    for old, new in [("- command: rivals", "- command: competition_"),  # good
                     ("Its battery lasts 14 hours", "Its battery lasts 41 hours"),  # bad
                     ("Its battery lasts 41 hours", "Its battery lasts 14 hours")]:  # good
        edit(facts, old, new)
        results.append((await bot.reload()).ok)
        await asyncio.sleep(0.01)
    done.set()
    await asyncio.wait_for(asker, timeout=10)
    assert results == [True, False, True]
    assert len(replies) > 3
    assert {r.quote for r in replies} == {BATTERY}


class ReloadingStore(MemoryStore):
    """A store whose first settings read waits while the packs are reloaded under it."""

    def __init__(self) -> None:
        super().__init__()
        self.reload: asyncio.Future[Any] | None = None

    async def chat_settings(self, chat: ChatKey) -> ChatSettings:
        settings = await super().chat_settings(chat)
        if self.reload is not None:
            reload, self.reload = self.reload, None
            await reload
        return settings


@pytest.mark.parametrize("text", ["why is kpop so popular in malaysia", "/hallyu", "/fact",
                                  "/source", "/ask how many koreans live in malaysia"])
async def test_a_reload_while_a_message_waits_never_mixes_two_packs(
        tmp_path: Path, text: str) -> None:
    """The quote and its source come from one set of packs, the one the message was decided
    on, even when another article replaces it while the message waits on the store."""
    facts = tmp_path / "facts"
    shutil.copytree(FACTS / "korea-malaysia", facts / "korea-malaysia")
    store = ReloadingStore()
    h = Harness(Settings(facts=facts), store)
    old_article = (facts / "korea-malaysia" / "article.txt").read_text(encoding="utf-8")
    shutil.rmtree(facts / "korea-malaysia")
    shutil.copytree(PACKS / "larkspur-tern2", facts / "larkspur-tern2")
    edit(facts, "- command: price", "- command: hallyu")  # the same command, another article
    store.reload = asyncio.ensure_future(h.bot.reload())
    reply = await h.ask(text)
    assert store.reload is None and h.bot.packs[0].name == "larkspur-tern2"  # it reloaded
    assert "Bernama" in (reply.source or reply.text)
    assert "Larkspur" not in reply.text and "Asia Tech Wire" not in reply.text
    if reply.quote:
        assert reply.quote in " ".join(old_article.split())
