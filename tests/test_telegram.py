"""End to end: python-telegram-bot's real Application against the fake Bot API.

Every assertion is on what Telegram would have received. Nothing in the
library is mocked; the fake serves HTTP on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import html
import logging
import os
import re
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import aiohttp
import pytest

from factbot.adapters import telegram as telegram_adapter
from factbot.adapters.telegram import (
    ALLOWED_UPDATES,
    APOLOGY,
    ONLY_FACT,
    TelegramAdapter,
    build_application,
    serve,
)
from factbot.core import FactBot
from factbot.messages import fact_key
from factbot.packs import FactPack
from factbot.settings import Secret, Settings, TelegramSettings
from tests.fakes.telegram_api import BOT_USERNAME, FakeBotAPI

ROOT = Path(__file__).resolve().parent.parent
GROUP = -1001234
FLUSH_CHAT = 4242  # a private chat of its own, for the message that is sure to be answered
TOKEN = "987654:SECRET-token-never-logged"


@pytest.fixture(autouse=True)
def _ptb_timedelta(monkeypatch: pytest.MonkeyPatch) -> None:
    # PTB's documented opt-in to its next major version: without it, building a
    # RetryAfter emits a PTBDeprecationWarning, which filterwarnings=error turns into a
    # failure. serve() sets the same variable.
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


@pytest.fixture
async def api() -> AsyncIterator[FakeBotAPI]:
    async with FakeBotAPI(TOKEN) as fake:
        yield fake


@contextlib.asynccontextmanager
async def started(bot: FactBot, api: FakeBotAPI) -> AsyncIterator[TelegramAdapter]:
    """The adapter's Application, started the way tests should: no run_polling."""
    app, adapter = build_application(bot, api.token, base_url=api.base_url)
    await app.initialize()
    await adapter.publish_commands()
    assert app.updater is not None
    await app.updater.start_polling(allowed_updates=ALLOWED_UPDATES)
    await app.start()
    try:
        yield adapter
    finally:
        await app.updater.stop()
        await app.stop()
        await app.shutdown()


@pytest.fixture
async def running(api: FakeBotAPI, factbot: FactBot) -> AsyncIterator[TelegramAdapter]:
    async with started(factbot, api) as adapter:
        yield adapter


def _texts(api: FakeBotAPI, chat_id: int) -> list[str]:
    return [p["text"] for p in api.sent() if p["chat_id"] == chat_id]


async def _answered(api: FakeBotAPI, chat_id: int, count: int = 1) -> list[dict[str, Any]]:
    await api.wait_for(lambda: len(_texts(api, chat_id)) >= count)
    return [p for p in api.sent() if p["chat_id"] == chat_id]


async def _settled(adapter: TelegramAdapter) -> None:
    """Wait until PTB has handled every update it fetched, its handler and any send in it
    included (it marks an update done in its queue only then).

    Updates are handled concurrently: the answer to a later message does not show that an
    earlier one's handler has finished, so a reply it was wrongly about to send could still
    be on its way. After this, whatever the bot has not sent it never will.
    """
    await asyncio.wait_for(adapter.application.update_queue.join(), timeout=10)


async def _flush(api: FakeBotAPI, adapter: TelegramAdapter) -> dict[str, Any]:
    """Send a message that is answered, wait for its answer and for every update before it to
    be handled (see _settled); return the answer. Then assert on what was not sent."""
    await api.push(api.message("/help", chat_id=FLUSH_CHAT, user_id=FLUSH_CHAT))
    [answer] = await _answered(api, FLUSH_CHAT)
    await _settled(adapter)
    return answer


def _quotes(packs: tuple[FactPack, ...], topic: str) -> list[str]:
    return [f.quote for p in packs for t in p.topics if t.command == topic for f in t.facts]


def _has_quote(html_text: str, packs: tuple[FactPack, ...], topic: str) -> bool:
    return any(html.escape(q) in html_text for q in _quotes(packs, topic))


async def test_a_private_command_gets_the_topics_fact_with_buttons(
        api: FakeBotAPI, running: TelegramAdapter, packs: tuple[FactPack, ...]) -> None:
    update = api.message("/hallyu")
    await api.push(update)
    [sent] = await _answered(api, 501)
    assert sent["parse_mode"] == "HTML"
    assert sent["text"].startswith("<blockquote>“")
    assert _has_quote(sent["text"], packs, "hallyu")
    assert "<b>Source:</b> Bernama, Kuala Lumpur, Oct 2" in sent["text"]
    # A reply to the question, so that "Not what I asked" finds it again.
    assert sent["reply_parameters"] == {"message_id": update["message"]["message_id"],
                                        "allow_sending_without_reply": True}
    buttons, feedback = sent["reply_markup"]["inline_keyboard"]
    more = buttons[0]["callback_data"]
    assert [(b["text"], b["callback_data"]) for b in buttons] == [
        ("Another fact", more), ("Source", "src:hallyu")]
    # The button names the fact it is under, so "Another fact" can move on from it.
    index = int(more.removeprefix("more:hallyu:"))
    assert html.escape(_quotes(packs, "hallyu")[index]) in sent["text"]
    key = fact_key(_quotes(packs, "hallyu")[index])  # the fact or none, after a reload too
    assert [(b["text"], b["callback_data"]) for b in feedback] == [
        ("Not what I asked", f"bad:hallyu:{index}:{key}"),
        ("Show context", f"ctx:hallyu:{index}:{key}")]


async def test_a_group_command_addressed_to_us_is_answered_as_a_reply(
        api: FakeBotAPI, running: TelegramAdapter, packs: tuple[FactPack, ...]) -> None:
    update = api.message(f"/hallyu@{BOT_USERNAME}", chat_id=GROUP, chat_type="supergroup")
    await api.push(update)
    [sent] = await _answered(api, GROUP)
    assert _has_quote(sent["text"], packs, "hallyu")
    assert sent["reply_parameters"]["message_id"] == update["message"]["message_id"]


async def test_group_commands_for_other_bots_and_plain_chatter_are_ignored(
        api: FakeBotAPI, running: TelegramAdapter, packs: tuple[FactPack, ...]) -> None:
    await api.push(api.message("/hallyu@otherbot", chat_id=GROUP, chat_type="supergroup"))
    await api.push(api.message("k-pop is great, right?", chat_id=GROUP, chat_type="group"))
    await api.push(api.message("/partnership", chat_id=GROUP, chat_type="supergroup"))
    await _answered(api, GROUP)
    await _settled(running)  # the two before it are handled too, not merely later
    [sent] = api.sent()  # only the last one, a bare command
    assert _has_quote(sent["text"], packs, "partnership")


async def test_a_mention_or_a_reply_to_the_bot_in_a_group_is_answered(
        api: FakeBotAPI, running: TelegramAdapter, packs: tuple[FactPack, ...]) -> None:
    await api.push(api.message(f"@{BOT_USERNAME} tell me about k-pop", chat_id=GROUP,
                               chat_type="supergroup"))
    [first] = await _answered(api, GROUP)
    assert _has_quote(first["text"], packs, "hallyu")
    await api.push(api.message("how many Koreans live in Malaysia?", chat_id=GROUP,
                               chat_type="supergroup", reply_to_bot=True))
    second = (await _answered(api, GROUP, 2))[1]
    assert _has_quote(second["text"], packs, "community")


async def test_free_text_in_a_private_chat_is_answered(
        api: FakeBotAPI, running: TelegramAdapter, packs: tuple[FactPack, ...]) -> None:
    await api.push(api.message("how many Koreans live in Malaysia?"))
    [sent] = await _answered(api, 501)
    assert _has_quote(sent["text"], packs, "community")


async def test_unknown_questions_get_an_honest_answer_without_buttons(
        api: FakeBotAPI, running: TelegramAdapter) -> None:
    await api.push(api.message("<b>what is the weather</b> & stuff"))
    [sent] = await _answered(api, 501)
    assert sent["text"].startswith("Sorry, I don&#x27;t know that one")
    assert "/hallyu" in sent["text"]
    assert "reply_markup" not in sent


async def test_a_deep_link_start_payload_answers_that_topic(
        api: FakeBotAPI, running: TelegramAdapter, packs: tuple[FactPack, ...]) -> None:
    await api.push(api.message("/start hallyu"))
    [sent] = await _answered(api, 501)
    assert _has_quote(sent["text"], packs, "hallyu")


async def test_an_inline_query_offers_matching_facts_ready_to_send(
        api: FakeBotAPI, running: TelegramAdapter, packs: tuple[FactPack, ...]) -> None:
    await api.push(api.inline_query("hallyu"))
    await api.wait_for(lambda: bool(api.sent("answerInlineQuery")))
    [answer] = api.sent("answerInlineQuery")
    results = answer["results"]
    assert 1 <= len(results) <= 10
    assert len({r["id"] for r in results}) == len(results)
    for result in results:
        content = result["input_message_content"]
        assert content["parse_mode"] == "HTML"
        assert _has_quote(content["message_text"], packs, "hallyu")
        assert "<b>Source:</b>" in content["message_text"]


async def test_an_empty_inline_query_offers_the_top_topics(
        api: FakeBotAPI, running: TelegramAdapter, factbot: FactBot) -> None:
    await api.push(api.inline_query(""))
    await api.wait_for(lambda: bool(api.sent("answerInlineQuery")))
    [answer] = api.sent("answerInlineQuery")
    topics = [t.command for p in factbot.packs for t in p.topics]
    assert [r["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
            for r in answer["results"]] == [f"more:{t}:0" for t in topics][:10]


async def test_another_fact_button_gives_the_chat_the_topics_next_fact(
        api: FakeBotAPI, running: TelegramAdapter, packs: tuple[FactPack, ...]) -> None:
    await api.push(api.message("/hallyu"))
    await _answered(api, 501)
    await api.push(api.callback("more:hallyu"))
    sent = await _answered(api, 501, 2)
    assert _has_quote(sent[1]["text"], packs, "hallyu")
    assert sent[1]["text"] != sent[0]["text"]
    await api.wait_for(lambda: bool(api.sent("answerCallbackQuery")))


async def test_source_button_shows_the_citation(
        api: FakeBotAPI, running: TelegramAdapter) -> None:
    await api.push(api.callback("src:hallyu"))
    await api.wait_for(lambda: bool(api.sent("answerCallbackQuery")))
    [answer] = api.sent("answerCallbackQuery")
    assert answer["show_alert"] is True
    assert "Bernama, Kuala Lumpur, Oct 2" in answer["text"]
    flush = await _flush(api, running)
    assert api.sent() == [flush]  # the citation went in the alert, not in a message


async def _inline_results(api: FakeBotAPI, query: str) -> dict[str, dict[str, Any]]:
    """The answer to an inline query, by the topic of each result's buttons."""
    await api.push(api.inline_query(query))
    await api.wait_for(lambda: bool(api.sent("answerInlineQuery")))
    results = api.sent("answerInlineQuery")[-1]["results"]
    return {r["reply_markup"]["inline_keyboard"][0][1]["callback_data"][4:]: r for r in results}


async def test_another_fact_on_an_inline_message_edits_it_to_a_different_fact(
        api: FakeBotAPI, running: TelegramAdapter, packs: tuple[FactPack, ...]) -> None:
    result = (await _inline_results(api, ""))["hallyu"]  # the topic's lead fact
    data = api.chose_inline(result)
    shown = [result["input_message_content"]["message_text"]]
    for _ in range(3):
        await api.push(api.callback(data, inline=True))
        await api.wait_for(lambda: len(api.sent("answerCallbackQuery")) == len(shown))
        edit = api.sent("editMessageText")[-1]
        assert edit["inline_message_id"] == "inline-msg-1"
        assert _has_quote(edit["text"], packs, "hallyu")
        assert edit["text"] != shown[-1]  # Telegram refuses an edit to the same text
        shown.append(edit["text"])
        data = edit["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    assert len(set(shown)) == 4
    assert api.succeeded("editMessageText") == api.sent("editMessageText")
    assert [a.get("text") for a in api.sent("answerCallbackQuery")] == [None] * 3


async def test_another_fact_on_a_one_fact_topic_says_so_instead_of_repeating_it(
        api: FakeBotAPI, running: TelegramAdapter, packs: tuple[FactPack, ...]) -> None:
    assert len(_quotes(packs, "trade")) == 1
    result = (await _inline_results(api, ""))["trade"]
    data = api.chose_inline(result)
    await api.push(api.callback(data, inline=True))
    await api.push(api.callback(data, chat_id=GROUP, chat_type="supergroup"))
    await api.push(api.callback("more:trade"))  # a button from before the fact index
    await api.wait_for(lambda: len(api.sent("answerCallbackQuery")) == 3)
    flush = await _flush(api, running)
    assert [a["text"] for a in api.sent("answerCallbackQuery")] == [ONLY_FACT] * 3
    assert api.sent("editMessageText") == []
    assert api.sent() == [flush]


async def test_an_old_inline_button_that_would_repeat_the_fact_gets_a_toast(
        api: FakeBotAPI, running: TelegramAdapter, caplog: pytest.LogCaptureFixture) -> None:
    result = (await _inline_results(api, ""))["hallyu"]
    api.chose_inline(result)
    # Buttons sent before the index: the user's first turn is the lead fact on screen.
    await api.push(api.callback("more:hallyu", inline=True))
    await api.wait_for(lambda: bool(api.sent("answerCallbackQuery")))
    flush = await _flush(api, running)
    assert api.sent() == [flush]  # the press edits the inline message, it posts nothing
    [edit] = api.sent("editMessageText")
    assert edit["text"] == result["input_message_content"]["message_text"]
    assert api.succeeded("editMessageText") == []  # the fake said "message is not modified"
    [answer] = api.sent("answerCallbackQuery")
    assert answer["text"] == ONLY_FACT
    assert "failed" not in caplog.text


async def test_another_fact_in_a_forum_topic_is_posted_in_that_topic(
        api: FakeBotAPI, running: TelegramAdapter, packs: tuple[FactPack, ...]) -> None:
    await api.push(api.callback("more:hallyu:0", chat_id=GROUP, chat_type="supergroup",
                                thread_id=42))
    [sent] = await _answered(api, GROUP)
    assert sent["message_thread_id"] == 42
    assert _has_quote(sent["text"], packs, "hallyu")
    await api.push(api.callback("more:hallyu:0", chat_id=GROUP - 1, chat_type="supergroup"))
    [general] = await _answered(api, GROUP - 1)
    assert "message_thread_id" not in general


async def test_a_command_in_a_forum_topic_is_answered_in_that_topic(
        api: FakeBotAPI, running: TelegramAdapter) -> None:
    await api.push(api.message("/hallyu", chat_id=GROUP, chat_type="supergroup",
                               thread_id=7))
    [sent] = await _answered(api, GROUP)
    assert sent["message_thread_id"] == 7


async def test_an_anonymous_admin_may_use_admin_commands(
        api: FakeBotAPI, running: TelegramAdapter) -> None:
    from factbot.messages import IncomingMessage

    await api.push(api.message("/daily on", chat_id=GROUP, chat_type="supergroup",
                               anonymous_admin=True))
    [accepted] = await _answered(api, GROUP)
    assert accepted["text"].startswith("Daily fact: on")
    assert api.sent("getChatMember") == []  # it would ask about GroupAnonymousBot
    as_group = IncomingMessage("/daily on", platform="telegram", chat_id=str(GROUP),
                               user_id=str(GROUP), is_group=True)
    assert await running.is_admin(as_group) is True


async def test_topics_with_several_packs_are_grouped_under_each_source(
        api: FakeBotAPI) -> None:
    from factbot.packs import load_packs

    two = load_packs(ROOT / "tests" / "data" / "packs")
    assert len(two) == 2
    async with started(FactBot(two), api):
        await api.push(api.message("/topics"))
        [sent] = await _answered(api, 501)
    assert api.succeeded() == api.sent()
    text = sent["text"]
    heads = [text.index(f"<b>{html.escape(p.source.line())}</b>") for p in two]
    firsts = [text.index(f"/{p.topics[0].command} — ") for p in two]
    assert heads[0] < firsts[0] < heads[1] < firsts[1]


async def test_the_fake_refuses_a_message_over_telegrams_limit(
        api: FakeBotAPI, running: TelegramAdapter) -> None:
    from telegram.error import BadRequest

    bot = running.application.bot
    await bot.send_message(501, "é" * 4096)
    with pytest.raises(BadRequest, match="too long"):
        await bot.send_message(501, "é" * 4097)
    await bot.send_message(501, "<b>" + "x" * 4096 + "</b>", parse_mode="HTML")


async def test_setmycommands_lists_every_topic_and_the_builtins(
        api: FakeBotAPI, running: TelegramAdapter, factbot: FactBot) -> None:
    # The default menu: English, for everyone (tests/test_telegram_locale.py: the others).
    [published] = [p for p in api.sent("setMyCommands")
                   if "language_code" not in p and p["scope"] == {"type": "default"}]
    names = [c["command"] for c in published["commands"]]
    assert names == [name for name, _ in factbot.commands()]
    assert {"help", "topics", "source", "hallyu"} <= set(names)


async def test_a_reload_republishes_the_command_menu(
        api: FakeBotAPI, running: TelegramAdapter, factbot: FactBot) -> None:
    def menus(calls: list[dict[str, Any]]) -> list[tuple[str, str, list[Any]]]:
        return sorted((p.get("language_code", ""), p["scope"]["type"], p["commands"])
                      for p in calls)

    first = api.sent("setMyCommands")
    assert len(first) == 6  # three languages, two scopes
    for listener in factbot.reload_listeners:
        await listener()
    assert menus(api.sent("setMyCommands")[6:]) == menus(first)


async def test_admin_status_comes_from_getchatmember_and_is_cached(
        api: FakeBotAPI, running: TelegramAdapter) -> None:
    from factbot.messages import IncomingMessage

    api.admins.add((GROUP, 9))

    def msg(user: int, is_group: bool = True) -> IncomingMessage:
        return IncomingMessage("/daily on", platform="telegram", chat_id=str(GROUP),
                               user_id=str(user), is_group=is_group)

    assert await running.is_admin(msg(9)) is True
    assert await running.is_admin(msg(9)) is True
    assert await running.is_admin(msg(10)) is False
    assert await running.is_admin(msg(10, is_group=False)) is True
    assert len(api.sent("getChatMember")) == 2


async def test_daily_is_for_group_admins_as_telegram_reports_them(
        api: FakeBotAPI, running: TelegramAdapter) -> None:
    from factbot.core import NOT_ADMIN

    api.admins.add((GROUP, 9))
    await api.push(api.message("/daily on", chat_id=GROUP, user_id=10, chat_type="group"))
    [refused] = await _answered(api, GROUP)
    assert refused["text"] == html.escape(NOT_ADMIN)
    await api.push(api.message("/daily on", chat_id=GROUP, user_id=9, chat_type="group"))
    accepted = (await _answered(api, GROUP, 2))[1]
    assert accepted["text"].startswith("Daily fact: on")
    assert [(p["chat_id"], p["user_id"]) for p in api.sent("getChatMember")] == [
        (GROUP, 10), (GROUP, 9)]


async def test_the_daily_fact_goes_out_through_the_adapter(
        api: FakeBotAPI, running: TelegramAdapter, factbot: FactBot,
        packs: tuple[FactPack, ...]) -> None:
    from datetime import UTC, datetime, time

    from factbot.features.daily import SendThrottle
    from factbot.storage import ChatKey

    await factbot.store.set_daily(ChatKey("telegram", str(GROUP)), True, time(9, 0), "UTC")
    assert await factbot.daily.send_due(running, datetime.now(UTC), SendThrottle()) == 1
    [sent] = api.sent()
    assert sent["chat_id"] == GROUP
    assert sent["text"].startswith("<b>Fact of the day</b>\n<blockquote>")
    # Nobody asked for it: "Not what I asked" would have no question to go with it.
    assert [[b["text"] for b in row] for row in sent["reply_markup"]["inline_keyboard"]] == [
        ["Another fact", "Source"], ["Show context"]]


async def test_group_cooldown_says_slow_down_once_then_stays_quiet(
        api: FakeBotAPI, packs: tuple[FactPack, ...]) -> None:
    from factbot.messages import ReplyKind
    from factbot.render import render_slow_down
    from factbot.settings import CooldownSettings

    bot = FactBot(packs, cooldown=CooldownSettings(user_per_minute=2))
    async with started(bot, api) as adapter:
        for _ in range(4):
            await api.push(api.message("/hallyu", chat_id=GROUP, chat_type="supergroup"))
        await _answered(api, GROUP, 3)
        await api.push(api.message("/hallyu", chat_id=GROUP - 1, chat_type="supergroup"))
        await _answered(api, GROUP - 1)  # answered: every update before it was fetched
        await _settled(adapter)  # and handled: a fourth reply would have been sent by now
    texts = _texts(api, GROUP)  # updates run concurrently: replies may arrive in any order
    assert len(texts) == 3
    assert texts.count(html.escape(render_slow_down().text)) == 1
    assert render_slow_down().kind is ReplyKind.SLOW_DOWN


async def test_send_posts_an_unprompted_fact(
        api: FakeBotAPI, running: TelegramAdapter, factbot: FactBot,
        packs: tuple[FactPack, ...]) -> None:
    [lead] = factbot.search("hallyu", limit=1)
    await running.send(str(GROUP), lead)
    [sent] = api.sent()
    assert sent["chat_id"] == GROUP and _has_quote(sent["text"], packs, "hallyu")


class FakeClock:
    """Monotonic time that moves only when the adapter sleeps; every sleep is kept."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, delay: float) -> None:
        self.sleeps.append(delay)
        self.now += delay
        await asyncio.sleep(0)  # other tasks run meanwhile, as in a real sleep


async def test_flood_control_waits_retry_after_then_succeeds(
        api: FakeBotAPI, running: TelegramAdapter, packs: tuple[FactPack, ...],
        caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    """The retry comes only after the adapter has slept Telegram's retry_after, measured on
    a clock the test owns: the adapter's and the fake's, never the wall clock."""
    clock = FakeClock()
    # The adapter's rate limiter reads time.monotonic() and sleeps with asyncio.sleep().
    monkeypatch.setattr(telegram_adapter, "time", clock)
    monkeypatch.setattr(telegram_adapter, "asyncio",
                        SimpleNamespace(**{**vars(asyncio), "sleep": clock.sleep}))
    api.clock = clock.monotonic
    api.fail("sendMessage", 429, retry_after=1)
    await api.push(api.message("/hallyu"))
    await api.wait_for(lambda: len(api.sent()) == 2)
    first, second = [c for c in api.calls if c.method == "sendMessage"]
    assert (first.status, second.status) == (429, 200)
    assert clock.sleeps == [1.0]  # retry_after, in full, once
    assert second.at - first.at == 1.0  # and the retry came after that sleep, not before
    assert first.params["text"] == second.params["text"]
    assert _has_quote(second.params["text"], packs, "hallyu")
    assert "flood control on sendMessage" in caplog.text
    assert APOLOGY not in caplog.text


async def test_a_server_error_is_logged_apologised_for_and_the_bot_keeps_running(
        api: FakeBotAPI, running: TelegramAdapter, packs: tuple[FactPack, ...],
        caplog: pytest.LogCaptureFixture) -> None:
    api.fail("sendMessage", 500)
    await api.push(api.message("/hallyu"))
    await _answered(api, 501, 2)
    assert _texts(api, 501)[1] == APOLOGY
    failed = [r for r in caplog.records if r.getMessage().startswith("telegram update")]
    assert failed and failed[0].exc_info is not None
    await api.push(api.message("/partnership"))
    sent = await _answered(api, 501, 3)
    assert _has_quote(sent[2]["text"], packs, "partnership")


async def test_polling_recovers_from_a_server_error(
        api: FakeBotAPI, running: TelegramAdapter, packs: tuple[FactPack, ...]) -> None:
    api.fail("getUpdates", 500)
    await api.push(api.message("/hallyu"))
    [sent] = await _answered(api, 501)
    assert _has_quote(sent["text"], packs, "hallyu")


async def test_no_update_is_lost_and_none_is_answered_twice(
        api: FakeBotAPI, running: TelegramAdapter) -> None:
    chats = list(range(10_000, 10_300))
    kinds = ["/hallyu", "how many Koreans live in Malaysia?", "hello", "/topics", "/start"]
    for start in range(0, len(chats), 50):  # in bursts, while the bot is answering
        await api.push_many([api.message(kinds[c % len(kinds)], chat_id=c, user_id=c)
                             for c in chats[start:start + 50]])
        await asyncio.sleep(0)
    api.fail("sendMessage", 429, retry_after=1)
    await api.push(api.message("/hallyu", chat_id=99, user_id=99))
    await api.wait_for(lambda: len({p["chat_id"] for p in api.sent()}) == len(chats) + 1,
                       timeout=30)
    await api.push(api.message("/help", chat_id=98, user_id=98))  # flush: nothing after it
    await _answered(api, 98)
    await _settled(running)  # no handler still holds a reply (or a second one) to send
    answered = [p["chat_id"] for p in api.succeeded()]
    assert sorted(answered) == sorted([*chats, 99, 98])
    assert len(api.sent()) == len(answered) + 1  # the one 429, retried
    assert set(api.delivered.values()) == {1}
    assert len(api.delivered) == len(chats) + 2


async def test_user_text_never_crashes_the_bot(
        api: FakeBotAPI, running: TelegramAdapter) -> None:
    nasty = ["/", "/@", "/hallyu@", "@", "\u202e<script>&amp;", "/start " + "x" * 4000,
             "🇰🇷" * 100, "/ask", "/source", "/fact nonexistent"]
    for text in nasty:
        await api.push(api.message(text))
    await _answered(api, 501, len(nasty))
    assert APOLOGY not in _texts(api, 501)


# --- serve(): the real entry point ---------------------------------------------


def _settings(api: FakeBotAPI, **telegram: Any) -> Settings:
    return Settings(telegram=TelegramSettings(token=Secret(api.token),
                                              api_base_url=api.base_url, **telegram))


def _args(**kwargs: Any) -> argparse.Namespace:
    return argparse.Namespace(platform="telegram", webhook_url=kwargs.get("webhook_url"),
                              listen=kwargs.get("listen"))


async def test_serve_polls_answers_and_shuts_down_cleanly_without_logging_the_token(
        api: FakeBotAPI, factbot: FactBot, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    stop = asyncio.Event()
    task = asyncio.create_task(serve(factbot, _settings(api), _args(), stop))
    await api.wait_for(lambda: bool(api.sent("getUpdates")))
    # Someone turns httpx up to see requests: the URLs are logged, the token is not.
    logging.getLogger("httpx").setLevel(logging.DEBUG)
    await api.push(api.message("/hallyu"))
    await _answered(api, 501)
    await asyncio.wait_for(api.wait_for(lambda: "HTTP Request: POST" in caplog.text), 5)
    stop.set()
    await asyncio.wait_for(task, timeout=2.0)
    methods = [c.method for c in api.calls]
    assert methods.index("deleteWebhook") < methods.index("getUpdates")
    assert "setMyCommands" in methods
    assert api.sent("getUpdates")[-1].get("timeout") == 0  # the last poll confirms the offset
    # my_chat_member: the bot blocked, removed or added back (tests/test_telegram_lifecycle.py).
    assert api.sent("getUpdates")[0]["allowed_updates"] == [
        "message", "inline_query", "callback_query", "my_chat_member"]
    assert factbot.reload_listeners == []
    assert "<token>" in caplog.text
    assert api.token not in caplog.text
    assert api.token.split(":")[1] not in caplog.text


async def test_serve_keeps_httpx_quiet_at_info(
        api: FakeBotAPI, factbot: FactBot, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    stop = asyncio.Event()
    task = asyncio.create_task(serve(factbot, _settings(api), _args(), stop))
    await api.push(api.message("/hallyu"))
    await _answered(api, 501)
    stop.set()
    await asyncio.wait_for(task, timeout=2.0)
    assert "polling for updates" in caplog.text
    assert "HTTP Request" not in caplog.text
    assert api.token not in caplog.text


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def test_webhook_mode_registers_a_secret_and_refuses_posts_without_it(
        api: FakeBotAPI, factbot: FactBot, packs: tuple[FactPack, ...],
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    port = _free_port()
    public = "https://bot.example.com/telegram-hook"  # TLS ends at a proxy in front of us
    url = f"http://127.0.0.1:{port}/telegram-hook"
    stop = asyncio.Event()
    task = asyncio.create_task(serve(factbot, _settings(api),
                                     _args(webhook_url=public, listen=f"127.0.0.1:{port}"),
                                     stop))
    try:
        # PTB registers the webhook before its server listens; serve logs once it does.
        await api.wait_for(lambda: "serving a webhook" in caplog.text)
        assert api.webhook is not None
        assert api.webhook["url"] == public
        assert api.webhook["allowed_updates"] == [
            "message", "inline_query", "callback_query", "my_chat_member"]
        secret = api.webhook["secret_token"]
        assert len(secret) >= 32
        update = {"update_id": 1, **api.message("/hallyu")}
        async with aiohttp.ClientSession() as session:
            async with session.post(url, json=update,
                                    headers={"X-Telegram-Bot-Api-Secret-Token": "wrong"}) as bad:
                assert bad.status == 403
            async with session.post(url, json=update,
                                    headers={"X-Telegram-Bot-Api-Secret-Token": secret}) as ok:
                assert ok.status == 200
        [sent] = await _answered(api, 501)
        assert _has_quote(sent["text"], packs, "hallyu")
        assert "getUpdates" not in [c.method for c in api.calls]
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=5.0)


async def test_a_rejected_token_is_a_one_line_config_error_without_the_token(
        api: FakeBotAPI, factbot: FactBot) -> None:
    from factbot.errors import ConfigError

    settings = Settings(telegram=TelegramSettings(token=Secret("111:WRONG-token-value"),
                                                  api_base_url=api.base_url))
    with pytest.raises(ConfigError, match="TELEGRAM_BOT_TOKEN was rejected") as info:
        await serve(factbot, settings, _args(), asyncio.Event())
    assert "WRONG-token-value" not in str(info.value)


async def test_a_token_revoked_while_polling_stops_serve_with_a_config_error(
        api: FakeBotAPI, factbot: FactBot, caplog: pytest.LogCaptureFixture) -> None:
    from factbot.errors import ConfigError

    stop = asyncio.Event()
    task = asyncio.create_task(serve(factbot, _settings(api), _args(), stop))
    await api.wait_for(lambda: bool(api.sent("getUpdates")))
    api.fail("getUpdates", 401, times=1000, description="Unauthorized")
    await api.push(api.message("/hallyu"))  # ends the long poll; the next one gets the 401
    await _answered(api, 501)
    with pytest.raises(ConfigError, match="rejected by the Bot API while running") as info:
        await asyncio.wait_for(task, timeout=5.0)
    assert api.token not in str(info.value)
    assert api.token not in caplog.text
    assert factbot.reload_listeners == []  # the shutdown ran to the end


async def test_a_failed_command_menu_is_a_warning_and_the_bot_still_answers(
        api: FakeBotAPI, factbot: FactBot, packs: tuple[FactPack, ...],
        caplog: pytest.LogCaptureFixture) -> None:
    api.fail("setMyCommands", 502, description="Bad Gateway")
    stop = asyncio.Event()
    task = asyncio.create_task(serve(factbot, _settings(api), _args(), stop))
    await api.push(api.message("/hallyu"))
    [sent] = await _answered(api, 501)
    assert _has_quote(sent["text"], packs, "hallyu")
    stop.set()
    await asyncio.wait_for(task, timeout=5.0)
    # One menu (of three languages by two scopes) failed; the others were still set.
    assert sorted(c.status for c in api.calls if c.method == "setMyCommands") == [200] * 5 + [502]
    warnings = [r for r in caplog.records if "command menu" in r.getMessage()]
    assert [r.levelno for r in warnings] == [logging.WARNING]
    assert api.token not in caplog.text


def test_factbot_run_telegram_without_a_token_exits_2_naming_the_variable(
        tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("TELEGRAM_", "DISCORD_", "FACTBOT_"))}
    env["HOME"] = str(tmp_path)
    done = subprocess.run([sys.executable, "-c", "import sys; from factbot.cli import main; "
                                                 "sys.exit(main())", "run", "telegram"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
                          check=False)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "TELEGRAM_BOT_TOKEN" in lines[0]
    assert lines[0].startswith("factbot: error:")


@pytest.mark.parametrize(("webhook_url", "listen", "error"), [
    ("https://bot.example.com/tg", "nonsense", "--listen 'nonsense' must be HOST:PORT"),
    ("https://bot.example.com/tg", "127.0.0.1:99999", "must be HOST:PORT"),
    (None, "127.0.0.1:8443", "--listen needs --webhook-url"),
    ("ftp://bot.example.com/tg", None, "--webhook-url 'ftp://bot.example.com/tg' must be"),
    ("http://bot.example.com/tg", None, "'http://bot.example.com/tg' must be an https:// URL"),
])
async def test_bad_webhook_arguments_are_one_line_errors_naming_the_flag(
        api: FakeBotAPI, factbot: FactBot, webhook_url: str | None, listen: str | None,
        error: str) -> None:
    from factbot.errors import ConfigError

    with pytest.raises(ConfigError, match=re.escape(error)):  # not a server that waits on
        await asyncio.wait_for(serve(factbot, _settings(api),
                                     _args(webhook_url=webhook_url, listen=listen),
                                     asyncio.Event()), timeout=5.0)
    assert api.calls == []  # refused before talking to Telegram
