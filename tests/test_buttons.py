"""Button presses: callback data and custom_ids read strictly, one parser per format, and
presses on inline messages held to the cooldown like messages in a group."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import pytest

from factbot.adapters.discord_render import next_custom_id, parse_next_custom_id
from factbot.adapters.telegram import ALLOWED_UPDATES, APOLOGY, TelegramAdapter, build_application
from factbot.adapters.telegram_render import (
    MORE,
    SOURCE,
    ButtonPress,
    callback_data,
    parse_callback_data,
)
from factbot.core import FactBot
from factbot.packs import FactPack
from factbot.settings import CooldownSettings
from tests.fakes.telegram_api import FakeBotAPI

TOKEN = "135791:SECRET-buttons-token"


@pytest.fixture(autouse=True)
def _ptb_timedelta(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")  # as serve() sets it; see test_telegram.py


@contextlib.asynccontextmanager
async def started(bot: FactBot) -> AsyncIterator[tuple[FakeBotAPI, TelegramAdapter]]:
    async with FakeBotAPI(TOKEN) as api:
        app, adapter = build_application(bot, api.token, base_url=api.base_url)
        await app.initialize()
        assert app.updater is not None
        await app.updater.start_polling(allowed_updates=ALLOWED_UPDATES)
        await app.start()
        try:
            yield api, adapter
        finally:
            await app.updater.stop()
            await app.stop()
            await app.shutdown()


# --- the parsers --------------------------------------------------------------------------


@pytest.mark.parametrize(("data", "press"), [
    ("more:hallyu", ButtonPress(MORE, "hallyu")),
    ("more:hallyu:0", ButtonPress(MORE, "hallyu", 0)),
    ("more:hallyu:12", ButtonPress(MORE, "hallyu", 12)),
    ("src:hallyu", ButtonPress(SOURCE, "hallyu")),
    ("more:hallyu:²", None),  # str.isdigit() says yes, int() says no
    ("more:hallyu:٣", None),  # an Arabic-Indic three: int() reads it, we do not
    ("more:hallyu:03", None),
    ("more:hallyu:-1", None),
    ("more:hallyu:1:2", None),
    ("more:hallyu:1\n", None),
    ("src:hallyu:1", None),
    ("more:Hallyu", None),
    ("more:", None),
    ("more", None),
    ("next:hallyu", None),
    ("", None),
    (None, None),
])
def test_callback_data_is_read_strictly(data: str | None, press: ButtonPress | None) -> None:
    assert parse_callback_data(data) == press


def test_callback_data_written_is_read_back() -> None:
    for press in (ButtonPress(MORE, "hallyu"), ButtonPress(MORE, "a" * 32, 999),
                  ButtonPress(SOURCE, "trade_2")):
        data = callback_data(press.action, press.topic, press.shown)
        assert len(data.encode()) <= 64  # Telegram's limit
        assert parse_callback_data(data) == press


@pytest.mark.parametrize(("custom_id", "topic"), [
    (next_custom_id("hallyu"), "hallyu"),
    ("factbot:next:trade_2", "trade_2"),
    ("factbot:next:hallyu²", None),
    ("factbot:next:HALLYU", None),
    ("factbot:next:", None),
    ("factbot:next:hallyu\n", None),
    ("xfactbot:next:hallyu", None),
    ("factbot:next:" + "a" * 33, None),
])
def test_discord_custom_ids_are_read_strictly(custom_id: str, topic: str | None) -> None:
    assert parse_next_custom_id(custom_id) == topic


# --- Telegram, end to end -----------------------------------------------------------------


async def test_a_button_with_a_superscript_digit_is_answered_not_an_error(
        factbot: FactBot, caplog: pytest.LogCaptureFixture) -> None:
    """Before: "²".isdigit() let it through to int(), whose ValueError went to the error
    hook: logged as a failure, and the press never answered (a spinner until it timed out)."""
    async with started(factbot) as (api, _):
        for data in ("more:hallyu:²", "more:hallyu:٣"):
            await api.push(api.callback(data, inline=True))
        await api.wait_for(lambda: len(api.sent("answerCallbackQuery")) == 2)
    assert [a["text"] for a in api.sent("answerCallbackQuery")] == [
        "That topic is no longer available: send /topics."] * 2
    assert api.sent("editMessageText") == []
    assert "telegram update" not in caplog.text  # the error hook's line
    assert APOLOGY not in str(api.calls)


async def test_presses_on_an_inline_message_are_held_to_the_cooldown(
        packs: tuple[FactPack, ...]) -> None:
    """Before: 30 presses gave 30 edits, whatever the cooldown."""
    limits = CooldownSettings(user_per_minute=4, chat_per_minute=20)
    bot = FactBot(packs, cooldown=limits)
    async with started(bot) as (api, _):
        for shown in range(30):
            await api.push(api.callback(f"more:hallyu:{shown % 2}", inline=True))
        await api.wait_for(lambda: len(api.sent("answerCallbackQuery")) == 30)
        # Presses from others on the same message: the message's own limit holds too.
        for user in range(1, 31):
            await api.push(api.callback("more:hallyu:0", inline=True, user_id=9000 + user))
        await api.wait_for(lambda: len(api.sent("answerCallbackQuery")) == 60)
    # The first presser's 4, then the others' up to the message's 20 a minute.
    assert len(api.sent("editMessageText")) == 20
    # "Slow down" once to the first presser, once when the message is full; quiet after.
    texts = [a.get("text") or "" for a in api.sent("answerCallbackQuery")]
    assert len([t for t in texts if t.startswith("Slow down")]) == 2


async def test_presses_on_an_inline_message_are_answered_without_a_cooldown_configured(
        factbot: FactBot) -> None:
    """``factbot ask`` and the tests run without a cooldown: presses are never held."""
    async with started(factbot) as (api, _):
        for shown in range(8):
            await api.push(api.callback(f"more:hallyu:{shown % 2}", inline=True))
        await api.wait_for(lambda: len(api.sent("answerCallbackQuery")) == 8)
    assert len(api.sent("editMessageText")) == 8
