"""PostgresStore on a real server: schema versions, start-up errors, a server that goes away,
the choice of store by URL, and ``factbot db migrate``.

The contract every store keeps, and the guarantees between processes, are in
tests/test_store_contract.py. The database is this run's own (the postgres_url fixture).
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, time
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg
import pytest

from factbot.cli import main
from factbot.core import FactBot
from factbot.errors import StorageError, UnreachableError
from factbot.messages import IncomingMessage, ReplyKind
from factbot.packs import FactPack
from factbot.settings import Settings, load_settings
from factbot.storage import ChatKey, db_location, make_store
from factbot.storage.base import (
    ChatSettings,
    DayCount,
    EvalRun,
    FactCount,
    FeedbackRow,
    WrongCount,
)
from factbot.storage.postgres import (
    MIGRATIONS,
    SCHEMA_VERSION,
    PostgresStore,
    redact_url,
    url_password,
)
from factbot.storage.sqlite import SqliteStore

from .postgres import database_url

ROOT = Path(__file__).resolve().parent.parent
CHAT = ChatKey("telegram", "-100")
CLOSED_PORT_URL = "postgresql://bot:s3cret-pass@127.0.0.1:1/factbot"  # port 1: nobody listens


async def fetch(url: str, sql: str) -> list[tuple[object, ...]]:
    conn = await asyncpg.connect(url)
    try:
        return [tuple(row) for row in await conn.fetch(sql)]
    finally:
        await conn.close()


# --- URLs and the choice of store ------------------------------------------------------


@pytest.mark.parametrize(("url", "shown"), [
    ("postgresql://bot:pw%40x@db.example:5432/factbot",
     "postgresql://bot:***@db.example:5432/factbot"),
    ("postgresql://bot@db/factbot?password=hunter22&sslmode=require",
     "postgresql://bot@db/factbot?password=***&sslmode=require"),
    ("postgres:///factbot?host=/run/postgresql", "postgres:///factbot?host=/run/postgresql"),
])
def test_a_url_is_shown_with_its_password_masked(url: str, shown: str) -> None:
    assert redact_url(url) == shown


def test_the_password_forms_to_mask_are_as_written_and_decoded() -> None:
    assert set(url_password("postgresql://bot:pw%40x@db/f")) == {"pw%40x", "pw@x"}
    assert url_password("postgresql://bot@db/f") == ()


def test_a_postgresql_url_selects_postgres_and_anything_else_sqlite(tmp_path: Path) -> None:
    url = "postgresql://bot@127.0.0.1/factbot"
    assert isinstance(make_store(url, Settings()), PostgresStore)
    assert isinstance(make_store("POSTGRES://bot@h/f", Settings()), PostgresStore)
    assert isinstance(make_store(str(tmp_path / "x.db"), Settings()), SqliteStore)
    # FACTBOT_DB and the config's db: a URL is kept exactly as written, '//' included.
    for sample in (url, "postgresql:///factbot?host=/run/postgresql"):
        settings = load_settings(environ={"FACTBOT_DB": sample})
        assert settings.db == sample
        assert db_location(None, settings) == sample
    config = tmp_path / "factbot.yaml"
    config.write_text(f"db: {url}\n", encoding="utf-8")
    assert isinstance(make_store(None, load_settings(config, environ={})), PostgresStore)
    # --db wins over both, and a plain path stays a path.
    assert db_location(str(tmp_path / "y.db"), load_settings(environ={"FACTBOT_DB": url})) \
        == tmp_path / "y.db"
    assert load_settings(environ={"FACTBOT_DB": str(tmp_path / "z.db")}).db == tmp_path / "z.db"


# --- schema versions -------------------------------------------------------------------


async def test_a_new_database_gets_the_schema_and_keeps_it(postgres_url: str) -> None:
    async with PostgresStore(postgres_url) as store:
        assert store.opened_version == 0
        salt = await store.user_salt()
    async with PostgresStore(postgres_url) as store:
        assert store.opened_version == SCHEMA_VERSION
        assert await store.user_salt() == salt
    assert await fetch(postgres_url, "SELECT version FROM schema_version ORDER BY 1") == [
        (v,) for v in range(1, SCHEMA_VERSION + 1)]


async def test_processes_starting_together_migrate_once(postgres_url: str) -> None:
    stores = [PostgresStore(postgres_url) for _ in range(4)]
    await asyncio.gather(*(s.open() for s in stores))
    try:
        assert sorted(s.opened_version or 0 for s in stores) == [0, *[SCHEMA_VERSION] * 3]
        assert len({await s.user_salt() for s in stores}) == 1
    finally:
        await asyncio.gather(*(s.close() for s in stores))


async def test_a_database_from_a_newer_factbot_is_refused_in_one_line(postgres_url: str) -> None:
    async with PostgresStore(postgres_url):
        pass
    conn = await asyncpg.connect(postgres_url)
    await conn.execute("INSERT INTO schema_version (version) VALUES ($1)", SCHEMA_VERSION + 1)
    await conn.close()
    with pytest.raises(StorageError) as caught:
        await PostgresStore(postgres_url).open()
    message = str(caught.value)
    assert message.startswith(f"{postgres_url}: database schema version {SCHEMA_VERSION + 1} "
                              f"is newer than this factbot understands")
    assert "\n" not in message


async def test_a_schema_5_database_is_upgraded_keeping_its_data(postgres_url: str) -> None:
    conn = await asyncpg.connect(postgres_url)
    try:
        await conn.execute("CREATE TABLE schema_version (version integer PRIMARY KEY,"
                           " applied_at timestamptz NOT NULL DEFAULT now())")
        for version, statements in enumerate(MIGRATIONS[:5], start=1):
            for statement in statements:
                await conn.execute(statement)
            await conn.execute("INSERT INTO schema_version (version) VALUES ($1)", version)
        await conn.execute("INSERT INTO chats (platform, chat_id, daily, tz)"
                           " VALUES ('telegram', '-100', true, 'Asia/Seoul')")
        await conn.execute("INSERT INTO usage VALUES ('discord', 'trade', 7)")
        await conn.execute("INSERT INTO meta VALUES ('salt', 'kept-salt')")
    finally:
        await conn.close()
    async with PostgresStore(postgres_url) as store:
        assert store.opened_version == 5
        settings = await store.chat_settings(CHAT)
        assert (settings.daily, settings.tz, settings.language) == (True, "Asia/Seoul", None)
        assert [(t.topic, t.count) for t in await store.top_topics()] == [("trade", 7)]
        assert await store.user_salt() == "kept-salt"
        assert (await store.set_language(CHAT, "ko")).language == "ko"
        assert await store.record_feedback("telegram", "-100", "r", "u", "q", "trade", "T1")
    assert await fetch(postgres_url, "SELECT max(version) FROM schema_version") == [
        (SCHEMA_VERSION,)]


# --- start-up errors -------------------------------------------------------------------


async def test_a_server_refusing_connections_is_unreachable_and_the_password_never_shows(
) -> None:
    with pytest.raises(UnreachableError) as caught:
        await PostgresStore(CLOSED_PORT_URL, connect_timeout=2).open()
    assert caught.value.exit_status == 75
    message = str(caught.value)
    assert "s3cret-pass" not in message and "bot:***@127.0.0.1:1" in message
    assert "\n" not in message


async def test_a_missing_database_is_a_one_line_error_with_status_2(postgres_url: str) -> None:
    missing = database_url(postgres_url, "factbot_no_such_database")
    with pytest.raises(StorageError, match=r"factbot_no_such_database.*does not exist") as caught:
        await PostgresStore(missing).open()
    assert caught.value.exit_status == 2


def test_the_command_line_exits_75_for_a_server_that_is_down(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FACTBOT_")}
    done = subprocess.run([sys.executable, "-m", "factbot.cli", "stats", "--db", CLOSED_PORT_URL],
                          cwd=ROOT, env={**env, "XDG_DATA_HOME": str(tmp_path)},
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 75, done.stderr
    [line] = done.stderr.splitlines()
    assert line.startswith("factbot: error: postgresql://bot:***@127.0.0.1:1/factbot: cannot "
                           "reach the PostgreSQL server")
    assert "s3cret-pass" not in done.stdout + done.stderr


def test_db_backup_refuses_a_postgresql_url_in_one_line(capsys: pytest.CaptureFixture[str]
                                                        ) -> None:
    assert main(["db", "backup", "copy.db", "--db", CLOSED_PORT_URL]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "pg_dump" in err and "s3cret-pass" not in err


# --- what PostgreSQL will not store, and a server that goes away ------------------------


async def test_text_postgresql_cannot_take_is_cleaned_not_lost(postgres_url: str) -> None:
    async with PostgresStore(postgres_url, flush_interval=3600) as store:
        await store.record_unmatched("console", "nul \x00 here", "u")
        await store.record_unmatched("console", "lone \udcff surrogate", "u")
        await store.record_unmatched("console", "plain", "u")
        assert await store.unmatched_total() == 3
        texts = {q.text for q in await store.top_unmatched()}
    assert texts == {"nul \ufffd here", "lone ? surrogate", "plain"}  # '?': as SQLite has it


class Proxy:
    """A TCP relay to the server that the test can cut and restore, as a network would."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.target = (parts.hostname or "127.0.0.1", parts.port or 5432)
        self.port = 0
        self.server: asyncio.Server | None = None
        self.writers: set[asyncio.StreamWriter] = set()
        self.tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._relay, "127.0.0.1", self.port)
        self.port = self.server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """Close the listening socket and every connection through it."""
        if self.server is not None:
            self.server.close()
            for writer in self.writers:
                writer.transport.abort()
            await self.server.wait_closed()
            self.server = None
        for task in list(self.tasks):
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        self.writers |= {writer, up_writer}

        async def pump(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(OSError, asyncio.CancelledError):
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            dst.transport.abort()

        for task in (asyncio.create_task(pump(reader, up_writer)),
                     asyncio.create_task(pump(up_reader, writer))):
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)


@pytest.fixture
async def proxy(postgres_url: str) -> AsyncIterator[Proxy]:
    relay = Proxy(postgres_url)
    await relay.start()
    try:
        yield relay
    finally:
        await relay.stop()


def ask(text: str, chat: str = "-100") -> IncomingMessage:
    return IncomingMessage(text=text, platform="telegram", chat_id=chat, user_id="u1")


async def test_the_server_going_away_never_stops_the_answers_and_writes_resume(
        postgres_url: str, proxy: Proxy, packs: tuple[FactPack, ...],
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="factbot.storage")
    parts = urlsplit(postgres_url)
    via = parts._replace(netloc=f"{parts.username}@127.0.0.1:{proxy.port}").geturl()
    async with PostgresStore(via, flush_interval=3600, connect_timeout=2,
                             retry_after=0) as store:
        bot = FactBot(packs, store)
        first = await bot.handle(ask("/hallyu"))
        await proxy.stop()  # the network to the server is cut
        quotes = []
        for text in ["/hallyu", "/hallyu", "what is the weather on Mars?"]:
            reply = await bot.handle(ask(text))
            assert reply is not None
            if reply.kind is ReplyKind.FACT:
                quotes.append(reply.quote)
        await store.record_usage("telegram", "trade", "T1")  # a fact's count waits too
        await store.flush()  # fails: kept for later
        assert store.pending > 0
        assert len(set(quotes)) == 2  # rotation goes on from memory
        assert first is not None and first.kind is ReplyKind.FACT
        await proxy.start()  # back, on the same port
        assert await store.chat_settings(CHAT) == ChatSettings()
        await store.flush()
        assert store.pending == 0
        assert await store.unmatched_total() == 1
        assert [(t.topic, t.count) for t in await store.top_topics()] == [("hallyu", 3),
                                                                         ("trade", 1)]
        facts = await store.top_facts()
        assert FactCount("trade", "T1", 1) in facts  # counted while the server was away
        assert sum(f.count for f in facts if f.topic == "hallyu") == 3  # each fact shown
        # Written at once, a vote cannot wait: while the server is away it raises, in a line.
        await proxy.stop()
        with pytest.raises(StorageError, match="recording feedback failed") as caught:
            await store.record_feedback("telegram", "-100", "r", "u", "q", "hallyu", "Q1")
        assert "\n" not in str(caught.value)
        with pytest.raises(StorageError, match="recording an evaluation failed"):
            await store.record_eval(EvalRun("hallyu", datetime.now(UTC), 1, 1.0, 1.0, 0.0,
                                            "d"))
        await proxy.start()
        assert await store.record_feedback("telegram", "-100", "r", "u", "q", "hallyu", "Q1")
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1  # logged once, not once a message
    assert any("works again" in r.getMessage() for r in caplog.records)


# --- factbot db migrate ----------------------------------------------------------------


WHEN = datetime.now(UTC).replace(microsecond=0)  # within the age limits of kept questions
EVAL = EvalRun("hallyu", datetime(2026, 5, 4, 9, tzinfo=UTC), 40, 0.8, 0.9, 0.05, "abc123")


async def fill_sqlite(path: Path) -> None:
    async with SqliteStore(path) as store:
        await store.set_daily(CHAT, True, time(7, 30), "Asia/Seoul",
                              since=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC))
        await store.set_topic_enabled(CHAT, "trade", False)
        await store.set_cooldown(ChatKey("discord", "9"), 2, None)
        await store.set_left(ChatKey("telegram", "-7"), datetime(2026, 2, 1, tzinfo=UTC))
        for _ in range(3):
            await store.next_rotation(CHAT, "hallyu", 10)
            await store.record_usage("telegram", "hallyu", at=WHEN)
        await store.record_unmatched("telegram", "What about K-pop?", "abc", at=WHEN)
        await store.record_unmatched("discord", "what about k pop", "def", at=WHEN)
        await store.set_language(CHAT, "ms")
        await store.record_usage("telegram", "hallyu", "Q2", at=WHEN)
        for reply, user in (("r1", "abc"), ("r1", "def"), ("r2", "abc")):
            assert await store.record_feedback("telegram", "-100", reply, user, "kpop?",
                                               "hallyu", "Q1", at=WHEN)
        await store.record_eval(EVAL)


def test_db_migrate_copies_every_table_checks_the_counts_and_refuses_to_overwrite(
        tmp_path: Path, postgres_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "state.db"
    asyncio.run(fill_sqlite(source))

    async def salt_of_file() -> str:
        async with SqliteStore(source) as store:
            return await store.user_salt()

    salt = asyncio.run(salt_of_file())
    assert main(["db", "migrate", "--db", str(source), "--to", postgres_url]) == 0
    out = capsys.readouterr().out
    assert "every table's row count matches the file" in out
    counts = {line.split()[0]: int(line.split()[1]) for line in out.splitlines()
              if line.startswith("  ")}
    assert counts == {"meta": 1, "chats": 3, "disabled_topics": 1, "rotation": 1, "usage": 1,
                      "unmatched": 2, "fact_usage": 1, "activity": 4, "feedback": 3,
                      "eval_runs": 1}

    async def check() -> None:
        async with PostgresStore(postgres_url) as store:
            assert await store.user_salt() == salt  # user hashes stay comparable
            settings = await store.chat_settings(CHAT)
            assert settings == ChatSettings(
                daily=True, daily_time=time(7, 30), tz="Asia/Seoul",
                last_daily=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
                disabled=frozenset({"trade"}), language="ms")
            assert await store.top_facts() == [FactCount("hallyu", "Q2", 1)]
            today = WHEN.date()
            assert await store.activity(date(2000, 1, 1)) == [
                DayCount(d, p, o, n) for d, p, o, n in sorted([
                    (today, "discord", "fallback", 1), (today, "telegram", "fallback", 1),
                    (today, "telegram", "fact", 4), (today, "telegram", "wrong", 3)])]
            assert await store.wrong_answers() == [
                WrongCount("hallyu", "Q1", 3, ("kpop?",), WHEN)]
            assert (await store.feedback_rows(WHEN))[0] == FeedbackRow(
                "kpop?", "hallyu", "Q1", WHEN, "telegram", "abc")
            # One vote per user and reply holds in the copy too.
            assert not await store.record_feedback("telegram", "-100", "r1", "abc", "kpop?",
                                                   "hallyu", "Q1")
            assert await store.eval_history() == [EVAL]
            assert (await store.chat_settings(ChatKey("telegram", "-7"))).left_at == \
                datetime(2026, 2, 1, tzinfo=UTC)
            assert await store.next_rotation(CHAT, "hallyu", 10) == 3
            assert [(q.text, q.count) for q in await store.top_unmatched()] == [
                ("what about k pop", 2)]

    asyncio.run(check())
    # Again: the target holds state now.
    assert main(["db", "migrate", "--db", str(source), "--to", postgres_url]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "already holds state" in err and "--force" in err
    assert main(["db", "migrate", "--db", str(source), "--to", postgres_url, "--force"]) == 0
    assert "every table's row count matches" in capsys.readouterr().out


def test_db_migrate_wants_a_postgresql_target_and_a_file(tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]
                                                        ) -> None:
    assert main(["db", "migrate", "--to", str(tmp_path / "other.db")]) == 2
    assert "not a PostgreSQL URL" in capsys.readouterr().err
    assert main(["db", "migrate", "--db", str(tmp_path / "none.db"), "--to",
                 CLOSED_PORT_URL]) == 2
    err = capsys.readouterr().err
    assert "none.db: no database here" in err and "s3cret-pass" not in err


def test_stdout_is_not_used_for_errors() -> None:
    """db migrate's errors go to stderr only: its stdout is the report a script reads."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["db", "migrate", "--to", "nowhere"]) == 2
    assert out.getvalue() == ""
