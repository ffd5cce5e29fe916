"""Discord in the member's language, and the "Not what I asked" and "Show context" buttons.

The real discord.py client against the fake Discord (tests/fakes/discord_api.py): what is
asserted is what the fake received.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from factbot.adapters.discord_render import (
    parse_context_custom_id,
    parse_wrong_custom_id,
    render_embed,
)
from factbot.app import build_bot
from factbot.commands import menu_commands
from factbot.core import FactBot
from factbot.i18n import catalogue, strings
from factbot.messages import Reply, ReplyKind, fact_key
from factbot.packs import FactPack, paragraphs
from factbot.settings import CooldownSettings, Settings
from tests.fakes.discord_api import Callback, FakeDiscord
from tests.test_discord import quotes, running

KO, MS, EN = strings("ko"), strings("ms"), strings("en")


def labels(callback: Callback | dict) -> list[str]:
    body = callback.data if isinstance(callback, Callback) else callback
    return [c["label"] for row in body.get("components") or [] for c in row["components"]]


def fact_index(factbot: FactBot, topic: str, description: str) -> int:
    [index] = [i for i, q in enumerate(quotes(factbot, topic)) if q[:40] in description]
    return index


async def posted(fake: FakeDiscord, count: int) -> None:
    """Wait until the bot has posted ``count`` channel messages (mention replies)."""
    async def wait() -> None:
        while len(fake.channel_messages) < count:
            await asyncio.sleep(0.01)

    await asyncio.wait_for(wait(), 10)


# --- the member's language -----------------------------------------------------------------


async def test_a_korean_locale_user_gets_korean_words_around_the_quote(
        factbot: FactBot, fake: FakeDiscord, tmp_path: Path) -> None:
    async with running(factbot, fake, tmp_path / "sync.json"):
        fact = await fake.interact(fake.slash("hallyu", locale="ko"))
        english = await fake.interact(fake.slash("hallyu", locale="en-US"))
        unknown = await fake.interact(fake.slash(
            "ask", {"question": "what is the boiling point of tungsten"}, locale="ko"))
        helped = await fake.interact(fake.slash("help", locale="ko"))
    [embed] = fact.embeds
    source = embed["footer"]["text"]
    assert source.startswith("출처: ") and "Bernama" in source
    assert labels(fact) == [KO("button.more"), KO("button.wrong"), KO("button.context")]
    # The quote itself stays in the article's language.
    assert any(q[:40] in embed["description"] for q in quotes(factbot, "hallyu"))
    assert english.embeds[0]["footer"]["text"].startswith("Source: ")
    assert labels(english) == [EN("button.more"), EN("button.wrong"), EN("button.context")]
    assert unknown.ephemeral
    assert KO("fallback.heading") in json.dumps(unknown.embeds, ensure_ascii=False)
    assert KO("help.heading") in json.dumps(helped.embeds, ensure_ascii=False)


async def test_a_malay_question_in_a_plain_message_is_answered_in_malay(
        factbot: FactBot, fake: FakeDiscord, tmp_path: Path) -> None:
    """Discord has no Malay locale, and a plain message no locale at all: the question's
    language decides."""
    async with running(factbot, fake, tmp_path / "sync.json", message_content=True):
        await fake.dispatch("MESSAGE_CREATE", fake.mention(
            "ceritakan tentang hallyu di Malaysia"))
        await posted(fake, 1)
    _, body = fake.channel_messages[0]
    assert body["embeds"][0]["footer"]["text"].startswith("Sumber: ")
    assert labels(body) == [MS("button.more"), MS("button.wrong"), MS("button.context")]


async def test_language_ms_in_a_channel_makes_plain_messages_malay_not_a_korean_locale(
        factbot: FactBot, fake: FakeDiscord, tmp_path: Path) -> None:
    async with running(factbot, fake, tmp_path / "sync.json", message_content=True):
        before = await fake.interact(fake.slash("hallyu"))
        setting = await fake.interact(fake.slash("language", {"language": "ms"},
                                                 manage_guild=True))
        await fake.dispatch("MESSAGE_CREATE", fake.mention("hallyu"))
        await posted(fake, 1)
        korean = await fake.interact(fake.slash("hallyu", locale="ko"))
    assert before.embeds[0]["footer"]["text"].startswith("Source: ")
    assert setting.ephemeral
    _, body = fake.channel_messages[0]
    assert body["embeds"][0]["footer"]["text"].startswith("Sumber: ")
    assert labels(body)[0] == MS("button.more")
    # The member's own app language comes before the channel's setting.
    assert korean.embeds[0]["footer"]["text"].startswith("출처: ")


async def test_autocomplete_describes_topics_in_the_users_language(
        factbot: FactBot, packs: tuple[FactPack, ...], fake: FakeDiscord,
        tmp_path: Path) -> None:
    found = factbot.topic("hallyu")
    assert found is not None
    korean = found[1].described("ko")
    assert korean != found[1].description  # the default pack describes its topics in Korean
    async with running(factbot, fake, tmp_path / "sync.json"):
        choices = await fake.interact(fake.autocomplete("fact", "topic", "hallyu", locale="ko"))
    first = choices.data["choices"][0]
    assert first["value"] == "hallyu"
    assert first["name"].startswith(f"hallyu — {korean[:20]}")


# --- the command menus ----------------------------------------------------------------------


async def test_every_command_and_option_is_described_in_korean_within_discords_limits(
        factbot: FactBot, packs: tuple[FactPack, ...], fake: FakeDiscord,
        tmp_path: Path) -> None:
    async with running(factbot, fake, tmp_path / "sync.json"):
        pass
    assert fake.rejected == []  # the fake checks localized descriptions like Discord
    [(_, payload)] = fake.synced
    by_name = {c["name"]: c for c in payload}
    ko = strings("ko")
    for spec in menu_commands():
        command = by_name[spec.name]
        assert command["description_localizations"]["ko"] == ko.command(spec)[:100]
        for option, declared in zip(command["options"], spec.options, strict=True):
            assert option["description_localizations"]["ko"] == ko.option(spec, declared)
    assert "language" in by_name
    assert by_name["language"]["default_member_permissions"] == 1 << 5
    for pack in packs:
        for topic in pack.topics:
            described = by_name[topic.command]["description_localizations"]["ko"]
            assert described == topic.described("ko")[:100]
    texts = [text for c in payload for text in (
        [*c["description_localizations"].values()]
        + [t for o in c.get("options") or [] for t in o["description_localizations"].values()])]
    assert texts and all(1 <= len(t) <= 100 for t in texts)
    assert all(set(c["description_localizations"]) == {"ko"} for c in payload)
    assert len(by_name) == len(payload)


async def test_a_changed_translation_syncs_again(
        factbot: FactBot, fake: FakeDiscord, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    state = tmp_path / "sync.json"
    async with running(factbot, fake, state):
        pass
    async with running(factbot, fake, state):
        pass
    assert len(fake.synced) == 1
    # A translator edits the catalogue (read once per process; patched here in place).
    texts = catalogue("ko")
    assert isinstance(texts, dict)
    monkeypatch.setitem(texts, "command.help", texts["command.help"] + "!")
    async with running(factbot, fake, state):
        pass
    assert len(fake.synced) == 2
    help_command = next(c for c in fake.synced[1][1] if c["name"] == "help")
    assert help_command["description_localizations"]["ko"].endswith("!")


# --- "Not what I asked" ------------------------------------------------------------------------


async def test_not_what_i_asked_is_recorded_once_per_member_and_told_them_alone(
        packs: tuple[FactPack, ...], fake: FakeDiscord, tmp_path: Path) -> None:
    bot = build_bot(Settings(), packs=packs, cooldown=False)
    question = "why is the korean wave so popular in malaysia?"
    async with running(bot, fake, tmp_path / "sync.json"):
        answer = await fake.interact(fake.slash("ask", {"question": question}))
        wrong = answer.custom_ids[1]
        assert parse_wrong_custom_id(wrong) is not None
        assert answer.message_id is not None
        first = await fake.interact(fake.button(wrong, message_id=answer.message_id))
        again = await fake.interact(fake.button(wrong, message_id=answer.message_id))
        other = await fake.interact(fake.button(wrong, message_id=answer.message_id,
                                                user_id=5, locale="ko"))
    assert first.type == 4 and first.ephemeral and first.embeds == []
    assert first.data["content"] == EN("feedback.thanks")
    assert again.ephemeral and again.data["content"] == EN("feedback.already")
    assert "already" in again.data["content"]
    assert other.ephemeral and other.data["content"] == KO("feedback.thanks")
    assert fake.channel_messages == [] and fake.followups == []  # nothing in the channel
    rows = await bot.store.feedback_rows(datetime.now(UTC) - timedelta(hours=1))
    assert len(rows) == 2  # one per member
    topic, index, key = parse_wrong_custom_id(wrong) or ("", -1, "")
    assert key == fact_key(quotes(bot, topic)[index])
    assert {(r.question, r.topic, r.quote, r.platform) for r in rows} == {
        (question, topic, quotes(bot, topic)[index], "discord")}
    [grouped] = await bot.store.wrong_answers()
    assert (grouped.topic, grouped.count, grouped.questions) == (topic, 2, (question,))


async def test_a_vote_is_per_reply_message_not_per_fact(
        packs: tuple[FactPack, ...], fake: FakeDiscord, tmp_path: Path) -> None:
    """The same fact shown twice, in two replies: a member may say so under each."""
    pack = packs[0]
    hallyu = next(t for t in pack.topics if t.command == "hallyu")
    lone = replace(hallyu, facts=hallyu.facts[:1])
    bot = build_bot(Settings(), packs=[replace(pack, topics=tuple(
        lone if t is hallyu else t for t in pack.topics))], cooldown=False)
    async with running(bot, fake, tmp_path / "sync.json"):
        one = await fake.interact(fake.slash("hallyu"))
        two = await fake.interact(fake.slash("hallyu"))
        wrong = one.custom_ids[1]
        first = await fake.interact(fake.button(wrong, message_id=one.message_id))
        second = await fake.interact(fake.button(wrong, message_id=two.message_id))
    assert wrong == two.custom_ids[1] == f"factbot:bad:hallyu:0:{fact_key(lone.facts[0].quote)}"
    assert one.message_id != two.message_id
    assert first.data["content"] == second.data["content"] == EN("feedback.thanks")
    rows = await bot.store.feedback_rows(datetime.now(UTC) - timedelta(hours=1))
    assert [r.question for r in rows] == ["/hallyu", "/hallyu"]


@pytest.mark.parametrize("resolved", [True, False], ids=["resolved", "fetched"])
async def test_the_question_of_a_mention_is_found_from_the_message_replied_to_after_a_restart(
        packs: tuple[FactPack, ...], fake: FakeDiscord, tmp_path: Path, resolved: bool) -> None:
    """A new process has no memory of the reply: the reply names the member's message,
    which Discord sends along or the bot fetches."""
    bot = build_bot(Settings(), packs=packs, cooldown=False)
    state = tmp_path / "sync.json"
    question = "tell me about k-pop fans"
    async with running(bot, fake, state, message_content=True):
        await fake.dispatch("MESSAGE_CREATE", fake.mention(question))
        await posted(fake, 1)
    [message_id] = [m["id"] for m in fake.messages.values()
                    if m.get("message_reference")]
    _, body = fake.channel_messages[0]
    wrong = [c["custom_id"] for c in body["components"][0]["components"]][1]
    async with running(bot, fake, state, message_content=True):
        pressed = await fake.interact(fake.button(wrong, message_id=message_id,
                                                  resolve=resolved))
        if not resolved:  # a fetch may be slow: "thinking" at once, the thanks follows

            async def followed() -> None:
                while not fake.followups:
                    await asyncio.sleep(0.01)

            await asyncio.wait_for(followed(), 10)
    if resolved:
        assert pressed.ephemeral and pressed.data["content"] == EN("feedback.thanks")
    else:
        assert pressed.type == 5 and pressed.ephemeral  # DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE
        [thanks] = fake.followups
        assert thanks["content"] == EN("feedback.thanks") and thanks["flags"] & 64
    [row] = await bot.store.feedback_rows(datetime.now(UTC) - timedelta(hours=1))
    assert row.question == question
    fetched = [p for m, p, _ in fake.requests if m == "GET" and "/messages/" in p]
    assert len(fetched) == (0 if resolved else 1)


async def test_a_press_on_a_reply_nobody_knows_the_question_of_is_still_recorded(
        packs: tuple[FactPack, ...], fake: FakeDiscord, tmp_path: Path) -> None:
    bot = build_bot(Settings(), packs=packs, cooldown=False)
    async with running(bot, fake, tmp_path / "sync.json"):
        key = fact_key(quotes(bot, "hallyu")[0])
        pressed = await fake.interact(fake.button(f"factbot:bad:hallyu:0:{key}"))
    assert pressed.data["content"] == EN("feedback.thanks")
    [row] = await bot.store.feedback_rows(datetime.now(UTC) - timedelta(hours=1))
    assert (row.question, row.topic, row.quote) == ("", "hallyu", quotes(bot, "hallyu")[0])


async def test_presses_are_rate_limited_like_commands(
        packs: tuple[FactPack, ...], fake: FakeDiscord, tmp_path: Path) -> None:
    bot = FactBot(packs, cooldown=CooldownSettings(user_per_minute=1))
    async with running(bot, fake, tmp_path / "sync.json"):
        answer = await fake.interact(fake.slash("hallyu"))
        context = await fake.interact(fake.button(answer.custom_ids[2],
                                                  message_id=answer.message_id))
        wrong = await fake.interact(fake.button(answer.custom_ids[1],
                                                message_id=answer.message_id))
    assert context.ephemeral and context.data["content"] == EN("slow_down")
    assert wrong.ephemeral and wrong.data["content"] == EN("slow_down")
    assert await bot.store.feedback_rows(datetime.now(UTC) - timedelta(hours=1)) == []


# --- "Show context" ------------------------------------------------------------------------


async def test_show_context_gives_the_articles_paragraph_with_the_quote_in_bold(
        factbot: FactBot, packs: tuple[FactPack, ...], fake: FakeDiscord,
        tmp_path: Path) -> None:
    async with running(factbot, fake, tmp_path / "sync.json"):
        answer = await fake.interact(fake.slash("trade"))
        shown = await fake.interact(fake.button(answer.custom_ids[2],
                                                message_id=answer.message_id))
        korean = await fake.interact(fake.button(answer.custom_ids[2],
                                                 message_id=answer.message_id, locale="ko"))
    topic, index, _ = parse_context_custom_id(answer.custom_ids[2]) or ("", -1, "")
    assert index == fact_index(factbot, topic, answer.embeds[0]["description"])
    found = factbot.topic(topic)
    assert found is not None
    pack, fact = found[0], found[1].facts[index]
    [(start, end)] = [(s, e) for s, e in paragraphs(pack.article) if s <= fact.offset < e]
    assert shown.ephemeral and shown.custom_ids == []
    [embed] = shown.embeds
    assert embed["title"] == EN("context.heading")
    assert embed["footer"]["text"] == EN("fact.source", source=pack.source.line())
    description = embed["description"]
    # The quote marked in bold, inside a passage of that very paragraph (escaped for
    # Discord's markdown: unescaped here to compare).
    before, marked, after = description.split("**")
    assert marked.replace("\\", "") == fact.quote
    plain = (before + marked + after).replace("\\", "").strip("…")
    assert plain in pack.article[start:end]
    assert len(plain) > len(fact.quote)  # more than the quote: its setting
    assert korean.embeds[0]["title"] == KO("context.heading")
    assert fake.channel_messages == []


async def test_show_context_for_a_fact_the_pack_no_longer_has_says_so(
        factbot: FactBot, fake: FakeDiscord, tmp_path: Path) -> None:
    async with running(factbot, fake, tmp_path / "sync.json"):
        gone = await fake.interact(fake.button("factbot:ctx:hallyu:999", locale="ko"))
        old_topic = await fake.interact(fake.button("factbot:next:nosuchtopic"))
    assert gone.ephemeral and gone.data["content"] == KO("context.none")
    assert old_topic.ephemeral and old_topic.data["content"] == EN("button.gone")


async def test_another_fact_speaks_the_pressers_language_and_says_when_there_is_no_other(
        packs: tuple[FactPack, ...], fake: FakeDiscord, tmp_path: Path) -> None:
    pack = packs[0]
    lone = replace(pack.topics[0], facts=pack.topics[0].facts[:1])
    bot = FactBot([replace(pack, topics=(lone, *pack.topics[1:]))])
    async with running(bot, fake, tmp_path / "sync.json"):
        more = await fake.interact(fake.button("factbot:next:hallyu", locale="ko"))
        only = await fake.interact(fake.button(f"factbot:next:{lone.command}", locale="ko"))
    assert not more.ephemeral
    assert more.embeds[0]["footer"]["text"].startswith("출처: ")
    assert labels(more)[0] == KO("button.more")
    assert only.ephemeral and only.data["content"] == KO("button.only_fact")


async def test_the_apology_and_the_cooldown_notice_are_in_the_users_language(
        packs: tuple[FactPack, ...], fake: FakeDiscord, tmp_path: Path) -> None:
    bot = FactBot(packs, cooldown=CooldownSettings(user_per_minute=1))
    async with running(bot, fake, tmp_path / "sync.json"):
        await fake.interact(fake.slash("hallyu", locale="ko"))
        await fake.interact(fake.slash("hallyu", locale="ko"))  # the core's own notice
        quiet = await fake.interact(fake.slash("hallyu", locale="ko"))

        async def broken(*args: object) -> None:
            raise RuntimeError("boom")

        bot.handle = broken  # type: ignore[method-assign,assignment]  # a core fault
        apology = await fake.interact(fake.slash("hallyu", locale="ko", user_id=7))
    assert quiet.ephemeral and quiet.data["content"] == KO("slow_down")
    assert apology.ephemeral and apology.data["content"] == KO("apology")


def test_a_context_reply_is_escaped_with_the_quote_in_bold() -> None:
    passage = "Fans *love* it. She said K-pop_is @everyone's **thing**. The end."
    quote = "K-pop_is @everyone's **thing**"
    reply = Reply(kind=ReplyKind.CONTEXT, text=passage, topic="hallyu", quote=passage,
                  context=quote, source="Bernama, 1 Jan 2026", heading=KO("context.heading"),
                  language="ko", fact=0)
    embed = render_embed(reply).to_dict()
    description = embed["description"]
    assert description.startswith("Fans \\*love\\* it. She said **K-pop\\_is ")
    assert "\\*\\*thing\\*\\***." in description
    assert "@everyone" not in description  # escaped: never pings
    assert embed["footer"]["text"] == KO("fact.source", source="Bernama, 1 Jan 2026")
    not_verbatim = replace(reply, context="nowhere in it")
    assert "**" not in render_embed(not_verbatim).to_dict()["description"].replace("\\*", "")


def test_custom_ids_are_within_discords_limit_and_read_strictly() -> None:
    from factbot.adapters.discord_render import context_custom_id, wrong_custom_id

    longest = wrong_custom_id("a" * 32, 9999, "0123abcd")
    assert len(longest) <= 100
    assert parse_wrong_custom_id(longest) == ("a" * 32, 9999, "0123abcd")
    assert parse_context_custom_id(context_custom_id("trade_2", 0)) == ("trade_2", 0, "")
    assert parse_wrong_custom_id("factbot:bad:hallyu:1:0123ABCD") is None  # lower-case hex
    for bad in ("factbot:bad:hallyu", "factbot:bad:hallyu:01", "factbot:bad:hallyu:-1",
                "factbot:bad:Hallyu:1", "factbot:bad:hallyu:1\n", "factbot:ctx:hallyu:1"):
        assert parse_wrong_custom_id(bad) is None, bad
    assert parse_context_custom_id("factbot:bad:hallyu:1") is None



async def test_after_a_reload_that_reorders_facts_the_buttons_name_the_fact_shown(
        fake: FakeDiscord, tmp_path: Path) -> None:
    """A reload that moves a fact keeps the menus (no re-sync, no cleared caches): the
    buttons under each new answer must still carry that answer's own fact."""
    import shutil

    from factbot.core import Press
    from tests.conftest import FACTS

    facts = tmp_path / "facts"
    shutil.copytree(FACTS, facts)
    bot = build_bot(Settings(facts=facts), cooldown=False)
    found = bot.topic("hallyu")
    assert found is not None
    count = len(found[1].facts)
    pack_yaml = next(facts.glob("*/pack.yaml"))
    text = pack_yaml.read_text(encoding="utf-8")
    first = "      - quote: Throughout his three-year tenure"
    last = ("      - quote: I think it will continue to bring positive impacts upon both our "
            "countries.\n")
    assert first in text and last in text
    async with running(bot, fake, tmp_path / "sync.json"):
        for _ in range(count):  # every fact's view cached
            await fake.interact(fake.slash("hallyu"))
        start = text.index(last)
        end = text.find("\n  - command:", start)
        block = text[start:end + 1] if end != -1 else text[start:]
        moved = text.replace(block, "", 1).replace(first, block.rstrip("\n") + "\n" + first, 1)
        pack_yaml.write_text(moved, encoding="utf-8")
        result = await bot.reload()
        assert result.ok and not result.changed
        answers = [await fake.interact(fake.slash("hallyu")) for _ in range(count)]
    for answer in answers:
        parsed = parse_context_custom_id(answer.custom_ids[-1])
        assert parsed is not None
        topic, index, key = parsed
        now = bot.topic(topic)
        assert now is not None
        shown = now[1].facts[index].quote
        assert shown[:40] in answer.embeds[0]["description"].replace("\\", "")
        context = bot.context(Press("discord", "1", "2", topic, index, key=key))
        assert context is not None and context.context == shown
