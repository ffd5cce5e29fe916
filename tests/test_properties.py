"""Properties that hold for any text a person may send, checked with Hypothesis.

- every reply fits its platform: Telegram's 4,096 characters (UTF-16 units of the text
  shown), Discord's embed limits (checked by the fake Discord's own validator);
- every quote shown is verbatim in its pack's article, and shown whole;
- nothing pings: no @everyone, @here, user or role mention survives unescaped where
  Discord renders mentions, and every send passes no allowed mentions; no HTML that
  factbot did not write reaches Telegram;
- neither the core (FactBot.handle on the in-memory store) nor a renderer raises.

The budget is small by default and larger in the long run (CI, or FACTBOT_HYPOTHESIS=long):
see the profiles in conftest.py. Both are derandomized, so every run tries the same texts.
"""

from __future__ import annotations

import asyncio
import functools
import re
import threading
from collections.abc import Coroutine, Iterator
from html.parser import HTMLParser
from typing import Any, TypeVar

import pytest
from hypothesis import given
from hypothesis import strategies as st

from factbot.adapters.discord import DiscordAdapter
from factbot.adapters.discord_render import render_embed
from factbot.adapters.telegram_render import render_html, render_plain
from factbot.core import FactBot
from factbot.messages import IncomingMessage, Reply, ReplyKind
from factbot.packs import FactPack, load_packs
from factbot.settings import DiscordSettings, Secret
from tests.conftest import FACTS, ROOT
from tests.fakes.discord_api import TOKEN as DISCORD_TOKEN
from tests.fakes.discord_api import FakeDiscord, message_errors
from tests.fakes.telegram_api import MAX_TEXT, visible_length
from tests.harness import Harness

T = TypeVar("T")
TEST_PACKS = ROOT / "tests" / "data" / "packs"
# What a hostile or careless user types into a chat bot.
HOSTILE = ["@everyone", "@here", "<@123456789012345678>", "<@!123>", "<@&987654321>",
           "<#555>", "<b>", "</blockquote>", "<a href='x'>", "&amp;", "&", "<", ">", "**",
           "__", "~~", "`", "||", "\\", "> ", "# ", "-# ", "[a](http://x)", "\u202e", "\u200b",
           "²", "٣", "🇰🇷", "\U0001f600", "\x00", "\n", "\r\n", "\t", " ", "/", "@", ":"]


@functools.cache
def _packs() -> tuple[FactPack, ...]:
    return (*load_packs(FACTS), *load_packs(TEST_PACKS))


@functools.cache
def _harness() -> Harness:
    """One bot for all examples: building the matcher per example would cost 20 ms each.

    Its cooldown is on (the default settings'), so examples also meet the "slow down" reply.
    """
    return Harness(packs=_packs(), cooldown=True)


def _bot() -> FactBot:
    return _harness().bot


@pytest.fixture(scope="module")
def runner() -> Iterator[asyncio.Runner]:
    """One event loop for every example of the module (the store's locks stay on it)."""
    with asyncio.Runner() as loop_runner:
        yield loop_runner


def _commands() -> list[str]:
    return sorted({name for name, _ in _bot().commands()} | {
        "start", "help", "topics", "source", "fact", "ask", "daily", "stats", "cooldown",
        "reload"})


# Text of every kind: any Unicode, hostile snippets, commands with any arguments, and
# questions about the packs' own words.
_words = st.sampled_from(sorted({w for p in _packs() for w in p.article.split()}))
TEXTS = st.one_of(
    st.text(),
    st.lists(st.one_of(st.sampled_from(HOSTILE), st.text(max_size=8), _words),
             max_size=12).map("".join),
    st.builds(lambda c, target, args: f"/{c}{target} {args}", st.sampled_from(_commands()),
              st.sampled_from(["", "@factbot_test_bot", "@otherbot", "@"]),
              st.one_of(st.text(max_size=40), st.sampled_from(HOSTILE), _words,
                        st.sampled_from(["on", "off", "on 08:30 Asia/Kuala_Lumpur",
                                         "off hallyu", "4 15", "default", "9999999999"]))),
    st.lists(_words, min_size=1, max_size=15).map(" ".join),
)
MESSAGES = st.builds(
    IncomingMessage, text=TEXTS, platform=st.sampled_from(["telegram", "discord", "console"]),
    chat_id=st.sampled_from(["1", "-100", "inline:5", "console"]),
    user_id=st.sampled_from(["1", "2", "-100"]), is_group=st.booleans(),
    addressed=st.booleans(), bot_username=st.sampled_from([None, "factbot_test_bot"]))

# Replies built from any parts: the renderers must hold their promises for every one, not
# only for the ones today's core builds. What the core never leaves blank (a reply's text,
# a quote, a citation) is not blank here either; facts keep within the loader's bounds.
def _shown(max_size: int) -> st.SearchStrategy[str]:
    return st.one_of(st.text(min_size=1, max_size=max_size),
                     st.lists(st.sampled_from(HOSTILE), min_size=1, max_size=30).map("".join)
                     ).filter(lambda text: bool(text.strip()))


# Telegram counts UTF-16 units: text of emoji is twice as long there as in Python, and
# from 2,049 emoji on over Telegram's limit while under it in code points.
# (A piece repeated: Hypothesis draws one choice per character, and cannot draw thousands.)
_emoji = st.builds(lambda piece, times: (piece * times)[:times],
                   st.text(alphabet=st.characters(min_codepoint=0x1F300,
                                                  max_codepoint=0x1FAFF) | st.just("&"),
                           min_size=1, max_size=5),
                   st.integers(min_value=2049, max_value=4500))
_part = st.one_of(st.text(max_size=300), _shown(300), _emoji.map(lambda text: text[:300]))
_items = st.lists(st.tuples(_shown(32), _part), max_size=40).map(tuple)
REPLIES = st.one_of(
    st.builds(Reply, kind=st.just(ReplyKind.FACT), text=_shown(300), topic=st.just("hallyu"),
              quote=_shown(280), attribution=st.none() | _shown(300),
              context=st.none() | _shown(220), source=st.none() | _shown(300),
              heading=st.none() | _shown(40)),
    st.builds(Reply, kind=st.sampled_from(list(ReplyKind)), text=_shown(5000) | _emoji,
              heading=st.none() | _shown(300), items=_items, source=st.none() | _shown(300)),
    st.builds(Reply, kind=st.just(ReplyKind.TOPICS), text=_shown(300), heading=_shown(300),
              sections=st.lists(st.tuples(_shown(300), _items), max_size=6).map(tuple)),
)


def _handle(runner: asyncio.Runner, message: IncomingMessage, admin: bool) -> Reply | None:
    """The core's answer, with the sender an admin of the chat or not."""
    return runner.run(_harness().handle(message, admin=admin))


class _Html(HTMLParser):
    """Telegram's reading of an HTML message: its tags and the text it shows."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)

    def handle_endtag(self, tag: str) -> None:
        self.tags.append(tag)

    def handle_data(self, data: str) -> None:
        self.text += data


def read_html(text: str) -> _Html:
    reader = _Html()
    reader.feed(text)
    reader.close()
    return reader


# The markup factbot writes; anything else in a message came from a pack or a user.
_OURS = re.compile(r"</?(?:b|i|blockquote)>|&(?:amp|lt|gt|quot|#x27);")
# A mention as Discord reads it (@everyone, @here, <@id>, <@!id>, <@&role>), with ids as
# discord.utils.escape_mentions knows them: snowflakes of 17 to 20 digits.
_MENTION = re.compile(r"@(?:everyone|here)|<@[!&]?[0-9]{17,20}>")


def _check_telegram(reply: Reply) -> None:
    html = render_html(reply)
    assert visible_length(html, "HTML") <= MAX_TEXT
    assert html.strip(), "Telegram refuses an empty message"
    # Every < and & is markup factbot wrote: user and pack text is escaped.
    assert "<" not in _OURS.sub("", html) and "&" not in _OURS.sub("", html)
    assert set(read_html(html).tags) <= {"b", "i", "blockquote"}
    render_plain(reply)


def _check_discord(reply: Reply) -> None:
    embed = render_embed(reply)
    data = embed.to_dict()
    assert message_errors({"embeds": [data]}) == {}, data
    # Where Discord renders mentions in an embed, each is escaped (none pings in an embed
    # anyway, and every send passes AllowedMentions.none(): see test_discord.py).
    shown = [data.get("title") or "", data.get("description") or "",
             *(f"{f['name']}\n{f['value']}" for f in data.get("fields", []))]
    for text in shown:
        assert not _MENTION.search(text), text


@given(message=MESSAGES, admin=st.booleans())
def test_the_core_and_every_renderer_answer_any_text_within_the_limits(
        runner: asyncio.Runner, message: IncomingMessage, admin: bool) -> None:
    """No exception anywhere; each reply fits Telegram and Discord, escaped for both."""
    reply = _handle(runner, message, admin)
    if reply is None:  # quiet: another bot's command, group chatter, a repeated flood
        return
    assert reply.text.strip()
    _check_telegram(reply)
    _check_discord(reply)


@given(reply=REPLIES)
def test_the_renderers_keep_any_reply_within_the_limits_and_escaped(reply: Reply) -> None:
    _check_telegram(reply)
    _check_discord(reply)


@given(message=MESSAGES)
def test_every_quote_shown_is_verbatim_in_its_packs_article_and_whole(
        runner: asyncio.Runner, message: IncomingMessage) -> None:
    """For a message and for an inline query: the quote, and its context, are the
    article's own text, and Telegram shows the quote whole."""
    bot = _bot()
    reply = _handle(runner, message, admin=False)
    replies = [reply] if reply is not None else []
    replies += bot.search(message.text[:256], limit=10)  # the inline query's answers
    for shown in replies:
        if shown.kind is not ReplyKind.FACT:
            continue
        assert shown.quote and shown.topic
        found = bot.topic(shown.topic)
        assert found is not None
        pack, topic = found
        assert shown.quote in pack.article
        assert shown.quote in {fact.quote for fact in topic.facts}
        if shown.context is not None:
            assert shown.context in pack.article
        assert shown.quote in read_html(render_html(shown)).text
        assert shown.quote in shown.text


class _Background:
    """An event loop in a thread: the real client serves there while Hypothesis, which
    runs examples synchronously, sends it one interaction per example."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, work: Coroutine[Any, Any, T], timeout: float = 30.0) -> T:
        return asyncio.run_coroutine_threadsafe(work, self.loop).result(timeout)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


@pytest.fixture(scope="module")
def live_discord(tmp_path_factory: pytest.TempPathFactory
                 ) -> Iterator[tuple[_Background, FakeDiscord]]:
    """The real discord.py client with factbot's adapter, connected to the fake Discord."""
    background = _Background()
    fake = FakeDiscord()
    stop = asyncio.Event()

    async def up() -> asyncio.Task[None]:
        await fake.start()
        settings = DiscordSettings(token=Secret(DISCORD_TOKEN), api_base_url=fake.api_base_url,
                                   gateway_url=fake.gateway_url)
        adapter = DiscordAdapter(FactBot(_packs()), settings, guild_ready_timeout=0.05,
                                 sync_state=tmp_path_factory.mktemp("discord") / "sync.json")
        task = asyncio.create_task(adapter.run(DISCORD_TOKEN, stop))
        await asyncio.wait_for(fake.wait_ready(), 10)
        while not adapter.client.is_ready():
            await asyncio.sleep(0.01)
        return task

    async def down(task: asyncio.Task[None]) -> None:
        stop.set()
        await asyncio.wait_for(task, 10)
        await fake.close()

    try:
        task = background.run(up())
        try:
            yield background, fake
        finally:
            background.run(down(task))
    finally:
        background.close()


@given(text=TEXTS.filter(lambda t: bool(t.strip())))
def test_an_answer_on_discord_pings_nobody_whatever_was_asked(
        live_discord: tuple[_Background, FakeDiscord], text: str) -> None:
    """Through the real client: /ask with any text gets an answer that Discord accepts
    (the fake checks its limits), with no mention allowed to ping and none unescaped."""
    background, fake = live_discord
    callback = background.run(fake.interact(fake.slash("ask", {"question": text})))
    assert callback.data["allowed_mentions"] == {"parse": []}
    assert fake.rejected == []
    for embed in callback.embeds:
        shown = [embed.get("title") or "", embed.get("description") or "",
                 *(f"{f['name']}\n{f['value']}" for f in embed.get("fields", []))]
        assert not any(_MENTION.search(part) for part in shown), shown


_EMOJI_REPLIES = [
    Reply(kind=ReplyKind.INFO, text="😀" * 4000),
    Reply(kind=ReplyKind.HELP, text="x", heading="Help",
          items=tuple((f"c{i}", "😀" * 300) for i in range(40))),
    Reply(kind=ReplyKind.TOPICS, text="x", heading="Topics", sections=tuple(
        (f"Pack {j}", tuple((f"c{i}", "😀" * 300) for i in range(40))) for j in range(3))),
]


@pytest.mark.parametrize("reply", _EMOJI_REPLIES, ids=["text", "items", "sections"])
def test_a_reply_of_emoji_fits_telegram_counted_in_utf16_units(reply: Reply) -> None:
    """Found by the property above: the renderer counted code points, Telegram counts
    UTF-16 units, so 4,000 emoji were 8,000 to Telegram, and refused."""
    _check_telegram(reply)


def _all_fact_replies() -> Iterator[tuple[FactPack, Any]]:
    from factbot.render import render_fact

    for pack in _packs():
        for topic in pack.topics:
            for fact in topic.facts:
                yield pack, render_fact(pack, topic, fact)


def test_every_fact_of_every_pack_renders_within_the_limits() -> None:
    """Not a sample: each fact the packs hold, as Telegram and Discord would get it."""
    count = 0
    for pack, reply in _all_fact_replies():
        assert reply.quote in pack.article
        _check_telegram(reply)
        _check_discord(reply)
        count += 1
    assert count > 50
