"""A quote bot never puts words in someone's mouth.

"— Lee Chi-beom, ..." goes only under Lee's own words, inside quotation marks in the
article. The outlet's narration that reports him says so ("Bernama, reporting Lee
Chi-beom, ..."); narration that names nobody has no speaker line. A quote that
cannot stand alone shows its context. The same rule holds in the plain reply, in
Telegram HTML and in the Discord embed.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from factbot.adapters.discord_render import render_embed
from factbot.adapters.telegram_render import render_html
from factbot.core import FactBot
from factbot.messages import Reply
from factbot.packs import Fact, FactPack, Source, Topic
from factbot.render import render_fact
from tests.fakes.discord_api import FakeDiscord
from tests.fakes.telegram_api import FakeBotAPI
from tests.test_discord import running
from tests.test_properties import read_html
from tests.test_telegram import started

LEE = "Lee Chi-beom, South Korea’s ambassador to Malaysia"


def _find(packs: tuple[FactPack, ...], start: str) -> tuple[FactPack, Topic, Fact]:
    return next((p, t, f) for p in packs for t in p.topics for f in t.facts
                if f.quote.startswith(start))


def _reply(packs: tuple[FactPack, ...], start: str) -> Reply:
    return render_fact(*_find(packs, start))


def _seen(html_text: str) -> str:
    """The text a Telegram user sees."""
    return read_html(html_text).text


@pytest.mark.parametrize("start", ["I think the positive effects", "After agreeing in principle",
                                   "As we work hand-in-hand"])
def test_the_speakers_own_words_are_signed_with_a_dash(packs: tuple[FactPack, ...],
                                                       start: str) -> None:
    reply = _reply(packs, start)
    assert reply.quoted and reply.attribution == f"— {LEE}"
    assert f"“{reply.quote}”\n— {LEE}" in reply.text
    assert f"— {LEE}" in _seen(render_html(reply))
    assert render_embed(reply).author.name == f"— {LEE}"


@pytest.mark.parametrize("start", ["South Korea’s ambassador to Malaysia, Lee", "He added as",
                                   "Throughout his three-year tenure", "Lee told Bernama"])
def test_narration_reporting_a_speaker_names_the_outlet_not_the_speakers_voice(
        packs: tuple[FactPack, ...], start: str) -> None:
    reply = _reply(packs, start)
    assert not reply.quoted
    assert reply.attribution == f"Bernama, reporting {LEE}"
    for shown in (reply.text, _seen(render_html(reply))):
        assert "— Lee" not in shown
        assert f"Bernama, reporting {LEE}" in shown
    embed = render_embed(reply)
    assert embed.author.name == f"Bernama, reporting {LEE}"
    assert "— Lee" not in str(embed.to_dict())


def test_he_added_says_who_he_is(packs: tuple[FactPack, ...]) -> None:
    reply = _reply(packs, "He added as South Korea")
    assert reply.text.index("He added") < reply.text.index("reporting Lee Chi-beom")


def test_narration_naming_nobody_has_no_speaker_line(packs: tuple[FactPack, ...]) -> None:
    reply = _reply(packs, "To further promote cultural exchange")
    assert reply.attribution is None and reply.speaker is None
    assert reply.text.splitlines()[1:] == ["Source: Bernama, Kuala Lumpur, Oct 2"]
    assert render_embed(reply).author.name is None
    assert "—" not in _seen(render_html(reply))


def test_an_outlet_left_as_todo_still_marks_reported_speech(packs: tuple[FactPack, ...]) -> None:
    pack, topic, fact = _find(packs, "Lee said along with")
    draft = dataclasses.replace(pack, source=Source(outlet="TODO: who published it",
                                                    dateline="KUALA LUMPUR", date="Oct 2"))
    reply = render_fact(draft, topic, fact)
    assert reply.attribution == f"Reported speech of {LEE}"
    assert "— Lee" not in reply.text and "TODO" not in reply.text


def test_a_quote_that_cannot_stand_alone_shows_its_context(packs: tuple[FactPack, ...]) -> None:
    reply = _reply(packs, "I think it will continue")
    context = ("The Korean Wave was able to gain this much popularity because of the two-way "
               "interaction among global fans including Malaysian fans.")
    assert reply.context == context
    # Quote, then whose words, then the context, labelled: never read as part of the quote.
    assert reply.text.splitlines() == [f"“{reply.quote}”", f"— {LEE}", f"Context: {context}",
                                       "Source: Bernama, Kuala Lumpur, Oct 2"]
    assert f"Context: {context}" in _seen(render_html(reply))
    embed = render_embed(reply)
    assert [(f.name, f.value) for f in embed.fields] == [("Context", context)]
    assert context not in (embed.description or "")


# --- end to end: what the platforms receive -------------------------------------------------


@pytest.fixture
async def api() -> AsyncIterator[FakeBotAPI]:
    async with FakeBotAPI() as fake_api:
        yield fake_api


async def test_telegram_signs_only_the_speakers_own_words(api: FakeBotAPI,
                                                          factbot: FactBot) -> None:
    async with started(factbot, api):
        await api.push(api.message("/global"))
        await api.wait_for(lambda: len(api.sent()) >= 1)
        await api.push(api.message("/global"))
        await api.wait_for(lambda: len(api.sent()) >= 2)
    narrated, quoted = (_seen(sent["text"]) for sent in api.sent())
    assert narrated.startswith("“On the international sphere, Lee expressed hope")
    assert f"Bernama, reporting {LEE}" in narrated and "— Lee" not in narrated
    assert quoted.startswith("“This importance comes greatly today")
    assert f"— {LEE}\nContext: Lee expressed hope" in quoted


async def test_discord_signs_only_the_speakers_own_words(factbot: FactBot, fake: FakeDiscord,
                                                         tmp_path: Path) -> None:
    async with running(factbot, fake, tmp_path / "sync.json"):
        narrated = await fake.interact(fake.slash("global"))
        quoted = await fake.interact(fake.slash("global"))
    first, second = narrated.embeds[0], quoted.embeds[0]
    assert first["author"]["name"] == f"Bernama, reporting {LEE}"
    assert "fields" not in first or first["fields"] == []
    assert second["author"]["name"] == f"— {LEE}"
    assert second["description"].startswith("“This importance comes greatly today")
    assert second["fields"][0]["name"] == "Context"
    assert second["fields"][0]["value"].startswith("Lee expressed hope")
