"""Tokens never reach the user: not in error lines, not in logs, in no letter case."""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from factbot.errors import ConfigError
from factbot.settings import MASK, mask_log_records, mask_secrets, token_forms
from tests.fakes.telegram_api import FakeBotAPI

ROOT = Path(__file__).resolve().parent.parent
TELEGRAM_TOKEN = "135790:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
SECRET_PART = TELEGRAM_TOKEN.partition(":")[2]
# Shaped like a Discord token (three dot-separated parts), plainly not one.
DISCORD_TOKEN = "FakeDiscordTokenForTests.AbCdEf.NotARealSecretJustForTheTests0"


def _shows_a_token(text: str, token: str = TELEGRAM_TOKEN) -> bool:
    """Whether ``text`` shows the token or its secret part, in any letter case."""
    folded = text.casefold()
    return any(form.casefold() in folded for form in token_forms(
        token, "telegram" if token == TELEGRAM_TOKEN else "discord"))


def test_a_token_is_masked_whole_and_by_its_secret_part_in_any_case() -> None:
    forms = token_forms(TELEGRAM_TOKEN, "telegram")
    assert forms == (TELEGRAM_TOKEN, SECRET_PART)
    line = (f"GET /bot{TELEGRAM_TOKEN}/getMe, /bot{TELEGRAM_TOKEN.lower()}/getme, "
            f"/bot135790%3A{SECRET_PART}/getMe, {SECRET_PART.upper()}")
    masked = mask_secrets(line, forms)
    assert not _shows_a_token(masked)
    assert masked == (f"GET /bot{MASK}/getMe, /bot{MASK}/getme, /bot135790%3A{MASK}/getMe, "
                      f"{MASK}")


def test_a_discord_token_is_masked_whole_and_by_its_hmac() -> None:
    forms = token_forms(DISCORD_TOKEN, "discord")
    hmac = DISCORD_TOKEN.rpartition(".")[2]
    assert forms == (DISCORD_TOKEN, hmac)
    masked = mask_secrets(f"Authorization: Bot {DISCORD_TOKEN.upper()} ({hmac.lower()})", forms)
    assert masked == f"Authorization: Bot {MASK} ({MASK})"


def test_log_records_are_masked_in_message_arguments_and_tracebacks(
        caplog: pytest.LogCaptureFixture) -> None:
    undo = mask_log_records(token_forms(TELEGRAM_TOKEN, "telegram"))
    try:
        try:
            raise ValueError(f"server said: no route /bot{TELEGRAM_TOKEN.lower()}/getme")
        except ValueError:
            logging.getLogger("tests.secrets").exception("failed at %s", TELEGRAM_TOKEN)
    finally:
        undo()
    assert "failed at <token>" in caplog.text and "no route /bot<token>/getme" in caplog.text
    assert not _shows_a_token(caplog.text)


# --- factbot run telegram, against a Bot API that echoes the request path ------------


@pytest.mark.parametrize("echo", ["html", "json"])
async def test_an_api_error_echoing_the_path_is_one_line_without_the_token(
        echo: str, tmp_path: Path) -> None:
    """A proxy's 502 page, or a 400 that PTB lower-cases: the token shows in neither."""
    async with FakeBotAPI(TELEGRAM_TOKEN) as api:
        api.fail_echoing_path("getMe", echo, times=100)
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("DISCORD_", "TELEGRAM_", "FACTBOT_"))}
        env.update(TELEGRAM_BOT_TOKEN=TELEGRAM_TOKEN, TELEGRAM_API_BASE_URL=api.base_url,
                   FACTBOT_LOG_LEVEL="DEBUG", FACTBOT_DB=str(tmp_path / "factbot.db"),
                   PTB_TIMEDELTA="true")
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "factbot.cli", "run", "telegram", cwd=ROOT, env=env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        try:
            out, err = await asyncio.wait_for(process.communicate(), 60)
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
    # The fake did echo the token: otherwise this test would prove nothing.
    assert api.echoed and TELEGRAM_TOKEN in api.echoed[0]
    output = out.decode() + err.decode()
    assert not _shows_a_token(output), output
    assert process.returncode not in (0, 1), output  # a start-up error, not a crash
    errors = [line for line in err.decode().splitlines() if line.startswith("factbot: error:")]
    assert len(errors) == 1, output
    assert f"Telegram Bot API at {api.base_url} (TELEGRAM_API_BASE_URL)" in errors[0]
    assert f"/bot{MASK}/getMe".lower() in errors[0].lower()


# --- the CLI's error printer, for every platform ------------------------------------


@pytest.mark.parametrize("failure", [
    ConfigError(f"discord said: 400 for Bot {DISCORD_TOKEN.lower()}"),
    RuntimeError(f"unexpected answer\nAuthorization: Bot {DISCORD_TOKEN}"),
])
def test_the_cli_masks_every_error_it_prints(
        failure: Exception, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        caplog: pytest.LogCaptureFixture) -> None:
    """An error from any platform, ours or not, is one masked line; a traceback is logged."""
    import factbot.adapters.launch
    from factbot.cli import main

    def run_main(*_: object) -> int:
        raise failure

    monkeypatch.setenv("DISCORD_BOT_TOKEN", DISCORD_TOKEN)
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    monkeypatch.setattr(factbot.adapters.launch, "run_main", run_main)
    status = main(["run", "discord"])
    err = capsys.readouterr().err
    assert status == (2 if isinstance(failure, ConfigError) else 1)
    [line] = err.strip().splitlines()
    assert line.startswith("factbot: error:") and MASK in line
    assert not _shows_a_token(err + caplog.text, DISCORD_TOKEN)
    if not isinstance(failure, ConfigError):
        assert "Traceback" in caplog.text and "RuntimeError" in caplog.text


@pytest.mark.parametrize("db", [
    "postgresql://u:Xy/z9Secret@127.0.0.1:1/db",  # "/" ends the authority for urlsplit
    "postgresql://u:Ab?cdSecret@127.0.0.1:1/db",
    "postgresql://u:Zz#z9Secret@127.0.0.1:1/db",
    "postgresql://u:pw12345Secret@[::1",  # malformed
    "postgresql://u:plain5678Secret@127.0.0.1:1/db",
])
def test_a_database_url_password_never_shows_however_it_is_written(db: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FACTBOT_")}
    done = subprocess.run([sys.executable, "-m", "factbot.cli", "ask", "--chat", "1", "hi"],
                          env={**env, "FACTBOT_DB": db}, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode in (2, 75)
    assert "Secret" not in done.stdout + done.stderr
    assert "u:***@" in done.stderr


@pytest.mark.parametrize("command, url", [
    (["ask", "hi"], "ftp://user:hunter2pass@example.com/"),  # refused by the settings
    (["run", "telegram"], "http://user:hunter2pass@127.0.0.1:9/bot"),  # unreachable
])
def test_a_password_in_an_api_url_never_shows(command: list[str], url: str) -> None:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("FACTBOT_", "TELEGRAM_", "DISCORD_"))}
    env.update(FACTBOT_TELEGRAM_TOKEN="123456:abcdefghijklmnop",
               FACTBOT_TELEGRAM_API_BASE_URL=url)
    done = subprocess.run([sys.executable, "-m", "factbot.cli", *command], env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode in (2, 75), done.stderr
    assert "hunter2pass" not in done.stdout + done.stderr
    assert len(done.stderr.strip().splitlines()) >= 1
