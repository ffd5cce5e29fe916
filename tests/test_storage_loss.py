"""Nothing the bot confirmed or recorded is lost quietly: caps only while failing, files
removed or replaced under a running bot."""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import sys
from datetime import UTC, date, datetime, time
from pathlib import Path

import pytest

from factbot.core import FactBot
from factbot.errors import StorageError
from factbot.packs import FactPack
from factbot.storage.base import (
    MAX_PENDING_UNMATCHED,
    ChatKey,
    DayCount,
    EvalRun,
    FactCount,
)
from factbot.storage.sqlite import SqliteStore
from tests.test_storage_sqlite import ask, lock_held, release, rows

ROOT = Path(__file__).resolve().parent.parent
A, B, C = ChatKey("telegram", "-1"), ChatKey("telegram", "-2"), ChatKey("discord", "3")


def _questions(count: int) -> list[str]:
    """Distinct questions no pack answers."""
    return [f"zqxv{i} plorbwik{i * 7} frumtastic{i % 97}" for i in range(count)]


def _storage_logs(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records
            if r.name == "factbot.storage.sqlite" and r.levelno >= logging.WARNING]


# --- unanswered questions: every one while the database works ----------------------


async def test_a_healthy_database_keeps_every_unanswered_question_between_flushes(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "state.db"
    async with SqliteStore(path, flush_interval=3600) as store:
        for text in _questions(3 * MAX_PENDING_UNMATCHED):
            await store.record_unmatched("console", text, "u")
        assert store.pending == 3 * MAX_PENDING_UNMATCHED
    assert rows(path, "SELECT count(*) FROM unmatched") == [(3 * MAX_PENDING_UNMATCHED,)]
    assert _storage_logs(caplog) == []


@pytest.mark.parametrize("count", [3000, 8000])
def test_factbot_ask_jsonl_stores_every_unanswerable_line(tmp_path: Path, count: int) -> None:
    db = tmp_path / "x.db"
    env = {k: v for k, v in os.environ.items() if not k.startswith("FACTBOT_")}
    done = subprocess.run([sys.executable, "-m", "factbot.cli", "ask", "--jsonl", "--db", str(db)],
                          input="\n".join(_questions(count)) + "\n", capture_output=True,
                          text=True, cwd=ROOT, env=env, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.count('"matched": false') == count
    assert rows(db, "SELECT count(*) FROM unmatched") == [(count,)]


async def test_a_failing_database_holds_the_newest_questions_and_says_how_many_it_dropped(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "state.db"
    questions = _questions(MAX_PENDING_UNMATCHED + 700)
    async with SqliteStore(path, flush_interval=3600, busy_timeout=0.05) as store:
        with lock_held(path) as holder:
            for text in questions[:MAX_PENDING_UNMATCHED // 2]:
                await store.record_unmatched("console", text, "u")
            await store.flush()  # fails: locked; nothing dropped yet
            assert store.dropped_unmatched == 0
            for text in questions[MAX_PENDING_UNMATCHED // 2:]:
                await store.record_unmatched("console", text, "u")
            await store.flush()  # fails again
            assert store.dropped_unmatched == 700
            release(holder)
        await store.flush()
    kept = rows(path, "SELECT text FROM unmatched ORDER BY id")
    assert [t for (t,) in kept] == questions[700:]  # the newest, in order
    logged = _storage_logs(caplog)
    assert sum("holding only the newest 1000 unanswered questions" in m for m in logged) == 1
    assert any("works again; 700 unanswered questions were dropped" in m for m in logged)


async def test_counts_wait_out_a_failure_and_votes_and_evaluations_raise(
        tmp_path: Path) -> None:
    """Buffered counts (per fact, per day) are kept while the database fails and written
    when it works again; a vote or an evaluation, written at once, raises instead."""
    path = tmp_path / "state.db"
    day = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)
    run = EvalRun("hallyu", day, 10, 0.9, 1.0, 0.0, "abc")
    async with SqliteStore(path, flush_interval=3600, busy_timeout=0.05) as store:
        with lock_held(path) as holder:
            await store.record_usage("console", "hallyu", "Q1", at=day)
            await store.record_unmatched("console", "zqxv?", "u", at=day)
            await store.flush()  # fails: locked
            assert store.pending == 2  # the topic count and the question (with their counts)
            with pytest.raises(StorageError, match=r"recording feedback failed.*locked"):
                await store.record_feedback("console", "c", "r", "u", "q", "hallyu", "Q1")
            with pytest.raises(StorageError, match=r"recording an evaluation failed.*locked"):
                await store.record_eval(run)
            release(holder)
        assert await store.top_facts() == [FactCount("hallyu", "Q1", 1)]
        assert await store.activity(date(2026, 5, 4)) == [
            DayCount(date(2026, 5, 4), "console", "fact", 1),
            DayCount(date(2026, 5, 4), "console", "fallback", 1)]
        # Nothing half-written: the same vote is recorded now, once.
        assert await store.record_feedback("console", "c", "r", "u", "q", "hallyu", "Q1")
        assert await store.wrong_total() == 1
        await store.record_eval(run)
        assert await store.eval_history() == [run]


# --- a database file removed or replaced while the bot runs ------------------------


@pytest.mark.parametrize("removed", [("",), ("", "-wal", "-shm")],
                         ids=["the file", "the file and its journals"])
async def test_a_database_removed_while_running_is_written_again_with_everything(
        tmp_path: Path, caplog: pytest.LogCaptureFixture, removed: tuple[str, ...]) -> None:
    """Settings confirmed before and after the removal, and the counts, survive a reopen."""
    path = tmp_path / "state.db"
    async with SqliteStore(path, flush_interval=3600) as store:
        await store.set_daily(A, True, time(8, 30), "Asia/Seoul")
        await store.record_usage("telegram", "hallyu")
        await store.record_unmatched("telegram", "before the removal", "u")
        await store.flush()
        for suffix in removed:
            Path(f"{path}{suffix}").unlink()
        assert not path.exists()
        # Confirmed to the user after the file went: these must not go with it.
        assert (await store.set_topic_enabled(B, "hallyu", False)).disabled == {"hallyu"}
        assert path.exists()
        await store.set_daily(C, True)
        await store.record_usage("telegram", "hallyu")
        await store.record_unmatched("telegram", "after the removal", "u")
        assert (await store.chat_settings(A)).daily_time == time(8, 30)
    logged = _storage_logs(caplog)
    assert len(logged) == 1 and str(path) in logged[0] and "removed" in logged[0]
    assert rows(path, "PRAGMA integrity_check") == [("ok",)]
    async with SqliteStore(path, create=False) as reopened:
        assert (await reopened.chat_settings(A)).daily_time == time(8, 30)
        assert (await reopened.chat_settings(A)).tz == "Asia/Seoul"
        assert (await reopened.chat_settings(B)).disabled == {"hallyu"}
        assert (await reopened.chat_settings(C)).daily
        assert [(t.topic, t.count) for t in await reopened.top_topics()] == [("hallyu", 2)]
        assert await reopened.unmatched_total() == 2
        assert await reopened.user_salt() == await store.user_salt()


async def test_a_database_removed_then_left_alone_is_written_again_when_the_bot_stops(
        tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    async with SqliteStore(path, flush_interval=3600) as store:
        await store.set_topic_enabled(A, "trade", False)
        path.unlink()
        assert store.pending == 0  # nothing waits to be written: only the check finds it
    async with SqliteStore(path, create=False) as reopened:
        assert (await reopened.chat_settings(A)).disabled == {"trade"}


async def test_the_flush_loop_finds_a_removed_file_by_itself(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    async with SqliteStore(path, flush_interval=0.02) as store:
        await store.set_daily(A, True)
        path.unlink()
        for _ in range(200):
            if path.exists():
                break
            await asyncio.sleep(0.01)
        assert path.exists()
        assert rows(path, "SELECT chat_id, daily FROM chats") == [("-1", 1)]


async def test_a_database_replaced_while_running_is_followed_without_the_old_journal(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """A settings write goes to the file now at the path, which keeps its own rows."""
    path = tmp_path / "state.db"
    other = tmp_path / "other.db"
    async with SqliteStore(other) as setup:
        await setup.set_daily(B, True, time(7, 0))
    async with SqliteStore(path, flush_interval=3600) as store:
        await store.set_daily(A, True)
        await store.record_usage("telegram", "trade")
        os.replace(other, path)
        await store.set_topic_enabled(C, "hallyu", False)
        assert (await store.chat_settings(B)).daily_time == time(7, 0)  # read from the new one
    logged = _storage_logs(caplog)
    assert len(logged) == 1 and str(path) in logged[0] and "replaced" in logged[0]
    assert rows(path, "PRAGMA integrity_check") == [("ok",)]
    assert sorted(rows(path, "SELECT chat_id, daily FROM chats")) == [("-2", 1)]
    assert rows(path, "SELECT chat_id, topic FROM disabled_topics") == [("3", "hallyu")]
    assert rows(path, "SELECT topic, count FROM usage") == [("trade", 1)]


async def test_the_bot_confirms_settings_that_outlive_a_removed_file_and_a_restart(
        tmp_path: Path, packs: tuple[FactPack, ...]) -> None:
    path = tmp_path / "state.db"
    async with SqliteStore(path) as store:
        bot = FactBot(packs, store)
        assert await bot.handle(ask("/hallyu", chat="501", user="501")) is not None
        path.unlink()
        off = await bot.handle(ask("/topics off hallyu", chat="501", user="501"))
        daily = await bot.handle(ask("/daily on 08:00", chat="501", user="501"))
        assert off is not None and "/hallyu is off" in off.text
        assert daily is not None and "Daily fact: on" in daily.text
    async with SqliteStore(path, create=False) as reopened:
        settings = await reopened.chat_settings(ChatKey("telegram", "501"))
        assert settings.disabled == {"hallyu"} and settings.daily
        assert settings.daily_time == time(8, 0)
