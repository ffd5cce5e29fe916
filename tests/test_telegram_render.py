"""Telegram HTML: pack text and user text always reach the reader literally."""

from __future__ import annotations

from collections.abc import AsyncIterator
from html import escape
from html.parser import HTMLParser
from pathlib import Path

import pytest

from factbot.adapters.telegram import TelegramAdapter
from factbot.adapters.telegram_render import MAX_MESSAGE, render_html
from factbot.core import FactBot
from factbot.messages import Reply, ReplyKind
from factbot.packs import load_packs
from factbot.render import render_fact
from tests.fakes.telegram_api import FakeBotAPI
from tests.test_telegram import started

QUOTE = "Fans wrote <3 & *stars* on a <b>banner</b> — “사랑해” 🇰🇷"
ARTICLE = f"""SEOUL, Jan 1 — Test <News> & Co reports.

Kim <Jr> & co, a fan_club *lead*, said: “{QUOTE}”

Another line: K-pop fans keep coming back for more.
"""
PACK = """\
name: markup-test
source:
  outlet: Test <News> & Co
  dateline: SEOUL
  date: Jan 1
speakers:
  Kim <Jr> & co: a fan_club *lead*
topics:
  - command: kpop
    description: K-pop <fandom> & *more*
    facts:
      - quote: 'Fans wrote <3 & *stars* on a <b>banner</b> — “사랑해” 🇰🇷'
        speaker: Kim <Jr> & co
"""


class _Reader(HTMLParser):
    """What a Telegram user would see: the text, and which tags were markup."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text = ""
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)

    def handle_data(self, data: str) -> None:
        self.text += data


def _read(html_text: str) -> _Reader:
    reader = _Reader()
    reader.feed(html_text)
    reader.close()
    return reader


@pytest.fixture
def markup_bot(tmp_path: Path) -> FactBot:
    folder = tmp_path / "markup-test"
    folder.mkdir()
    (folder / "pack.yaml").write_text(PACK, encoding="utf-8")
    (folder / "article.txt").write_text(ARTICLE, encoding="utf-8")
    return FactBot(load_packs(tmp_path))


async def test_a_quote_with_markup_characters_renders_literally(markup_bot: FactBot) -> None:
    [reply] = markup_bot.search("kpop", limit=1)
    assert reply.quote == QUOTE
    seen = _read(render_html(reply))
    assert f"“{QUOTE}”" in seen.text
    assert "— Kim <Jr> & co, a fan_club *lead*" in seen.text
    assert "Source: Test <News> & Co, Seoul, Jan 1" in seen.text
    assert set(seen.tags) == {"blockquote", "i", "b"}


def test_reported_speech_and_context_are_escaped_and_never_signed_as_a_quote(
        tmp_path: Path) -> None:
    """Narration reporting a speaker names the outlet; the context is labelled, all escaped."""
    folder = tmp_path / "markup-test"
    folder.mkdir()
    narrated = PACK + """\
      - quote: Kim <Jr> & co, a fan_club *lead*, said
        speaker: Kim <Jr> & co
        context: 'Another line: K-pop fans keep coming back for more.'
"""
    (folder / "pack.yaml").write_text(narrated, encoding="utf-8")
    (folder / "article.txt").write_text(ARTICLE, encoding="utf-8")
    [pack] = load_packs(tmp_path)
    [topic] = pack.topics
    rendered = render_html(render_fact(pack, topic, topic.facts[1]))
    seen = _read(rendered)
    assert "Test <News> & Co, reporting Kim <Jr> & co, a fan_club *lead*" in seen.text
    assert "— Kim" not in seen.text
    assert "Context: Another line: K-pop fans keep coming back for more." in seen.text
    assert "&lt;News&gt; &amp; Co, reporting Kim &lt;Jr&gt; &amp; co" in rendered
    assert set(seen.tags) == {"blockquote", "i", "b"}


async def test_topic_lists_escape_descriptions(markup_bot: FactBot) -> None:
    from factbot.render import render_topics

    seen = _read(render_html(render_topics(markup_bot.packs)))
    assert "/kpop — K-pop <fandom> & *more*" in seen.text
    assert set(seen.tags) == {"b"}


def test_topics_from_several_packs_sit_under_each_packs_citation_in_bold() -> None:
    from factbot.render import render_topics

    two = load_packs(Path(__file__).resolve().parent / "data" / "packs")
    assert len(two) == 2
    rendered = render_html(render_topics(two))
    seen = _read(rendered)
    assert set(seen.tags) == {"b"}
    lines = seen.text.splitlines()
    for pack in two:
        head = lines.index(pack.source.line())  # the citation, unescaped, on its own line
        assert f"\n<b>{escape(pack.source.line())}</b>\n" in rendered
        topics = [f"/{t.command} — {t.description}" for t in pack.topics]
        assert lines[head + 1:head + 1 + len(topics)] == topics
    assert len(rendered) <= MAX_MESSAGE


def test_topics_from_one_pack_have_no_section_header(markup_bot: FactBot) -> None:
    from factbot.render import render_topics

    rendered = render_html(render_topics(markup_bot.packs))
    assert rendered == ("<b>Topics I can quote from:</b>\n"
                        "/kpop — K-pop &lt;fandom&gt; &amp; *more*")


def test_plain_replies_are_escaped_and_bounded() -> None:
    text = "<script>alert(1)</script> & " * 400
    rendered = render_html(Reply(kind=ReplyKind.INFO, text=text, heading=text))
    assert len(rendered) <= MAX_MESSAGE
    seen = _read(rendered)
    assert seen.tags == []
    assert seen.text.startswith("<script>alert(1)</script> & ")


@pytest.fixture
async def api() -> AsyncIterator[FakeBotAPI]:
    async with FakeBotAPI() as fake:
        yield fake


@pytest.fixture
async def running(api: FakeBotAPI, markup_bot: FactBot) -> AsyncIterator[TelegramAdapter]:
    async with started(markup_bot, api) as adapter:
        yield adapter


async def test_the_bot_sends_the_quote_escaped_in_html_mode(
        api: FakeBotAPI, running: TelegramAdapter) -> None:
    await api.push(api.message("/kpop"))
    await api.wait_for(lambda: bool(api.sent()))
    [sent] = api.sent()
    assert sent["parse_mode"] == "HTML"
    assert "Fans wrote &lt;3 &amp; *stars* on a &lt;b&gt;banner&lt;/b&gt;" in sent["text"]
    assert f"“{QUOTE}”" in _read(sent["text"]).text


async def test_inline_results_and_the_source_popup_carry_pack_text_literally(
        api: FakeBotAPI, running: TelegramAdapter) -> None:
    await api.push(api.inline_query("kpop"))
    await api.push(api.callback("src:kpop"))
    await api.wait_for(lambda: bool(api.sent("answerInlineQuery"))
                       and bool(api.sent("answerCallbackQuery")))
    [answer] = api.sent("answerInlineQuery")
    first = answer["results"][0]
    assert first["title"] == "K-pop <fandom> & *more*"  # titles are plain text, not HTML
    assert f"“{QUOTE}”" in _read(first["input_message_content"]["message_text"]).text
    [popup] = api.sent("answerCallbackQuery")
    assert "Test <News> & Co, Seoul, Jan 1" in popup["text"]  # alerts are plain text too
