"""Logs an operator can use: the start-up lines of `factbot run`, and `log_format: json`.

`factbot run` runs in a subprocess against the fake Telegram and Discord APIs, as a service
manager would start it; its stderr is what the operator's log collector would read.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import os
import signal
import socket
import sys
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from factbot.adapters.discord import DiscordAdapter
from factbot.core import FactBot
from factbot.logs import JsonFormatter
from factbot.packs import FactPack
from factbot.settings import MASK, DiscordSettings, mask_log_records, token_forms
from tests.fakes.discord_api import TOKEN as DISCORD_TOKEN
from tests.fakes.discord_api import FakeDiscord
from tests.fakes.telegram_api import BOT_USERNAME, FakeBotAPI

ROOT = Path(__file__).resolve().parent.parent
TELEGRAM_TOKEN = "246810:AAHlogsTestTokenNeverShownAnywhere"
JSON_KEYS = {"time", "level", "logger", "message"}


def _env(**changes: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("DISCORD_", "TELEGRAM_", "FACTBOT_"))}
    env.update(PTB_TIMEDELTA="true", **changes)
    return env


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _shows_a_token(text: str) -> bool:
    folded = text.casefold()
    return any(form.casefold() in folded for form in (
        *token_forms(TELEGRAM_TOKEN, "telegram"), *token_forms(DISCORD_TOKEN, "discord")))


def _json_lines(stderr: str) -> list[dict[str, Any]]:
    """Every line of ``stderr`` as a JSON log record; fails on any line that is not one."""
    records = []
    for line in stderr.splitlines():
        record = json.loads(line)
        assert isinstance(record, dict) and record.keys() >= JSON_KEYS, line
        records.append(record)
    return records


# --- start-up ---------------------------------------------------------------------------


@pytest.mark.parametrize("log_format", ["text", "json"])
async def test_factbot_run_says_what_it_runs_on_at_start_up(
        log_format: str, tmp_path: Path, packs: tuple[FactPack, ...]) -> None:
    """Version, packs, database, platforms, modes and the metrics address: a line each."""
    db = tmp_path / "factbot.db"
    port = _free_port()
    async with FakeBotAPI(TELEGRAM_TOKEN) as telegram, FakeDiscord() as discord, \
            aiohttp.ClientSession() as http:
        env = _env(TELEGRAM_BOT_TOKEN=TELEGRAM_TOKEN, TELEGRAM_API_BASE_URL=telegram.base_url,
                   DISCORD_BOT_TOKEN=DISCORD_TOKEN, DISCORD_API_BASE_URL=discord.api_base_url,
                   DISCORD_GATEWAY_URL=discord.gateway_url, FACTBOT_DB=str(db),
                   FACTBOT_METRICS=f"127.0.0.1:{port}", FACTBOT_LOG_FORMAT=log_format)
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "factbot.cli", "run", cwd=ROOT, env=env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        try:
            async def ready() -> None:  # both platforms connected, the database answering
                while True:
                    with_answer = None
                    try:
                        async with http.get(f"http://127.0.0.1:{port}/readyz") as response:
                            with_answer = response.status
                    except aiohttp.ClientConnectionError:
                        pass  # not listening yet
                    if with_answer == 200:
                        return
                    if process.returncode is not None:
                        raise AssertionError("factbot run stopped before it was ready")
                    await asyncio.sleep(0.05)

            await asyncio.wait_for(ready(), 30)
            process.send_signal(signal.SIGTERM)
            out, err = await asyncio.wait_for(process.communicate(), 30)
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
    stderr = err.decode()
    assert process.returncode == 0, stderr
    if log_format == "json":
        messages = [r["message"] for r in _json_lines(stderr)]
    else:
        messages = [line.split(": ", 1)[1] for line in stderr.splitlines() if ": " in line]
    from factbot import __version__
    from factbot.storage.sqlite import SCHEMA_VERSION

    def said(start: str) -> str:
        found = [m for m in messages if m.startswith(start)]
        assert len(found) == 1, (start, stderr)
        return found[0]

    assert said(f"factbot {__version__} starting (Python ")
    pack = packs[0]
    line = said("packs from ")
    facts = sum(len(t.facts) for t in pack.topics)
    assert f"{pack.name} ({len(pack.topics)} topics: {pack.topics[0].command}, " in line
    assert line.endswith(f"; {facts} facts)")
    assert said("database ") == f"database {db} (SQLite, schema version {SCHEMA_VERSION})"
    assert said("platforms: ") == "platforms: telegram, discord"
    assert said("metrics: ") == (f"metrics: /healthz, /readyz and /metrics at "
                                 f"http://127.0.0.1:{port}")
    assert said("telegram: @") == f"telegram: @{BOT_USERNAME} polling for updates"
    assert said("discord: no shards") == ("discord: no shards (one gateway connection; "
                                          "discord.shard_count shards the bot)")
    assert said("discord: ready as ").endswith("in 1 guilds (one connection, no shards)")
    assert not _shows_a_token(stderr + out.decode())


def test_the_discord_shards_are_said_as_configured(factbot: FactBot, tmp_path: Path) -> None:
    def shards(**settings: Any) -> str:
        adapter = DiscordAdapter(factbot, DiscordSettings(**settings),
                                 sync_state=tmp_path / "sync.json")
        return adapter.shards()

    assert shards(shard_count=4) == "4 shards (ids 0-3, all in this process)"
    assert shards(shard_count=4, shard_ids=(1, 3)) == "4 shards (ids 1, 3 in this process)"


# --- log_format: json -------------------------------------------------------------------


async def test_json_logs_are_one_object_a_line_without_the_token(tmp_path: Path) -> None:
    """A Bot API that echoes the request path at start-up, logged at DEBUG: every stderr line
    is a JSON record, the token is in none, and the error line is a record too."""
    async with FakeBotAPI(TELEGRAM_TOKEN) as api:
        api.fail_echoing_path("getMe", "html", times=100)
        env = _env(TELEGRAM_BOT_TOKEN=TELEGRAM_TOKEN, TELEGRAM_API_BASE_URL=api.base_url,
                   FACTBOT_LOG_LEVEL="DEBUG", FACTBOT_LOG_FORMAT="json",
                   FACTBOT_DB=str(tmp_path / "factbot.db"))
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "factbot.cli", "run", "telegram", cwd=ROOT, env=env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        try:
            out, err = await asyncio.wait_for(process.communicate(), 60)
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
    assert api.echoed and TELEGRAM_TOKEN in api.echoed[0]  # the token was there to leak
    stderr = err.decode()
    assert out.decode() == ""
    assert not _shows_a_token(stderr), stderr
    records = _json_lines(stderr)
    assert len(records) > 3  # DEBUG: the libraries' lines are records too
    [error] = [r for r in records if r["message"].startswith("factbot: error:")]
    assert error["level"] == "ERROR" and error["logger"] == "factbot"
    assert f"/bot{MASK}/getMe".lower() in error["message"].lower()
    assert process.returncode == 75  # the Bot API is unwell: try again later
    assert all(r["time"].endswith("+00:00") for r in records)


def test_a_json_record_carries_its_masked_traceback_as_exc_info() -> None:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("factbot.test_logs")
    logger.addHandler(handler)
    logger.propagate = False
    undo = mask_log_records(token_forms(TELEGRAM_TOKEN, "telegram"))
    try:
        try:
            raise RuntimeError(f"no route /bot{TELEGRAM_TOKEN.lower()}/getMe")
        except RuntimeError:
            logger.exception("getMe failed for %s\non two lines", TELEGRAM_TOKEN)
        logger.warning("no traceback here")
    finally:
        undo()
        logger.removeHandler(handler)
        logger.propagate = True
    first, second = out.getvalue().splitlines()
    record = json.loads(first)
    assert record["level"] == "ERROR" and record["logger"] == "factbot.test_logs"
    assert record["message"] == f"getMe failed for {MASK}\non two lines"
    assert record["exc_info"].startswith("Traceback (most recent call last)")
    assert f"RuntimeError: no route /bot{MASK}/getMe" in record["exc_info"]
    assert not _shows_a_token(out.getvalue())
    assert "exc_info" not in json.loads(second)


@pytest.mark.parametrize("command", [["ask", "/hallyu"], ["run", "telegram"]])
def test_an_unknown_log_format_is_one_line_naming_the_key(
        command: list[str], monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    from factbot.cli import main

    monkeypatch.setenv("FACTBOT_LOG_FORMAT", "xml")
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TELEGRAM_TOKEN)
    assert main(command) == 2
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith("factbot: error: ") and "log_format" in line and "'xml'" in line


def test_a_config_error_under_json_logs_is_a_json_line() -> None:
    import subprocess

    env = _env(FACTBOT_LOG_FORMAT="json")  # and no platform token
    result = subprocess.run([sys.executable, "-m", "factbot.cli", "run"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    [record] = _json_lines(result.stderr)
    assert record["message"].startswith("factbot: error: no platform token")
    assert record["level"] == "ERROR"
