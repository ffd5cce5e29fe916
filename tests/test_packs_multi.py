"""Several packs at once: unique commands, free text over all, /topics by pack, /source."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from factbot.core import FactBot
from factbot.errors import PackError
from factbot.messages import IncomingMessage, Reply, ReplyKind
from factbot.packs import FactPack, load_packs
from factbot.render import MAX_REPLY

ROOT = Path(__file__).resolve().parent.parent
SOURCES = {
    "korea-malaysia": ROOT / "facts" / "korea-malaysia",
    "harbourside-redmoor": ROOT / "tests" / "data" / "packs" / "harbourside-redmoor",
    "larkspur-tern2": ROOT / "tests" / "data" / "packs" / "larkspur-tern2",
}


@pytest.fixture
def facts(tmp_path: Path) -> Path:
    for name, folder in SOURCES.items():
        shutil.copytree(folder, tmp_path / name)
    return tmp_path


@pytest.fixture
def three(facts: Path) -> tuple[FactPack, ...]:
    return load_packs(facts)


async def ask(bot: FactBot, text: str, chat: str = "c") -> Reply:
    reply = await bot.handle(IncomingMessage(text=text, chat_id=chat))
    assert reply is not None
    return reply


def test_every_pack_under_the_directory_loads(three: tuple[FactPack, ...]) -> None:
    assert [p.name for p in three] == sorted(SOURCES)
    commands = [t.command for p in three for t in p.topics]
    assert len(commands) == len(set(commands)) == 24


@pytest.mark.parametrize(("text", "topic"), [
    ("how many Koreans live in Malaysia?", "community"),
    ("who scored the goals in the Harbourside game", "goals"),
    ("how long does the Tern 2 battery last", "specs"),
    ("what did Elena Marsh say", "marsh"),
    ("tell me about the K-pop wave", "hallyu"),
    ("how much is the Tern 2 lease per month", "price"),
])
async def test_free_text_searches_all_packs(three: tuple[FactPack, ...], text: str,
                                            topic: str) -> None:
    reply = await ask(FactBot(three), text)
    assert reply.kind is ReplyKind.FACT and reply.topic == topic


async def test_topics_are_listed_under_their_pack(three: tuple[FactPack, ...]) -> None:
    reply = await ask(FactBot(three), "/topics")
    # The adapters list the sections; the plain text starts with the first pack's and names
    # every other topic, within the reply limit.
    assert reply.sections == tuple((p.source.line(), tuple((t.command, t.description)
                                                           for t in p.topics)) for p in three)
    lines = reply.text.splitlines()
    assert lines[1] == f"{three[0].source.line()}:"
    assert lines[2] == f"/{three[0].topics[0].command} — {three[0].topics[0].description}"
    named = {word for line in lines[2:] for word in line.split() if word.startswith("/")}
    assert named == {f"/{t.command}" for p in three for t in p.topics}
    assert len(reply.text) <= MAX_REPLY


async def test_one_pack_lists_its_topics_without_a_heading(facts: Path) -> None:
    single = load_packs(facts / "larkspur-tern2")
    reply = await ask(FactBot(single), "/topics")
    assert single[0].source.line() not in reply.text
    assert "/specs — Tern 2's speed, battery and size" in reply.text


async def test_source_names_the_source_of_the_last_fact_shown(
        three: tuple[FactPack, ...]) -> None:
    bot = FactBot(three)
    await ask(bot, "/price")
    reply = await ask(bot, "/source")
    assert reply.kind is ReplyKind.SOURCE
    assert reply.source == next(p for p in three if p.name == "larkspur-tern2").source.line()
    await ask(bot, "/hallyu")
    assert "Bernama" in (await ask(bot, "/source")).text
    await ask(bot, "who got sent off")
    assert "Northline Sport" in (await ask(bot, "/source")).text
    # A chat whose last fact is not known here (none yet, another process, a restart) gets
    # every source, never one that may not be its fact's.
    other = await ask(bot, "/source", chat="other")
    assert all(p.source.line() in other.text for p in three)


def test_a_command_in_two_packs_is_a_load_error_naming_both_files(facts: Path) -> None:
    path = facts / "larkspur-tern2" / "pack.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("- command: price",
                                                             "- command: goals"),
                    encoding="utf-8")
    with pytest.raises(PackError) as caught:
        load_packs(facts)
    message = str(caught.value)
    assert str(facts / "harbourside-redmoor" / "pack.yaml") in message
    assert str(facts / "larkspur-tern2" / "pack.yaml") in message
    assert "'goals'" in message
    first = next(t for p in load_packs(SOURCES["harbourside-redmoor"]) for t in p.topics
                 if t.command == "goals")
    assert f"harbourside-redmoor/pack.yaml:{first.line}" in message  # both places, with lines


def test_an_alias_colliding_with_another_packs_command_is_refused(facts: Path) -> None:
    path = facts / "harbourside-redmoor" / "pack.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace(
        "aliases: [match stats, numbers, figures]", "aliases: [match stats, trade]"),
        encoding="utf-8")
    with pytest.raises(PackError) as caught:
        load_packs(facts)
    message = str(caught.value)
    assert str(facts / "harbourside-redmoor" / "pack.yaml") in message
    assert str(facts / "korea-malaysia" / "pack.yaml") in message


def test_two_packs_with_one_name_are_refused(facts: Path) -> None:
    shutil.copytree(facts / "larkspur-tern2", facts / "zz-copy")
    path = facts / "zz-copy" / "pack.yaml"
    text = path.read_text(encoding="utf-8")
    for command in ("specs", "chen", "price", "gripper", "pilot", "company", "rivals"):
        text = text.replace(f"- command: {command}", f"- command: {command}_2")
    path.write_text(text.replace("aliases: [", "aliases: [x2 "), encoding="utf-8")
    with pytest.raises(PackError) as caught:
        load_packs(facts)
    assert "pack name 'larkspur-tern2' is also used by" in str(caught.value)


async def test_a_chat_can_turn_a_whole_pack_off_and_on(three: tuple[FactPack, ...]) -> None:
    bot = FactBot(three)

    async def admin(text: str) -> Reply:
        reply = await bot.handle(IncomingMessage(text=text, chat_id="g"))  # private: admin
        assert reply is not None
        return reply

    assert "larkspur-tern2 pack (7 topics) is off" in (await admin("/topics off larkspur-tern2")
                                                       ).text
    assert (await admin("/price")).kind is ReplyKind.FALLBACK
    assert (await admin("how long does the Tern 2 battery last")).kind is ReplyKind.FALLBACK
    listing = (await admin("/topics")).text
    assert "/specs" not in listing and "/goals" in listing and "/hallyu" in listing
    # Other chats keep the pack.
    assert (await ask(bot, "/price", chat="elsewhere")).topic == "price"
    assert "is on" in (await admin("/topics on larkspur-tern2")).text
    assert (await admin("/price")).topic == "price"


async def test_a_group_member_who_is_not_admin_cannot_turn_a_pack_off(
        three: tuple[FactPack, ...]) -> None:
    bot = FactBot(three)
    reply = await bot.handle(IncomingMessage(text="/topics off korea-malaysia", chat_id="g",
                                             is_group=True))
    assert reply is not None and "admins" in reply.text
    assert (await ask(bot, "/hallyu", chat="g")).topic == "hallyu"
