"""`factbot run` as a process: every platform with a token in one; its exit statuses (0 a clean
stop, 2 configuration, 75 unreachable now, 130 Ctrl-C), each failure one line; the deploy files.
"""

from __future__ import annotations

import asyncio
import configparser
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from factbot.errors import EXIT_INTERRUPTED, EXIT_TEMPFAIL, EXIT_USAGE, ConfigError
from factbot.settings import settings_fields
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


# --- exit statuses, each failure in one line ---------------------------------------------


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("DISCORD_", "TELEGRAM_", "FACTBOT_"))}
    env.update(FACTBOT_DB=str(tmp_path / "factbot.db"), PTB_TIMEDELTA="true", **extra)
    return env


def _closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (it was free a moment ago)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def _factbot(env: dict[str, str], *args: str) -> tuple[int, str]:
    """``factbot ARGS`` to its end: (status, stderr)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "factbot.cli", *args, cwd=ROOT, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        _, err = await asyncio.wait_for(process.communicate(), 60)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode is not None
    return process.returncode, err.decode()


def _one_error_line(err: str) -> str:
    """The one ``factbot: error:`` line, the last; no traceback anywhere."""
    assert "Traceback" not in err, err
    errors = [line for line in err.splitlines() if line.startswith("factbot: error:")]
    assert len(errors) == 1, err
    assert err.strip().splitlines()[-1] == errors[0]
    return errors[0]


async def test_run_telegram_against_a_closed_port_exits_75_in_one_line(tmp_path: Path) -> None:
    port = _closed_port()
    status, err = await _factbot(_env(tmp_path, TELEGRAM_BOT_TOKEN=TELEGRAM_TOKEN,
                                      TELEGRAM_API_BASE_URL=f"http://127.0.0.1:{port}/bot"),
                                 "run", "telegram")
    assert status == EXIT_TEMPFAIL == 75, err
    assert f"cannot reach the Telegram Bot API at http://127.0.0.1:{port}/bot" in \
        _one_error_line(err)
    assert TELEGRAM_TOKEN not in err


async def test_run_with_both_platforms_unreachable_exits_75_in_one_line(tmp_path: Path) -> None:
    port = _closed_port()
    status, err = await _factbot(_env(
        tmp_path, TELEGRAM_BOT_TOKEN=TELEGRAM_TOKEN, DISCORD_BOT_TOKEN=DISCORD_TOKEN,
        TELEGRAM_API_BASE_URL=f"http://127.0.0.1:{port}/bot",
        DISCORD_API_BASE_URL=f"http://127.0.0.1:{port}/api/v10"), "run")
    assert status == 75, err
    assert "cannot reach" in _one_error_line(err)


async def test_discord_sync_against_a_closed_port_exits_75_in_one_line(tmp_path: Path) -> None:
    port = _closed_port()
    status, err = await _factbot(_env(tmp_path, DISCORD_BOT_TOKEN=DISCORD_TOKEN,
                                      DISCORD_API_BASE_URL=f"http://127.0.0.1:{port}/api/v10"),
                                 "discord", "sync")
    assert status == 75, err
    assert f"cannot reach Discord at http://127.0.0.1:{port}/api/v10" in _one_error_line(err)


async def test_discord_sync_answered_with_garbage_exits_75_in_one_line(tmp_path: Path) -> None:
    async with FakeDiscord() as fake:
        fake.faults["PUT commands"] = "garbage"
        status, err = await _factbot(_env(tmp_path, DISCORD_BOT_TOKEN=DISCORD_TOKEN,
                                          DISCORD_API_BASE_URL=fake.api_base_url),
                                     "discord", "sync")
    assert status == 75, err
    assert "sent an answer that is not Discord's JSON while syncing" in _one_error_line(err)
    assert DISCORD_TOKEN not in err


async def test_discord_sync_with_a_rejected_token_exits_2_in_one_line(tmp_path: Path) -> None:
    async with FakeDiscord() as fake:
        status, err = await _factbot(_env(tmp_path, DISCORD_BOT_TOKEN="MTA.not.the-fakes-token",
                                          DISCORD_API_BASE_URL=fake.api_base_url),
                                     "discord", "sync")
    assert status == EXIT_USAGE == 2, err
    assert "DISCORD_BOT_TOKEN was rejected" in _one_error_line(err)


@pytest.mark.parametrize("command", [["run", "telegram"], ["run", "discord"], ["run"],
                                     ["discord", "sync"]])
async def test_a_missing_token_exits_2_in_one_line(command: list[str], tmp_path: Path) -> None:
    status, err = await _factbot(_env(tmp_path), *command)
    assert status == 2, err
    assert "_BOT_TOKEN" in _one_error_line(err)


async def test_a_bad_setting_in_the_environment_exits_2_naming_the_variable(
        tmp_path: Path) -> None:
    status, err = await _factbot(_env(tmp_path, TELEGRAM_BOT_TOKEN=TELEGRAM_TOKEN,
                                      FACTBOT_TELEGRAM_CONCURRENT_UPDATES="many"),
                                 "run", "telegram")
    assert status == 2, err
    assert _one_error_line(err) == (
        "factbot: error: environment variable FACTBOT_TELEGRAM_CONCURRENT_UPDATES: "
        "telegram.concurrent_updates is 'many': expected a whole number from 1 to 256")


@pytest.mark.parametrize(("sig", "status"), [(signal.SIGTERM, 0),
                                             (signal.SIGINT, EXIT_INTERRUPTED)])
async def test_run_stops_cleanly_on_sigterm_with_0_and_on_ctrl_c_with_130(
        sig: signal.Signals, status: int, tmp_path: Path) -> None:
    """Either way the answer given is in the database: the store flushed on the way out."""
    db = tmp_path / "factbot.db"
    async with FakeBotAPI(TELEGRAM_TOKEN) as telegram:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "factbot.cli", "run", "telegram", cwd=ROOT,
            env=_env(tmp_path, TELEGRAM_BOT_TOKEN=TELEGRAM_TOKEN,
                     TELEGRAM_API_BASE_URL=telegram.base_url),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        try:
            await telegram.push(telegram.message("/trade"))
            await telegram.wait_for(lambda: bool(telegram.sent("sendMessage")), timeout=30)
            process.send_signal(sig)
            _, err = await asyncio.wait_for(process.communicate(), 30)
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
    assert process.returncode == status, err.decode()
    assert "Traceback" not in err.decode()
    with sqlite3.connect(db) as conn:
        assert list(conn.execute("SELECT platform, topic, count FROM usage")) == [
            ("telegram", "trade", 1)]


@pytest.mark.parametrize(("sig", "status"), [(signal.SIGTERM, 0),
                                             (signal.SIGINT, EXIT_INTERRUPTED)])
async def test_chat_stops_cleanly_on_sigterm_with_0_and_on_ctrl_c_with_130(
        sig: signal.Signals, status: int, tmp_path: Path) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "factbot.cli", "chat", cwd=ROOT, env=_env(tmp_path),
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE)
    assert process.stdin is not None and process.stdout is not None
    try:
        process.stdin.write(b"/trade\n")
        await process.stdin.drain()
        answer = b""
        while b"Source:" not in answer:  # answered: the chat loop and its handlers run
            line = await asyncio.wait_for(process.stdout.readline(), 30)
            assert line, "chat ended before answering"
            answer += line
        process.send_signal(sig)
        _, err = await asyncio.wait_for(process.communicate(), 30)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode == status, err.decode()
    assert "Traceback" not in err.decode()
    with sqlite3.connect(tmp_path / "factbot.db") as conn:
        assert list(conn.execute("SELECT platform, topic, count FROM usage")) == [
            ("console", "trade", 1)]


# --- the deploy files ---------------------------------------------------------------------

UNIT = ROOT / "deploy" / "factbot.service"
CONTAINERFILE = ROOT / "deploy" / "Containerfile"


def _unit() -> configparser.ConfigParser:
    unit = configparser.ConfigParser(strict=False, interpolation=None, delimiters=("=",))
    unit.optionxform = str  # type: ignore[assignment,method-assign]  # keys keep their case
    unit.read_string(UNIT.read_text(encoding="utf-8"))
    return unit


def test_the_unit_restarts_what_a_retry_can_fix_and_not_a_broken_config() -> None:
    service = _unit()["Service"]
    assert service["Restart"] == "on-failure"
    # The status the code gives a configuration error is the one systemd must not retry.
    assert service["RestartPreventExitStatus"] == str(ConfigError("x").exit_status)
    assert ConfigError("x").exit_status != EXIT_TEMPFAIL
    assert service["ExecStart"].endswith("/factbot run")


def test_the_unit_runs_hardened_with_its_state_in_its_state_directory() -> None:
    service = _unit()["Service"]
    for key, value in {"DynamicUser": "yes", "StateDirectory": "factbot",
                       "ProtectSystem": "strict", "ProtectHome": "yes",
                       "NoNewPrivileges": "yes", "PrivateTmp": "yes"}.items():
        assert service[key] == value, key
    assert service["EnvironmentFile"].startswith("/etc/")
    text = UNIT.read_text(encoding="utf-8")
    assert "Environment=FACTBOT_DB=/var/lib/factbot/factbot.db\n" in text
    # Every variable the unit sets is a setting's (or factbot's config file, or the cache).
    known = {i.env for i in settings_fields()} | {i.alias for i in settings_fields()} | {
        "FACTBOT_CONFIG", "XDG_CACHE_HOME"}
    for line in text.splitlines():
        if line.lstrip("#").startswith("Environment="):
            name = line.lstrip("#").removeprefix("Environment=").partition("=")[0]
            assert name in known, line


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="needs systemd-analyze")
def test_systemd_accepts_the_unit(tmp_path: Path) -> None:
    factbot = Path(sys.executable).parent / "factbot"  # the installed script, for the check
    unit = tmp_path / "factbot.service"
    unit.write_text(UNIT.read_text(encoding="utf-8").replace("/opt/factbot/bin/factbot",
                                                            str(factbot)), encoding="utf-8")
    result = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0 and not result.stderr.strip(), result.stderr


def test_the_containerfile_keeps_state_in_a_volume_named_by_factbot_db() -> None:
    text = CONTAINERFILE.read_text(encoding="utf-8")
    assert "FROM python:3.11-slim" in text
    assert "FACTBOT_DB=/var/lib/factbot/factbot.db" in text
    assert "VOLUME /var/lib/factbot" in text
    assert "UNTESTED" in text  # no container engine where it was written: it says so
    user = next(line for line in text.splitlines() if line.startswith("USER "))
    assert not user.startswith(("USER root", "USER 0"))
