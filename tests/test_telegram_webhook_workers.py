"""Several Telegram webhook workers behind one proxy: one secret, one setWebhook."""

from __future__ import annotations

import argparse
import asyncio
import logging
import socket
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from factbot.adapters.telegram import ALLOWED_UPDATES, serve
from factbot.app import build_bot
from factbot.cli import main
from factbot.core import FactBot
from factbot.errors import ConfigError
from factbot.packs import FactPack
from factbot.settings import Secret, Settings, TelegramSettings
from tests.fakes.telegram_api import FakeBotAPI

TOKEN = "987654:SECRET-token-never-logged"
SECRET = "one-secret-for-every-worker_0123456789"
PUBLIC = "https://bot.example.com/telegram-hook"  # the proxy's URL; TLS ends there


@pytest.fixture(autouse=True)
def _ptb_timedelta(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")  # as tests/test_telegram.py: no deprecation


@pytest.fixture
async def api() -> AsyncIterator[FakeBotAPI]:
    async with FakeBotAPI(TOKEN) as fake:
        yield fake


def _settings(api: FakeBotAPI, **telegram: Any) -> Settings:
    return Settings(telegram=TelegramSettings(token=Secret(api.token),
                                              api_base_url=api.base_url, **telegram))


def _args(listen: str | None = None, webhook_url: str | None = PUBLIC) -> argparse.Namespace:
    return argparse.Namespace(platform="telegram", webhook_url=webhook_url, listen=listen)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def _post(port: int, update: dict[str, Any], secret: str) -> int:
    async with (aiohttp.ClientSession() as session,
                session.post(f"http://127.0.0.1:{port}/telegram-hook", json=update,
                             headers={"X-Telegram-Bot-Api-Secret-Token": secret}) as answer):
        return answer.status


async def test_two_workers_with_one_secret_never_register_and_both_answer_its_posts(
        api: FakeBotAPI, factbot: FactBot, packs: tuple[FactPack, ...],
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    settings = _settings(api, webhook_secret=Secret(SECRET), register_webhook=False)
    other = build_bot(Settings(), packs=packs, cooldown=False)
    ports = [_free_port(), _free_port()]
    stop = asyncio.Event()
    workers = [asyncio.create_task(serve(bot, settings, _args(f"127.0.0.1:{port}"), stop))
               for bot, port in zip((factbot, other), ports, strict=True)]
    try:
        await api.wait_for(lambda: caplog.text.count("serving a webhook") == 2)
        for chat, port in enumerate(ports, start=601):
            update = {"update_id": chat, **api.message("/hallyu", chat_id=chat, user_id=chat)}
            assert await _post(port, update, "a-worker-of-its-own") == 403
            assert await _post(port, update, SECRET) == 200
        await api.wait_for(lambda: {p["chat_id"] for p in api.sent()} == {601, 602})
        methods = [c.method for c in api.calls]
        assert "setWebhook" not in methods and "deleteWebhook" not in methods
        assert "getUpdates" not in methods
    finally:
        stop.set()
        await asyncio.wait_for(asyncio.gather(*workers), timeout=5.0)
    assert "setWebhook" not in [c.method for c in api.calls]  # nor on the way out
    assert api.webhook is None


async def test_a_single_process_still_registers_its_webhook(
        api: FakeBotAPI, factbot: FactBot, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    stop = asyncio.Event()
    task = asyncio.create_task(serve(factbot, _settings(api, webhook_secret=Secret(SECRET)),
                                     _args(f"127.0.0.1:{_free_port()}"), stop))
    try:
        await api.wait_for(lambda: "serving a webhook" in caplog.text)
        assert [(p["url"], p["secret_token"]) for p in api.sent("setWebhook")] == [
            (PUBLIC, SECRET)]
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=5.0)


@pytest.mark.parametrize(("changes", "webhook_url", "error"), [
    ({}, PUBLIC, "telegram.register_webhook is false but telegram.webhook_secret "
                 "(FACTBOT_TELEGRAM_WEBHOOK_SECRET) is not set"),
    ({"webhook_secret": Secret(SECRET)}, None,
     "telegram.register_webhook is false, which is for webhook workers"),
])
async def test_a_worker_that_cannot_share_the_webhook_refuses_to_start_in_one_line(
        api: FakeBotAPI, factbot: FactBot, changes: dict[str, Any], webhook_url: str | None,
        error: str) -> None:
    settings = _settings(api, register_webhook=False, **changes)
    with pytest.raises(ConfigError) as info:
        await serve(factbot, settings, _args(webhook_url=webhook_url), asyncio.Event())
    assert str(info.value).startswith(error) and "\n" not in str(info.value)
    assert api.calls == []  # refused before asking Telegram anything


@pytest.fixture
def telegram_env(api: FakeBotAPI, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", api.token)
    monkeypatch.setenv("TELEGRAM_API_BASE_URL", api.base_url)
    monkeypatch.setenv("FACTBOT_TELEGRAM_WEBHOOK_SECRET", SECRET)
    monkeypatch.setenv("FACTBOT_TELEGRAM_WEBHOOK_URL", PUBLIC)


async def _cli(*argv: str) -> int:
    # The fake serves on this loop: main() runs its own loop, so in a thread.
    return await asyncio.to_thread(main, list(argv))


async def test_set_webhook_registers_the_url_and_secret_once_in_one_line(
        api: FakeBotAPI, telegram_env: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert await _cli("telegram", "set-webhook") == 0
    out, err = capsys.readouterr()
    assert out == (f"telegram: webhook set to {PUBLIC} with the secret from "
                   "telegram.webhook_secret; start the workers with register_webhook: false\n")
    assert err == ""
    [registered] = api.sent("setWebhook")
    assert (registered["url"], registered["secret_token"]) == (PUBLIC, SECRET)
    assert registered["allowed_updates"] == ALLOWED_UPDATES
    assert SECRET not in out and api.token not in out


async def test_set_webhook_failures_are_one_line_with_2_or_75(
        api: FakeBotAPI, telegram_env: None, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    api.fail("setWebhook", 400, description="Bad Request: bad webhook: Failed to resolve host")
    assert await _cli("telegram", "set-webhook") == 2
    err = capsys.readouterr().err
    assert err.startswith(f"factbot: error: Telegram refused the webhook {PUBLIC}: ")
    assert err.count("\n") == 1 and "resolve host" in err
    api.fail("setWebhook", 502, description="Bad Gateway")
    assert await _cli("telegram", "set-webhook") == 75
    assert capsys.readouterr().err.count("\n") == 1
    monkeypatch.delenv("FACTBOT_TELEGRAM_WEBHOOK_SECRET")
    assert await _cli("telegram", "set-webhook") == 2
    assert "needs telegram.webhook_secret (FACTBOT_TELEGRAM_WEBHOOK_SECRET)" in (
        capsys.readouterr().err)
    assert [c.status for c in api.calls if c.method == "setWebhook"] == [400, 502]
