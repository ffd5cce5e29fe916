"""The command table is the one source of every list of built-in commands."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from factbot import commands
from factbot.adapters.discord import DiscordAdapter
from factbot.adapters.discord_render import clip
from factbot.commands import Access, Menu, table
from factbot.core import NOT_ADMIN, NOT_OPERATOR, FactBot
from factbot.errors import PackError
from factbot.evaluate import Case, evaluate
from factbot.messages import IncomingMessage, Reply, ReplyKind
from factbot.packs import FactPack, load_packs
from factbot.router import decide
from factbot.settings import DiscordSettings
from factbot.storage import ChatKey, MemoryStore

PACKS = Path(__file__).resolve().parent / "data" / "packs"

# Arguments that make each command do what its declaration guards (a change, a read).
GUARDED_ARGS = {"daily": "on 08:30 UTC", "cooldown": "4 15", "topics": "off trade",
                "stats": "", "reload": "", "language": "ko"}


class Member:
    """A group member who is no admin there."""

    name = "telegram"

    async def is_admin(self, message: IncomingMessage) -> bool:
        return False

    async def send(self, chat_id: str, reply: Reply) -> None:
        raise AssertionError("nothing is sent unprompted here")


def test_each_command_is_declared_once_and_ordered_for_the_menus() -> None:
    names = [c.name for c in table()]
    assert len(names) == len(set(names))
    assert set(names) == set(commands.MENU_ORDER)
    assert [c.name for c in commands.menu_commands()] == [n for n in names if n != "start"]


@pytest.mark.parametrize("name", sorted(commands.names()))
def test_no_topic_may_take_a_built_in_name(tmp_path: Path, name: str) -> None:
    folder = tmp_path / "pack"
    folder.mkdir()
    source = PACKS / "larkspur-tern2"
    (folder / "article.txt").write_bytes((source / "article.txt").read_bytes())
    text = (source / "pack.yaml").read_text(encoding="utf-8")
    (folder / "pack.yaml").write_text(text.replace("command: specs", f"command: {name}", 1),
                                      encoding="utf-8")
    with pytest.raises(PackError, match="built-in command name"):
        load_packs(folder)


@pytest.mark.parametrize("command", [c for c in table() if c.bare], ids=lambda c: c.name)
def test_bare_built_ins_and_their_phrases_reach_their_handler(
        factbot: FactBot, command: commands.Command) -> None:
    assert decide(factbot.matcher, command.name).intent == command.name
    routed = [p for p in command.phrases if decide(factbot.matcher, p).intent == command.name]
    assert len(routed) >= len(command.phrases) // 2, routed


@pytest.mark.parametrize("command", [
    c for c in table() if c.required(GUARDED_ARGS.get(c.name, "")) is not Access.ANYONE],
    ids=lambda c: c.name)
async def test_permission_comes_from_the_declaration(
        packs: tuple[FactPack, ...], command: commands.Command) -> None:
    """A member who is no admin is refused every guarded command, and nothing changes."""
    store = MemoryStore()
    bot = FactBot(packs, store, operators={"telegram:1"})
    text = f"/{command.name} {GUARDED_ARGS[command.name]}".strip()
    message = IncomingMessage(text=text, platform="telegram", chat_id="-5", user_id="2",
                              is_group=True, addressed=True)
    before = await store.chat_settings(ChatKey("telegram", "-5"))
    reply = await bot.handle(message, Member())
    needed = command.required(GUARDED_ARGS[command.name])
    assert reply is not None
    assert reply.text == (NOT_OPERATOR if needed is Access.OPERATOR else NOT_ADMIN)
    assert await store.chat_settings(ChatKey("telegram", "-5")) == before


def test_every_guarded_command_has_arguments_in_this_test() -> None:
    guarded = {c.name for c in table()
               if c.access is not Access.ANYONE or c.changes is not Access.ANYONE}
    assert guarded <= set(GUARDED_ARGS)


def test_the_discord_tree_is_the_table(packs: tuple[FactPack, ...], tmp_path: Path) -> None:
    adapter = DiscordAdapter(FactBot(packs), DiscordSettings(), sync_state=tmp_path / "s.json")
    registered = {c["name"]: c for c in adapter.payload()}
    topics = {t.command for p in packs for t in p.topics}
    assert set(registered) == topics | {c.name for c in commands.menu_commands()}
    for command in commands.menu_commands():
        sent = registered[command.name]
        assert sent["description"] == clip(command.description, 100)
        assert [o["name"] for o in sent.get("options", [])] == [o.name for o in command.options]
        assert [o["required"] for o in sent.get("options", [])] == \
            [o.required for o in command.options]
        admins = command.menu is Menu.ADMINS
        assert (sent["default_member_permissions"] is not None) is admins


def test_the_everyone_menu_is_the_topics_and_the_table(factbot: FactBot) -> None:
    menu = factbot.commands()
    topics = factbot.topic_commands()
    assert menu[:len(topics)] == topics
    assert [n for n, _ in menu[len(topics):]] == [
        c.name for c in table() if c.menu is Menu.EVERYONE]


async def test_help_speaks_of_the_loaded_pack_only() -> None:
    bot = FactBot(load_packs(PACKS / "larkspur-tern2"))
    reply = await bot.handle(IncomingMessage(text="/help"))
    assert reply is not None and reply.kind is ReplyKind.HELP
    assert "/specs" in reply.text
    for word in ("hallyu", "Korea", "Malaysia"):
        assert word not in reply.text


def test_eval_counts_a_built_in_by_the_kind_its_declaration_gives(factbot: FactBot) -> None:
    cases = [Case(text=f"/{c.name}", topic=c.name) for c in table()
             if c.kind is not ReplyKind.INFO and c.name not in ("fact", "ask")]
    report = evaluate(factbot, cases)
    assert report.on_total == len(cases) and report.on_correct == len(cases)
    wrong = [dataclasses.replace(c, topic="source") for c in cases if c.topic == "help"]
    assert evaluate(factbot, wrong).on_correct == 0


async def test_help_names_only_commands_that_exist(factbot: FactBot) -> None:
    reply = await factbot.handle(IncomingMessage(text="/help"))
    assert reply is not None
    topics = {name for name, _ in factbot.topic_commands()}
    assert {name for name, _ in reply.items} <= commands.names() | topics


def test_a_cooldown_menu_with_only_per_chat_asks_for_the_usage() -> None:
    cooldown = commands.by_name()["cooldown"]
    text = cooldown.arguments({"per_user": None, "per_chat": 15, "reset": None})
    from factbot.features.cooldown import parse_cooldown

    assert parse_cooldown(text) is None  # the usage line, not the setting shown back
    assert parse_cooldown(cooldown.arguments({"per_user": 4, "per_chat": 15})) == (4, 15)
    assert cooldown.arguments({"reset": True}) == "default"
