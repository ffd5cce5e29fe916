"""SqliteStore on real files: persistence, migrations, locks, failures, crashes."""

from __future__ import annotations

import asyncio
import logging
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time
from pathlib import Path

import pytest

from factbot.core import FactBot
from factbot.errors import StorageError
from factbot.messages import IncomingMessage, ReplyKind
from factbot.packs import FactPack
from factbot.storage.base import ChatKey, DayCount, EvalRun, FactCount, question_key
from factbot.storage.sqlite import MIGRATIONS, SCHEMA_VERSION, SqliteStore

ROOT = Path(__file__).resolve().parent.parent
CHAT = ChatKey("telegram", "-100")

LOCK_HOLDER = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN IMMEDIATE")
conn.execute("INSERT INTO usage (platform, topic, count) VALUES ('other', 'lock', 1)")
print("locked", flush=True)
sys.stdin.readline()
conn.execute("COMMIT")
conn.close()
print("released", flush=True)
"""

WRITER = """
import asyncio, sys
from factbot.storage.base import ChatKey
from factbot.storage.sqlite import SqliteStore

async def main() -> None:
    async with SqliteStore(sys.argv[1], flush_interval=3600, max_rows=10**9) as store:
        n = 0
        while True:
            for _ in range(25):
                await store.record_unmatched("console", f"q{n}", "u")
                await store.next_rotation(ChatKey("console", "c"), "t", 10**9)
                await store.record_usage("console", "t")
                n += 1
            await store.flush()
            print(n, flush=True)

asyncio.run(main())
"""


def rows(path: Path, sql: str) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def ask(text: str, chat: str = "-100", user: str = "u1") -> IncomingMessage:
    return IncomingMessage(text=text, platform="telegram", chat_id=chat, user_id=user)


@contextmanager
def lock_held(path: Path) -> Iterator[subprocess.Popen[str]]:
    """Another process holds the database's write lock until the block ends."""
    proc = subprocess.Popen([sys.executable, "-c", LOCK_HOLDER, str(path)], text=True,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert proc.stdout is not None and proc.stdin is not None
    try:
        assert proc.stdout.readline().strip() == "locked"
        yield proc
    finally:
        if proc.poll() is None:
            proc.stdin.write("\n")
            proc.stdin.flush()
        proc.communicate(timeout=30)


def release(proc: subprocess.Popen[str]) -> None:
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write("\n")
    proc.stdin.flush()
    assert proc.stdout.readline().strip() == "released"


# --- persistence ---------------------------------------------------------------------------


async def test_state_survives_closing_and_reopening(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    async with SqliteStore(path) as store:
        assert [await store.next_rotation(CHAT, "hallyu", 5) for _ in range(2)] == [0, 1]
        await store.record_usage("telegram", "hallyu")
        await store.set_daily(CHAT, True, time(7, 5), "Asia/Kuala_Lumpur")
        await store.set_topic_enabled(CHAT, "trade", False)
        salt = await store.user_salt()
    async with SqliteStore(path) as store:
        assert await store.next_rotation(CHAT, "hallyu", 5) == 2
        assert [(t.topic, t.count) for t in await store.top_topics()] == [("hallyu", 1)]
        settings = await store.chat_settings(CHAT)
        assert (settings.daily, settings.daily_time, settings.tz) == (
            True, time(7, 5), "Asia/Kuala_Lumpur")
        assert settings.disabled == {"trade"}
        assert await store.user_salt() == salt


async def test_the_database_runs_in_wal_mode_with_a_busy_timeout(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    async with SqliteStore(path, busy_timeout=2.5) as store:
        db = store._conn()
        assert list(await db.execute_fetchall("PRAGMA journal_mode")) == [("wal",)]
        assert list(await db.execute_fetchall("PRAGMA busy_timeout")) == [(2500,)]
    assert rows(path, "PRAGMA user_version") == [(SCHEMA_VERSION,)]


async def test_a_missing_folder_is_created(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "state.db"
    async with SqliteStore(path):
        pass
    assert path.is_file()


async def test_writes_are_batched_and_close_flushes_them(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    store = SqliteStore(path, flush_interval=3600)
    await store.open()
    try:
        await store.next_rotation(CHAT, "hallyu", 5)
        await store.record_usage("telegram", "hallyu")
        assert store.pending == 2
        assert rows(path, "SELECT count(*) FROM rotation") == [(0,)]
    finally:
        await store.close()
    assert rows(path, "SELECT topic, position FROM rotation") == [("hallyu", 1)]
    assert rows(path, "SELECT topic, count FROM usage") == [("hallyu", 1)]
    # A clean close checkpoints and removes the write-ahead log.
    assert not Path(f"{path}-wal").exists()


# --- migrations ----------------------------------------------------------------------------


def build_old_database(path: Path, version: int) -> None:
    """A file as an older factbot left it: schema ``version`` and some data in it."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.create_function("question_key", 1, question_key, deterministic=True)
    for statements in MIGRATIONS[:version]:
        for statement in statements:
            conn.execute(statement)
    conn.execute(f"PRAGMA user_version = {version}")
    at = datetime.now(UTC).timestamp()
    if version >= 1:
        conn.execute("INSERT INTO rotation VALUES ('telegram', '-100', 'hallyu', 2)")
        conn.execute("INSERT INTO usage VALUES ('discord', 'trade', 7)")
        conn.execute("INSERT INTO unmatched (at, platform, text, user_hash) "
                     "VALUES (?, 'telegram', 'What about K-pop?', 'abc')", (at,))
    if version >= 2:
        conn.execute("INSERT INTO chats (platform, chat_id, daily, daily_time, tz) "
                     "VALUES ('telegram', '-100', 1, '07:15', 'Asia/Seoul')")
        conn.execute("INSERT INTO disabled_topics VALUES ('telegram', '-100', 'trade')")
        conn.execute("INSERT INTO meta VALUES ('salt', 'kept-salt')")
    if version >= 3:  # from 3 on, factbot writes each question's key with it
        conn.execute("UPDATE unmatched SET question = question_key(text)")
    conn.close()


@pytest.mark.parametrize("version", range(SCHEMA_VERSION))
async def test_every_older_schema_is_migrated_keeping_its_data(tmp_path: Path,
                                                               version: int) -> None:
    path = tmp_path / "old.db"
    build_old_database(path, version)
    async with SqliteStore(path) as store:
        assert store.opened_version == version
        if version >= 1:
            assert await store.next_rotation(CHAT, "hallyu", 5) == 2
            assert [(t.topic, t.count) for t in await store.top_topics()] == [("trade", 7)]
            # The old row joins the same question asked again after the upgrade.
            await store.record_unmatched("discord", "what about k pop", "def")
            top = await store.top_unmatched()
            assert [(q.text, q.count) for q in top] == [("what about k pop", 2)]
        if version >= 2:
            settings = await store.chat_settings(CHAT)
            assert (settings.daily, settings.daily_time, settings.tz) == (
                True, time(7, 15), "Asia/Seoul")
            assert settings.disabled == {"trade"}
            assert await store.user_salt() == "kept-salt"
        # Every feature works on the migrated file.
        await store.set_cooldown(CHAT, 3, 9)
        assert (await store.set_language(CHAT, "ms")).language == "ms"
        await store.record_usage("telegram", "hallyu", "Q1", at=datetime(2026, 5, 4, tzinfo=UTC))
        assert await store.top_facts() == [FactCount("hallyu", "Q1", 1)]
        facts = [d for d in await store.activity(date(2026, 5, 4)) if d.outcome == "fact"]
        assert facts == [DayCount(date(2026, 5, 4), "telegram", "fact", 1)]
        assert await store.record_feedback("telegram", "-100", "r", "u", "q", "hallyu", "Q1")
        assert not await store.record_feedback("telegram", "-100", "r", "u", "q", "hallyu", "Q1")
        run = EvalRun("hallyu", datetime(2026, 5, 4, tzinfo=UTC), 10, 0.9, 1.0, 0.0, "abc")
        await store.record_eval(run)
        assert await store.eval_history() == [run]
        await store.mark_daily_sent(CHAT, datetime(2026, 1, 1, tzinfo=UTC))
        moved = ChatKey("telegram", "-1000100")
        await store.migrate_chat(CHAT, moved)
        await store.set_left(moved, datetime(2026, 1, 2, tzinfo=UTC))
        assert await store.forget_left_chats("telegram", datetime(2026, 1, 3, tzinfo=UTC)) == 1
    assert rows(path, "PRAGMA user_version") == [(SCHEMA_VERSION,)]
    assert rows(path, "PRAGMA integrity_check") == [("ok",)]


async def test_an_empty_file_counts_as_a_new_database(tmp_path: Path) -> None:
    path = tmp_path / "empty.db"
    path.write_bytes(b"")
    async with SqliteStore(path) as store:
        assert store.opened_version == 0
    assert rows(path, "PRAGMA user_version") == [(SCHEMA_VERSION,)]


async def test_a_database_from_a_newer_factbot_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    build_old_database(path, SCHEMA_VERSION)
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(StorageError, match=r"new\.db: database schema version \d+ is newer"):
        await SqliteStore(path).open()


# --- files that cannot be used ---------------------------------------------------------


def corrupt_database(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE filler (x TEXT)")
    conn.executemany("INSERT INTO filler VALUES (?)", [("x" * 500,)] * 200)
    conn.commit()
    conn.close()
    data = bytearray(path.read_bytes())
    data[4096:4096 * 6] = os.urandom(4096 * 5)
    path.write_bytes(bytes(data))


@pytest.mark.parametrize(("make", "message"), [
    (lambda p: p.mkdir(), "is a directory"),
    (lambda p: p.write_text("just some notes, not a database\n" * 200), "not a SQLite database"),
    (corrupt_database, "corrupt"),
])
async def test_an_unusable_file_is_a_one_line_error_naming_it(tmp_path: Path, make: object,
                                                               message: str) -> None:
    path = tmp_path / "bad.db"
    make(path)  # type: ignore[operator]
    with pytest.raises(StorageError) as caught:
        await SqliteStore(path).open()
    text = str(caught.value)
    assert text.startswith(f"{path}: ")
    assert message in text
    assert "\n" not in text


async def test_a_folder_that_is_a_file_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("x")
    with pytest.raises(StorageError, match=r"blocker/state\.db: cannot create its folder"):
        await SqliteStore(blocker / "state.db").open()


# --- locks ---------------------------------------------------------------------------------


async def test_a_lock_held_by_another_process_is_waited_out(tmp_path: Path,
                                                            caplog: pytest.LogCaptureFixture
                                                            ) -> None:
    path = tmp_path / "state.db"
    async with SqliteStore(path, busy_timeout=60, flush_interval=3600) as store:
        await store.record_usage("telegram", "hallyu")
        with lock_held(path) as holder:
            flushing = asyncio.create_task(store.flush())
            await asyncio.sleep(0.3)
            assert not flushing.done(), "the flush should be waiting for the lock"
            release(holder)
            await flushing
        assert store.pending == 0
    assert sorted(rows(path, "SELECT platform, topic, count FROM usage")) == [
        ("other", "lock", 1), ("telegram", "hallyu", 1)]
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


async def test_a_lock_held_too_long_is_logged_once_and_the_bot_carries_on(
        tmp_path: Path, packs: tuple[FactPack, ...], caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="factbot.storage")
    path = tmp_path / "state.db"
    async with SqliteStore(path, busy_timeout=0.05, flush_interval=3600) as store:
        bot = FactBot(packs, store)
        with lock_held(path) as holder:
            quotes = []
            for _ in range(3):
                reply = await bot.handle(ask("/hallyu"))
                assert reply is not None and reply.kind is ReplyKind.FACT
                quotes.append(reply.quote)
                await store.flush()  # fails: locked
            assert len(set(quotes)) == 3  # rotation goes on in memory
            assert store.pending > 0
            release(holder)
        await store.flush()
        assert store.pending == 0
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1
    assert "locked" in str(errors[0].exc_info[1])  # type: ignore[index]
    assert any("works again" in r.getMessage() for r in caplog.records)
    assert rows(path, "SELECT topic, position FROM rotation") == [("hallyu", 3)]


# --- failures while running ---------------------------------------------------------------


async def test_storage_failing_while_running_never_stops_the_answers(
        tmp_path: Path, packs: tuple[FactPack, ...], caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "state.db"
    async with SqliteStore(path, flush_interval=3600) as store:
        bot = FactBot(packs, store)
        assert await bot.handle(ask("/hallyu", chat="warm")) is not None
        # Someone breaks the database under the running bot.
        conn = sqlite3.connect(path)
        for table in ("rotation", "usage", "unmatched", "chats", "disabled_topics"):
            conn.execute(f"DROP TABLE {table}")
        conn.commit()
        conn.close()
        replies = []
        for text in ["/hallyu", "/hallyu", "how many Koreans live in Malaysia?",
                     "what is the weather on Mars?", "/stats", "/daily on 08:00"]:
            for chat in ("warm", "cold"):
                replies.append(await bot.handle(ask(text, chat=chat)))
                await store.flush()
        assert all(r is not None for r in replies)
        facts = [r for r in replies if r is not None and r.kind is ReplyKind.FACT]
        assert len(facts) >= 6
    logged = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(logged) == 1
    assert logged[0].name == "factbot.storage.sqlite" and logged[0].exc_info


async def test_kill_9_during_a_burst_loses_no_committed_row(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(path)], cwd=ROOT, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None
    committed = 0
    try:
        while committed < 1500:
            line = proc.stdout.readline()
            assert line, proc.stderr.read() if proc.stderr else "writer ended"
            committed = int(line)
    finally:
        proc.kill()  # SIGKILL: no cleanup, mid-burst
        proc.communicate(timeout=30)
    assert rows(path, "PRAGMA integrity_check") == [("ok",)]
    async with SqliteStore(path) as store:
        assert store.opened_version == SCHEMA_VERSION
    kept = {text for (text,) in rows(path, "SELECT text FROM unmatched")}
    assert {f"q{n}" for n in range(committed)} <= kept
    [(position,)] = rows(path, "SELECT position FROM rotation")
    [(count,)] = rows(path, "SELECT count FROM usage")
    assert isinstance(position, int) and position >= committed
    assert isinstance(count, int) and count >= committed


async def test_a_caller_cancelled_mid_flush_loses_nothing(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    async with SqliteStore(path, flush_interval=3600) as store:
        for n in range(200):
            await store.record_unmatched("telegram", f"q{n}", "u")
            await store.record_usage("telegram", "hallyu")
        flushing = asyncio.create_task(store.flush())
        await asyncio.sleep(0)  # let it start its transaction
        flushing.cancel()
        with pytest.raises(asyncio.CancelledError):
            await flushing
    assert rows(path, "SELECT count(*) FROM unmatched") == [(200,)]
    assert rows(path, "SELECT count FROM usage") == [(200,)]


async def test_a_store_can_be_opened_again_after_closing(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "state.db", flush_interval=0.01)
    for expected in (0, 1):
        async with store:
            assert await store.next_rotation(CHAT, "hallyu", 5) == expected
            await asyncio.sleep(0.05)  # the background flush runs at least once
            assert store.pending == 0


async def test_a_read_racing_a_settings_write_does_not_cache_the_old_settings(
        tmp_path: Path) -> None:
    chat = ChatKey("telegram", "-100")
    async with SqliteStore(tmp_path / "race.db") as store:
        writing = asyncio.create_task(store.set_topic_enabled(chat, "hallyu", False))
        await asyncio.sleep(0)  # the write has begun; now a message in that chat reads
        await store.chat_settings(chat)
        await writing
        assert (await store.chat_settings(chat)).disabled == frozenset({"hallyu"})
        daily = asyncio.create_task(store.set_daily(chat, True))
        await asyncio.sleep(0)
        await store.chat_settings(chat)
        await daily
        assert (await store.chat_settings(chat)).daily is True


async def test_an_unencodable_question_does_not_block_the_batch(tmp_path: Path) -> None:
    chat = ChatKey("console", "c")
    async with SqliteStore(tmp_path / "s.db") as store:
        await store.record_unmatched("console", "hello \udcff", "u")
        await store.next_rotation(chat, "hallyu", 6)
        await store.flush()
    async with SqliteStore(tmp_path / "s.db") as store:
        assert await store.next_rotation(chat, "hallyu", 6) == 1
        assert await store.unmatched_total() == 1


@pytest.mark.parametrize("steps", range(6))
async def test_a_claim_cancelled_at_any_await_leaves_no_transaction_open(
        tmp_path: Path, steps: int) -> None:
    """The daily round is cancelled at shutdown wherever it is: the next write still works."""
    async with SqliteStore(tmp_path / "s.db") as store:
        chat = ChatKey("telegram", "-1")
        await store.set_daily(chat, True, time(8, 0), "UTC")
        claim = asyncio.create_task(store.claim_daily("telegram", datetime.now(UTC)))
        for _ in range(steps):  # let it reach a later await: BEGIN, the read, the update
            await asyncio.sleep(0)
        claim.cancel()
        await asyncio.gather(claim, return_exceptions=True)
        settings = await store.set_cooldown(chat, 3, 9)  # a write transaction of its own
        assert settings.user_per_minute == 3
    async with SqliteStore(tmp_path / "s.db") as store:
        assert (await store.chat_settings(chat)).user_per_minute == 3
