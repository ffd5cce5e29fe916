"""`factbot run` with no platform named: every adapter with a token, in one process."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import sys
from pathlib import Path

from tests.fakes.discord_api import TOKEN as DISCORD_TOKEN
from tests.fakes.discord_api import FakeDiscord
from tests.fakes.telegram_api import FakeBotAPI

TELEGRAM_TOKEN = "424242:SECRET-run-both-token"
ROOT = Path(__file__).resolve().parent.parent


async def test_factbot_run_serves_telegram_and_discord_in_one_process(tmp_path: Path) -> None:
    """Both platforms answer, share one database, and stop together on SIGTERM."""
    db = tmp_path / "factbot.db"
    async with FakeBotAPI(TELEGRAM_TOKEN) as telegram, FakeDiscord() as discord:
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("DISCORD_", "TELEGRAM_", "FACTBOT_"))}
        env.update(TELEGRAM_BOT_TOKEN=TELEGRAM_TOKEN, TELEGRAM_API_BASE_URL=telegram.base_url,
                   DISCORD_BOT_TOKEN=DISCORD_TOKEN, DISCORD_API_BASE_URL=discord.api_base_url,
                   DISCORD_GATEWAY_URL=discord.gateway_url, FACTBOT_DB=str(db),
                   PTB_TIMEDELTA="true")
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "factbot.cli", "run", cwd=ROOT, env=env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        try:
            await asyncio.wait_for(discord.wait_ready(), 30)
            callback = await discord.interact(discord.slash("hallyu"), timeout=30)
            await telegram.push(telegram.message("/trade"))
            await telegram.wait_for(lambda: bool(telegram.sent("sendMessage")), timeout=30)
            process.send_signal(signal.SIGTERM)
            out, err = await asyncio.wait_for(process.communicate(), 30)
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
    assert process.returncode == 0, err.decode()
    assert "Korean Wave" in callback.embeds[0]["description"]
    [sent] = telegram.sent("sendMessage")
    assert "third-largest trading partner" in sent["text"]
    with sqlite3.connect(db) as conn:
        usage = dict(((p, t), c) for p, t, c in conn.execute(
            "SELECT platform, topic, count FROM usage"))
    assert usage == {("discord", "hallyu"): 1, ("telegram", "trade"): 1}
    logged = out.decode() + err.decode()
    assert TELEGRAM_TOKEN not in logged and DISCORD_TOKEN not in logged
