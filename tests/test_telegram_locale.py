"""Telegram in the member's language, the menus per language and scope, and the two buttons
"Not what I asked" and "Show context": python-telegram-bot's real Application against the
fake Bot API, every assertion on what Telegram would have received (or on the store)."""

from __future__ import annotations

import asyncio
import html
from collections.abc import AsyncIterator
from html.parser import HTMLParser
from typing import Any

import pytest

from factbot.adapters.telegram import MAX_COMMANDS, TelegramAdapter, _fit
from factbot.adapters.telegram_render import (
    CONTEXT,
    WRONG,
    ButtonPress,
    callback_data,
    parse_callback_data,
    render_html,
)
from factbot.app import build_bot
from factbot.core import FactBot
from factbot.i18n import ENGLISH, strings
from factbot.messages import Reply, ReplyKind, fact_key
from factbot.packs import FactPack, paragraphs
from factbot.settings import CooldownSettings, Settings
from tests.fakes.telegram_api import BOT_USERNAME, FakeBotAPI
from tests.test_telegram import started

TOKEN = "246802:SECRET-locale-token"
GROUP = -1005555
FLUSH_CHAT = 4343
ADMIN_ONLY = {"daily", "stats", "cooldown", "language", "reload"}


@pytest.fixture(autouse=True)
def _ptb_timedelta(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")  # as serve() sets it; see test_telegram.py


@pytest.fixture
async def api() -> AsyncIterator[FakeBotAPI]:
    async with FakeBotAPI(TOKEN) as fake:
        yield fake


@pytest.fixture
async def running(api: FakeBotAPI, factbot: FactBot) -> AsyncIterator[TelegramAdapter]:
    async with started(factbot, api) as adapter:
        yield adapter


class _Reader(HTMLParser):
    """What the member sees: the text, and the text inside <b> tags."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text = ""
        self.bold: list[str] = []
        self._in_bold = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "b":
            self._in_bold = True
            self.bold.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "b":
            self._in_bold = False

    def handle_data(self, data: str) -> None:
        self.text += data
        if self._in_bold:
            self.bold[-1] += data


def _read(text: str) -> _Reader:
    reader = _Reader()
    reader.feed(text)
    reader.close()
    return reader


def _to(api: FakeBotAPI, chat_id: int) -> list[dict[str, Any]]:
    """The messages the bot sent to a chat (as the fake keeps them), in order."""
    return [m for m in api.posted if m["chat"]["id"] == chat_id]


async def _sent_to(api: FakeBotAPI, chat_id: int, count: int = 1) -> list[dict[str, Any]]:
    await api.wait_for(lambda: len(_to(api, chat_id)) >= count)
    return _to(api, chat_id)


async def _flush(api: FakeBotAPI, adapter: TelegramAdapter) -> None:
    """A message that is answered, then every update before it handled: after this,
    whatever the bot has not sent it never will (see test_telegram._settled)."""
    before = len(_to(api, FLUSH_CHAT))
    await api.push(api.message("/help", chat_id=FLUSH_CHAT, user_id=FLUSH_CHAT))
    await _sent_to(api, FLUSH_CHAT, before + 1)
    await asyncio.wait_for(adapter.application.update_queue.join(), timeout=10)


def _labels(message: dict[str, Any]) -> list[list[str]]:
    return [[b["text"] for b in row] for row in message["reply_markup"]["inline_keyboard"]]


def _button(message: dict[str, Any], action: str) -> str:
    """The callback data of the button ``action`` ("more", "src", "bad", "ctx")."""
    return next(b["callback_data"] for row in message["reply_markup"]["inline_keyboard"]
                for b in row if b["callback_data"].startswith(f"{action}:"))


async def _answers(api: FakeBotAPI, count: int) -> list[dict[str, Any]]:
    await api.wait_for(lambda: len(api.sent("answerCallbackQuery")) >= count)
    return api.sent("answerCallbackQuery")


def _quote(packs: tuple[FactPack, ...], topic: str, index: int) -> str:
    return next(t.facts[index].quote for p in packs for t in p.topics if t.command == topic)


# --- the member's language ------------------------------------------------------------


@pytest.mark.parametrize(("language", "question"), [
    ("ko", "날씨 어때요?"),
    ("ms", "what is the weather like today?"),  # English words: the app's language decides
])
async def test_a_member_gets_factbots_words_in_their_apps_language(
        api: FakeBotAPI, running: TelegramAdapter, language: str, question: str) -> None:
    t = strings(language)
    for text in (question, "/help", "/start", "/trade"):
        await api.push(api.message(text, language=language))
    sent = await _sent_to(api, 501, 4)
    replies = [m["text"] for m in sent]
    assert any(r.startswith(html.escape(t("fallback.heading"))) for r in replies)
    assert any(r.startswith(f"<b>{html.escape(t('help.heading'))}</b>\n/topics")
               for r in replies)
    assert any(r.startswith(f"<b>{html.escape(t('start.heading'))}</b>") for r in replies)
    [fact] = [m for m in sent if "reply_markup" in m]
    assert fact["reply_to_message"]["text"] == "/trade"  # a reply, in a private chat too
    assert _labels(fact) == [[t("button.more"), t("button.source")],
                             [t("button.wrong"), t("button.context")]]
    assert _read(fact["text"]).bold[-1] == t("fact.source", source="").strip()
    english = strings(ENGLISH)
    assert not any(english("fallback.heading") in _read(r).text for r in replies)


async def test_a_near_miss_suggests_the_near_topic_in_the_members_language(
        api: FakeBotAPI, running: TelegramAdapter) -> None:
    """The fallback is the core's text: "Did you mean", not every topic, in Malay here."""
    await api.push(api.message("What is Lee's full name?", language="ms"))
    [sent] = await _sent_to(api, 501)
    ms = strings("ms")
    assert _read(sent["text"]).text == (f"{ms('fallback.heading')}\n"
                                        f"{ms('fallback.near', commands='/ambassador')}")
    assert "reply_markup" not in sent


async def test_without_a_language_code_the_member_gets_english(
        api: FakeBotAPI, running: TelegramAdapter) -> None:
    await api.push(api.message("/trade"))
    [fact] = await _sent_to(api, 501)
    assert _labels(fact) == [["Another fact", "Source"], ["Not what I asked", "Show context"]]
    assert "<b>Source:</b> Bernama, Kuala Lumpur, Oct 2" in fact["text"]


async def test_the_same_fact_gets_each_members_labels(
        api: FakeBotAPI, running: TelegramAdapter) -> None:
    """Keyboards are cached: per language, not per callback data alone."""
    for user, language in ((601, None), (602, "ko"), (603, "ms"), (604, None)):
        await api.push(api.message("/trade", chat_id=user, user_id=user, language=language))
    labels = {user: _labels((await _sent_to(api, user))[0])[0][0]
              for user in (601, 602, 603, 604)}
    assert labels == {601: "Another fact", 602: strings("ko")("button.more"),
                      603: strings("ms")("button.more"), 604: "Another fact"}


async def test_an_inline_query_answers_in_the_members_language_and_personally(
        api: FakeBotAPI, running: TelegramAdapter, factbot: FactBot) -> None:
    await api.push(api.inline_query("hallyu", language="ko"))
    await api.wait_for(lambda: bool(api.sent("answerInlineQuery")))
    [answer] = api.sent("answerInlineQuery")
    assert answer["is_personal"] is True  # Telegram must not hand it to an English member
    first = answer["results"][0]
    [(_, hallyu)] = [(p, t) for p in factbot.packs for t in p.topics if t.command == "hallyu"]
    assert first["title"] == hallyu.described("ko")
    keyboard = first["reply_markup"]["inline_keyboard"]
    assert [b["text"] for b in keyboard[1]] == [strings("ko")("button.wrong"),
                                               strings("ko")("button.context")]
    shown = _read(first["input_message_content"]["message_text"])
    assert shown.bold[-1] == strings("ko")("fact.source", source="").strip()


async def test_toasts_and_the_apology_are_in_the_pressers_language(
        api: FakeBotAPI, running: TelegramAdapter) -> None:
    ko = strings("ko")
    await api.push(api.callback("src:hallyu", language="ko"))
    await api.push(api.callback("more:nonexistent", language="ms"))
    await api.push(api.callback("more:trade", language="ko"))  # a one-fact topic
    answers = await _answers(api, 3)
    texts = {a["text"] for a in answers}
    assert ko("button.source_alert", source="Bernama, Kuala Lumpur, Oct 2") in texts
    assert strings("ms")("button.gone") in texts
    assert ko("button.only_fact") in texts
    api.fail("sendMessage", 500)
    await api.push(api.message("/hallyu", chat_id=701, user_id=701, language="ms"))
    await api.wait_for(lambda: len(api.sent()) >= 2)
    assert api.sent()[-1]["text"] == strings("ms")("apology")


# --- the menus ----------------------------------------------------------------------------


async def test_the_menus_are_set_per_language_and_per_scope(
        api: FakeBotAPI, running: TelegramAdapter, factbot: FactBot) -> None:
    scopes = {"default": False, "all_chat_administrators": True}
    assert set(api.menus) == {(scope, code) for scope in scopes for code in ("", "ko", "ms")}
    for (scope, code), commands in api.menus.items():
        expected = factbot.commands(code or ENGLISH, admins=scopes[scope])
        assert [(c["command"], c["description"]) for c in commands] == \
            [(name, text[:256]) for name, text in expected]
        names = {c["command"] for c in commands}
        assert {"fact", "ask", "topics", "help", "source", "hallyu"} <= names
        assert (names >= ADMIN_ONLY) if scopes[scope] else not (ADMIN_ONLY & names)
    # Described in each language: the built-ins from the catalogue, topics from the pack.
    descriptions = {code: dict((c["command"], c["description"])
                               for c in api.menus["default", code]) for code in ("", "ko")}
    assert descriptions["ko"]["help"] != descriptions[""]["help"]
    assert descriptions["ko"]["hallyu"] == "말레이시아의 한류 — K팝, K드라마와 그 의미"


async def test_a_reload_that_changes_the_menus_publishes_all_six_again(
        api: FakeBotAPI, factbot: FactBot, tmp_path: Any) -> None:
    import shutil
    from pathlib import Path

    facts = tmp_path / "facts"
    shutil.copytree(Path(__file__).resolve().parent.parent / "facts", facts)
    bot = build_bot(Settings(), packs=factbot.packs, cooldown=False)
    bot.facts_dir = facts
    async with started(bot, api):
        assert len(api.sent("setMyCommands")) == 6
        pack = facts / "korea-malaysia" / "pack.yaml"
        pack.write_text(pack.read_text(encoding="utf-8").replace(
            "ko: 말레이시아의 한류 — K팝, K드라마와 그 의미", "ko: 한류"), encoding="utf-8")
        result = await bot.reload()
        assert result.ok and result.changed
        assert len(api.sent("setMyCommands")) == 12
    hallyu = {c["command"]: c["description"] for c in api.menus["default", "ko"]}["hallyu"]
    assert hallyu == "한류"


def test_a_menu_over_telegrams_limit_keeps_every_builtin() -> None:
    topics = [(f"topic{n}", "a topic") for n in range(120)]
    builtins = [("fact", "a fact"), ("help", "help"), ("daily", "daily")]
    menu = _fit(topics + builtins, len(topics))
    assert len(menu) == MAX_COMMANDS
    assert menu[-3:] == builtins and menu[:97] == topics[:97]
    assert _fit(topics[:5] + builtins, 5) == topics[:5] + builtins


# --- "Not what I asked" -------------------------------------------------------------------


async def test_not_what_i_asked_is_logged_once_per_member_with_the_question(
        api: FakeBotAPI, running: TelegramAdapter, factbot: FactBot,
        packs: tuple[FactPack, ...]) -> None:
    question = "how many Koreans live in Malaysia?"
    asked = api.message(f"@{BOT_USERNAME} {question}", chat_id=GROUP, user_id=11,
                        chat_type="supergroup", language="ms")
    await api.push(asked)
    [fact] = await _sent_to(api, GROUP)
    assert fact["reply_to_message"]["message_id"] == asked["message"]["message_id"]
    wrong = _button(fact, WRONG)
    community = next(t for t in packs[0].topics if t.command == "community")
    assert parse_callback_data(wrong) == ButtonPress(WRONG, "community", 0,
                                                     fact_key(community.facts[0].quote))

    await api.push(api.callback(wrong, message=fact, user_id=11, language="ms"))
    [thanks] = await _answers(api, 1)
    assert thanks["text"] == strings("ms")("feedback.thanks")
    assert thanks.get("show_alert") in (None, False)  # a toast, for the presser alone
    await api.push(api.callback(wrong, message=fact, user_id=11, language="ms"))
    again = (await _answers(api, 2))[1]
    assert again["text"] == strings("ms")("feedback.already")
    store = factbot.store
    assert await store.wrong_total() == 1
    await api.push(api.callback(wrong, message=fact, user_id=12))  # another member
    assert (await _answers(api, 3))[2]["text"] == strings(ENGLISH)("feedback.thanks")
    await _flush(api, running)
    assert _to(api, GROUP) == [fact]  # nothing was posted to the chat for any press
    assert api.sent("editMessageText") == []
    [counted] = await store.wrong_answers()
    assert (counted.topic, counted.quote, counted.count) == (
        "community", _quote(packs, "community", 0), 2)
    assert counted.questions == (question,)  # the mention left out, as the core saw it
    rows = await store.feedback_rows(counted.last_seen.replace(year=2000))
    assert sorted(r.platform for r in rows) == ["telegram", "telegram"]
    assert len({r.user_hash for r in rows}) == 2


async def test_the_question_is_found_without_reply_to_message_and_after_a_restart(
        api: FakeBotAPI, factbot: FactBot) -> None:
    """Telegram hands the question back with the press (the fact replies to it); where it
    does not, the process remembers it; a new process reads it from the press alone."""
    async with started(factbot, api) as adapter:
        await api.push(api.message("/hallyu"))  # a command: the question is its text
        await api.push(api.message("how many Koreans live in Malaysia?", chat_id=502,
                                   user_id=502))
        [hallyu] = await _sent_to(api, 501)
        [community] = await _sent_to(api, 502)
        await api.push(api.callback(_button(hallyu, WRONG), message=hallyu,
                                    without_reply_to=True))
        await _answers(api, 1)
        await _flush(api, adapter)
    async with started(factbot, api):  # a restart: nothing remembered
        await api.push(api.callback(_button(community, WRONG), message=community,
                                    user_id=502))
        await _answers(api, 2)
    questions = {w.topic: w.questions for w in await factbot.store.wrong_answers()}
    assert questions == {"hallyu": ("/hallyu",),
                         "community": ("how many Koreans live in Malaysia?",)}


async def test_another_fact_answers_the_same_question(
        api: FakeBotAPI, running: TelegramAdapter, factbot: FactBot) -> None:
    asked = api.message("/hallyu")
    await api.push(asked)
    [first] = await _sent_to(api, 501)
    await api.push(api.callback(_button(first, "more"), message=first))
    second = (await _sent_to(api, 501, 2))[1]
    assert second["reply_to_message"]["message_id"] == asked["message"]["message_id"]
    await api.push(api.callback(_button(second, WRONG), message=second, without_reply_to=True))
    await _answers(api, 2)
    [wrong] = await factbot.store.wrong_answers()
    assert wrong.questions == ("/hallyu",)


async def test_not_what_i_asked_on_an_inline_message(
        api: FakeBotAPI, running: TelegramAdapter, factbot: FactBot) -> None:
    await api.push(api.inline_query("kpop fans in malaysia", user_id=801))
    await api.wait_for(lambda: bool(api.sent("answerInlineQuery")))
    result = api.sent("answerInlineQuery")[0]["results"][0]
    api.chose_inline(result, "inline-77")
    wrong = _button(result, WRONG)
    for user in (801, 801, 802):
        await api.push(api.callback(wrong, inline=True, inline_message_id="inline-77",
                                    user_id=user))
    answers = await _answers(api, 3)
    assert sorted(a["text"] for a in answers) == sorted(
        [strings(ENGLISH)("feedback.thanks")] * 2 + [strings(ENGLISH)("feedback.already")])
    assert api.sent("editMessageText") == []
    [counted] = await factbot.store.wrong_answers()
    assert counted.count == 2
    # The sender's own query; another member's press on it has no question to go with it.
    assert sorted(counted.questions) == ["", "kpop fans in malaysia"]


async def test_not_what_i_asked_presses_are_held_to_the_cooldown(
        api: FakeBotAPI, packs: tuple[FactPack, ...]) -> None:
    bot = FactBot(packs, cooldown=CooldownSettings(user_per_minute=2, chat_per_minute=100))
    async with started(bot, api):
        for n in range(4):
            await api.push(api.callback(f"bad:hallyu:{n}", chat_id=GROUP,
                                        chat_type="supergroup"))
        answers = await _answers(api, 4)
    texts = sorted(a["text"] for a in answers)
    assert texts == sorted([strings(ENGLISH)("feedback.thanks")] * 2
                           + [strings(ENGLISH)("slow_down")] * 2)
    assert await bot.store.wrong_total() == 2


# --- "Show context" -------------------------------------------------------------------------


def _paragraph(pack: FactPack, topic: str, index: int) -> str:
    fact = next(t.facts[index] for t in pack.topics if t.command == topic)
    start, end = next((s, e) for s, e in paragraphs(pack.article) if s <= fact.offset < e)
    return pack.article[start:end].strip()


async def test_show_context_replies_with_the_paragraph_around_the_quote(
        api: FakeBotAPI, running: TelegramAdapter, packs: tuple[FactPack, ...]) -> None:
    await api.push(api.message("/hallyu", language="ko"))
    [fact] = await _sent_to(api, 501)
    press = parse_callback_data(_button(fact, CONTEXT))
    assert press is not None and press.action == CONTEXT and press.shown is not None
    await api.push(api.callback(_button(fact, CONTEXT), message=fact, language="ko"))
    context = (await _sent_to(api, 501, 2))[1]
    assert context["reply_to_message"]["message_id"] == fact["message_id"]
    assert "reply_markup" not in context
    seen = _read(context["text"])
    paragraph = _paragraph(packs[0], "hallyu", press.shown)
    assert len(paragraph) < 1200  # shown whole
    assert paragraph in seen.text  # verbatim, unescaped as the member reads it
    quote = _quote(packs, "hallyu", press.shown)
    assert quote in seen.bold  # the fact marked where it stands in the paragraph
    ko = strings("ko")
    assert seen.text.startswith(ko("context.heading"))
    assert seen.text.endswith(ko("fact.source", source="Bernama, Kuala Lumpur, Oct 2"))
    [answer] = await _answers(api, 1)
    assert answer.get("text") is None


async def test_show_context_on_an_inline_message_edits_it_and_keeps_the_buttons(
        api: FakeBotAPI, running: TelegramAdapter, packs: tuple[FactPack, ...]) -> None:
    await api.push(api.inline_query(""))
    await api.wait_for(lambda: bool(api.sent("answerInlineQuery")))
    result = next(r for r in api.sent("answerInlineQuery")[0]["results"]
                  if _button(r, "src") == "src:culture")
    api.chose_inline(result, "inline-9")
    await api.push(api.callback(_button(result, CONTEXT), inline=True,
                                inline_message_id="inline-9"))
    await _answers(api, 1)
    [edit] = api.sent("editMessageText")
    assert edit["inline_message_id"] == "inline-9"
    assert _paragraph(packs[0], "culture", 0) in _read(edit["text"]).text
    assert edit["reply_markup"] == result["reply_markup"]
    await _flush(api, running)
    assert _to(api, 501) == []


async def test_show_context_for_a_fact_that_is_gone_says_so(
        api: FakeBotAPI, running: TelegramAdapter) -> None:
    await api.push(api.callback("ctx:hallyu:99", language="ms"))
    [answer] = await _answers(api, 1)
    assert answer["text"] == strings("ms")("context.none")
    await _flush(api, running)
    assert _to(api, 501) == []


async def test_show_context_presses_are_held_to_the_cooldown(
        api: FakeBotAPI, packs: tuple[FactPack, ...]) -> None:
    bot = FactBot(packs, cooldown=CooldownSettings(user_per_minute=2, chat_per_minute=100))
    hallyu = next(t for t in packs[0].topics if t.command == "hallyu")
    context = callback_data(CONTEXT, "hallyu", 0, fact_key(hallyu.facts[0].quote))
    async with started(bot, api) as adapter:
        for _ in range(4):
            await api.push(api.callback(context, chat_id=GROUP, chat_type="supergroup"))
        answers = await _answers(api, 4)
        await _flush(api, adapter)
    assert len(_to(api, GROUP)) == 2
    assert sorted(a.get("text") or "" for a in answers) == ["", "", "",
                                                             strings(ENGLISH)("slow_down")]


# --- callback data and the context rendering --------------------------------------------


@pytest.mark.parametrize(("data", "press"), [
    ("bad:hallyu:0", ButtonPress(WRONG, "hallyu", 0)),
    ("ctx:trade_2:12", ButtonPress(CONTEXT, "trade_2", 12)),
    ("bad:hallyu", None),  # names no fact
    ("ctx:hallyu", None),
    ("ctx:hallyu:²", None),
    ("bad:hallyu:01", None),
    ("ctx:Hallyu:1", None),
    ("bad:hallyu:1:2", None),
    ("bad:hallyu:1:0123abcd", ButtonPress(WRONG, "hallyu", 1, "0123abcd")),
    ("ctx:hallyu:1:0123ABCD", None),  # lower-case hex only
    ("more:hallyu:1:0123abcd", None),  # only the two that name a fact carry a key
])
def test_feedback_and_context_data_are_read_strictly(data: str,
                                                     press: ButtonPress | None) -> None:
    assert parse_callback_data(data) == press


def test_the_longest_callback_data_fits_telegrams_64_bytes() -> None:
    for action in (WRONG, CONTEXT, "more"):
        key = "0123abcd" if action in (WRONG, CONTEXT) else ""
        data = callback_data(action, "a" * 32, 999_999, key)
        assert len(data.encode()) <= 64
        assert parse_callback_data(data) == ButtonPress(action, "a" * 32, 999_999, key)


def test_context_html_escapes_everything_and_marks_only_a_verbatim_quote() -> None:
    passage = 'Kim <Jr> & co said: “Fans wrote <3 & *stars*”, and left.'
    quote = "Fans wrote <3 & *stars*"
    reply = Reply(kind=ReplyKind.CONTEXT, text="plain", topic="kpop", quote=passage,
                  source="Test <News> & Co", heading="From the article:", context=quote,
                  language="ms", fact=0)
    rendered = render_html(reply)
    seen = _read(rendered)
    assert passage in seen.text
    assert seen.bold == ["From the article:", quote, "Sumber:"]
    assert "&lt;3 &amp; *stars*" in rendered
    assert seen.text.endswith("Sumber: Test <News> & Co")
    elsewhere = _read(render_html(Reply(kind=ReplyKind.CONTEXT, text="plain", quote=passage,
                                        context="not in it", heading="H")))
    assert elsewhere.bold == ["H"] and passage in elsewhere.text
