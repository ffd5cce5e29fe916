"""SqliteStore: the default store, one SQLite file through aiosqlite.

The database runs in WAL mode with a busy timeout, so a backup or a
``factbot stats`` in another process never blocks the bot. The schema version
is ``PRAGMA user_version``; start-up runs every migration the file lacks.

Hot-path writes (rotation positions, usage counts, unmatched questions) are
kept in memory and written in one transaction every ``flush_interval``
seconds and on close. A crash loses at most that window; a committed row is
never lost. Settings and the daily-fact send time are written at once.
If the database fails while the bot runs, the store logs once, keeps
working from memory and retries at the next flush; only then does it cap the
unanswered questions it holds, and it logs how many it dropped. Before every
flush and settings write it checks that the file at the path is still the one
it has open: a file removed while open would take writes nobody can read again,
so the store writes it again at the path, with everything in it so far.

Per-chat state read from the file (settings and rotation positions, one query) is cached
for the ``chat_cache`` most recently active chats (an LRU, CHAT_CACHE_SIZE by default); a
chat that drops out is read again, with its unwritten positions laid over the file's. The
cache's reads and the batched writes take the same lock, so a read never sees half a flush.
A chat moved to a new id (a Telegram group upgraded to a supergroup) or forgotten (left long
ago) leaves the cache under that lock, with its unwritten positions: written to the new id
in the move's transaction, or dropped with the chat.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import logging
import os
import secrets
import sqlite3
import sys
from collections import Counter
from collections.abc import AsyncIterator, Iterable, Sequence
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

import aiosqlite

from factbot.errors import ConfigError, StorageError
from factbot.lru import LRU
from factbot.settings import Settings
from factbot.storage.base import (
    TEXT_MAX,
    UNMATCHED_MAX_AGE,
    UNMATCHED_MAX_ROWS,
    BaseStore,
    ChatKey,
    ChatSettings,
    DayCount,
    EvalRun,
    FactCount,
    FailureLog,
    FeedbackRow,
    Shards,
    TopicCount,
    UnmatchedCount,
    UnmatchedRow,
    WrongCount,
    check_language,
    next_slot,
    question_key,
    utc_day,
)
from factbot.storage.memory import group_wrong, rank_facts, rank_topics

log = logging.getLogger(__name__)

# Each entry upgrades the schema by one version; entry N-1 takes the file to version N.
# Never edit a released entry: add a new one (tests/test_storage_sqlite.py opens a file
# left at every older version).
MIGRATIONS: tuple[tuple[str, ...], ...] = (
    # 1: rotation, usage, unmatched questions
    (
        """CREATE TABLE rotation (
            platform TEXT NOT NULL, chat_id TEXT NOT NULL, topic TEXT NOT NULL,
            position INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (platform, chat_id, topic)) WITHOUT ROWID""",
        """CREATE TABLE usage (
            platform TEXT NOT NULL, topic TEXT NOT NULL, count INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (platform, topic)) WITHOUT ROWID""",
        """CREATE TABLE unmatched (
            id INTEGER PRIMARY KEY, at REAL NOT NULL, platform TEXT NOT NULL,
            text TEXT NOT NULL, user_hash TEXT NOT NULL)""",
    ),
    # 2: per-chat settings, the daily fact, the install's salt for user hashes
    (
        """CREATE TABLE chats (
            platform TEXT NOT NULL, chat_id TEXT NOT NULL,
            daily INTEGER NOT NULL DEFAULT 0, daily_time TEXT NOT NULL DEFAULT '09:00',
            tz TEXT NOT NULL DEFAULT 'UTC', last_daily REAL,
            PRIMARY KEY (platform, chat_id)) WITHOUT ROWID""",
        """CREATE TABLE disabled_topics (
            platform TEXT NOT NULL, chat_id TEXT NOT NULL, topic TEXT NOT NULL,
            PRIMARY KEY (platform, chat_id, topic)) WITHOUT ROWID""",
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID",
    ),
    # 3: per-chat cooldown; unmatched questions grouped by a folded key, pruned by age
    (
        "ALTER TABLE chats ADD COLUMN user_per_minute INTEGER",
        "ALTER TABLE chats ADD COLUMN chat_per_minute INTEGER",
        "ALTER TABLE unmatched ADD COLUMN question TEXT NOT NULL DEFAULT ''",
        "UPDATE unmatched SET question = question_key(text)",
        "CREATE INDEX unmatched_at ON unmatched (at)",
        "CREATE INDEX unmatched_question ON unmatched (question)",
    ),
    # 4: when the bot was blocked or removed from a chat, for deleting its state later
    (
        "ALTER TABLE chats ADD COLUMN left_at REAL",
    ),
    # 5: when each subscribed chat's daily fact is next due, indexed: the daily round finds
    # due chats without reading every subscriber. NULL: not worked out yet (claim_daily
    # fills it in, a batch at a time, before it claims).
    (
        "ALTER TABLE chats ADD COLUMN next_daily REAL",
        "CREATE INDEX chats_next_daily ON chats (platform, next_daily) WHERE daily = 1",
    ),
    # 6: a Discord channel's guild, so a shard group claims only its guilds' daily facts
    (
        "ALTER TABLE chats ADD COLUMN guild_id INTEGER",
    ),
    # 7: until when a claimed chat's daily fact is its claimer's to send (claim_daily);
    # NULL: not claimed, or marked sent since
    (
        "ALTER TABLE chats ADD COLUMN claimed_until REAL",
    ),
    # 8: a chat's reply language; counts per fact shown and per day and outcome; "Not what
    # I asked" votes (one per user and reply); each pack's evaluations over time
    (
        "ALTER TABLE chats ADD COLUMN language TEXT",
        """CREATE TABLE fact_usage (
            platform TEXT NOT NULL, topic TEXT NOT NULL, quote TEXT NOT NULL,
            count INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (platform, topic, quote)) WITHOUT ROWID""",
        """CREATE TABLE activity (
            day TEXT NOT NULL, platform TEXT NOT NULL, outcome TEXT NOT NULL,
            count INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (day, platform, outcome)) WITHOUT ROWID""",
        """CREATE TABLE feedback (
            id INTEGER PRIMARY KEY, at REAL NOT NULL, platform TEXT NOT NULL,
            chat_id TEXT NOT NULL, reply_key TEXT NOT NULL, user_hash TEXT NOT NULL,
            question TEXT NOT NULL, topic TEXT NOT NULL, quote TEXT NOT NULL,
            UNIQUE (platform, reply_key, user_hash))""",
        "CREATE INDEX feedback_at ON feedback (at)",
        "CREATE INDEX feedback_fact ON feedback (topic, quote)",
        """CREATE TABLE eval_runs (
            id INTEGER PRIMARY KEY, pack TEXT NOT NULL, at REAL NOT NULL,
            questions INTEGER NOT NULL, top1 REAL NOT NULL, rejection REAL NOT NULL,
            wrong REAL NOT NULL, digest TEXT NOT NULL)""",
        "CREATE INDEX eval_runs_pack ON eval_runs (pack, at)",
    ),
)
SCHEMA_VERSION = len(MIGRATIONS)
# Chats whose settings and rotation stay in memory (an LRU). The win: a message in a cached
# chat waits for no read. bench/storage.py (40 chats) answers at 0.89-0.92 of the in-memory
# store's rate with the cache and at 0.06-0.09 without it (--chat-cache 0: 170-250 µs a
# message instead of 11-17). 10,000 chats, the ones active in the last minutes of a busy bot,
# take about 2.6 MiB; past them RSS stays flat (bench/memory.py).
CHAT_CACHE_SIZE = 10_000
_DEFAULT_SETTINGS = ChatSettings()  # frozen: one object for every chat with no row
# What can go wrong writing: the database, the store closed under us, the file system.
_WRITE_ERRORS = (sqlite3.Error, ValueError, StorageError, OSError)
_READ_ERRORS = (sqlite3.Error, ValueError, StorageError)
# (platform, chat id): hashed and compared in C, where a ChatKey's dataclass methods run in
# Python; the hot path looks a chat up several times per message.
_Chat = tuple[str, str]


@dataclasses.dataclass(slots=True)
class _ChatState:
    """What the store keeps in memory for one recently active chat."""

    settings: ChatSettings | None  # None: read again (a settings write made it stale)
    positions: dict[str, int]  # topic -> stored position; each change is also in _dirty


def resolve_db_path(db: str | os.PathLike[str] | None, settings: Settings) -> Path:
    """``--db``, else FACTBOT_DB or the config's ``db`` (both in settings), else the default.

    The default raises a ConfigError naming FACTBOT_DB where it cannot be used (no home
    directory, or a read-only one).
    """
    from factbot.storage import db_location

    where = db_location(db, settings)
    if isinstance(where, str):
        raise ConfigError("the state database is a PostgreSQL URL here, not a SQLite file")
    return where


def _reason(exc: BaseException) -> str:
    text = str(exc)
    if "not a database" in text or "malformed" in text:
        return "not a SQLite database, or corrupt"
    if "readonly" in text or "read-only" in text:
        return "read-only: factbot must be able to write its state there"
    if "unable to open" in text:
        return "cannot open the file (check that it and its folder are readable and writable)"
    if "locked" in text or "busy" in text:
        return "locked by another process for longer than the busy timeout"
    return text.splitlines()[0] if text else type(exc).__name__


LOCK_SUFFIX = ".lock"  # factbot.db -> factbot.db.lock, holding the pid of the process using it


def _take_lock(path: Path) -> int | None:
    """Hold an exclusive flock on ``path``'s lock file; its descriptor, or None on Windows.

    SQLite's own locks allow several writers, each with its own cache and daily loop: two
    bots on one file would each send the daily fact and flush over each other's positions.
    The OS drops an flock when its process dies, so a ``kill -9`` leaves no stale lock.
    """
    if sys.platform == "win32":  # no fcntl; a second process there is not refused
        return None
    import fcntl

    lock = path.with_name(path.name + LOCK_SUFFIX)
    try:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)  # not inherited by children
    except OSError as exc:
        raise StorageError(f"{lock}: cannot open the lock file ({exc.strerror})") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        try:
            text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
        finally:
            os.close(fd)
        who = f" (pid {text})" if text.isdigit() else ""
        raise StorageError(f"another factbot process{who} is using {path}; for several "
                           "processes, use PostgreSQL (FACTBOT_DB=postgresql://…)") from None
    except OSError as exc:  # a file system without flock (some network mounts)
        os.close(fd)
        raise StorageError(f"{lock}: cannot lock it ({exc.strerror})") from None
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    return fd


def _probe_open(path: Path | str, timeout: float, uri: bool = False) -> None:
    sqlite3.connect(path, timeout=timeout, uri=uri).close()


def _identity(path: Path) -> tuple[int, int] | None:
    """Which file is at ``path`` (device and inode), or None when there is none."""
    try:
        stat = os.stat(path)
    except FileNotFoundError:
        return None
    return stat.st_dev, stat.st_ino


def _ts(when: datetime) -> float:
    return when.timestamp()


def _dt(ts: float | None) -> datetime | None:
    return None if ts is None else datetime.fromtimestamp(ts, UTC)


def _parse_time(text: str) -> time:
    hour, _, minute = text.partition(":")
    return time(int(hour), int(minute or 0))


def _clean(text: str) -> str:
    """Text SQLite can store: a lone surrogate cannot be, and one bad row would block the
    whole batch."""
    return text.encode("utf-8", "replace").decode("utf-8")


def _settings(row: Sequence[Any], disabled: Iterable[str]) -> ChatSettings:
    """A chat's settings from its row in ``chats`` (daily .. language) and topics off."""
    daily, daily_time, tz, last_daily, user_per_minute, chat_per_minute, left_at, lang = row
    return ChatSettings(bool(daily), _parse_time(daily_time), tz, _dt(last_daily),
                        frozenset(disabled), user_per_minute, chat_per_minute, _dt(left_at),
                        lang)


async def _migrate(db: aiosqlite.Connection, path: Path, salt: str | None = None) -> int:
    """Bring the file to SCHEMA_VERSION; return the version it had.

    ``salt`` is the one a new file gets (default: a fresh random one); a file keeps its own.
    """
    await db.create_function("question_key", 1, question_key, deterministic=True)
    version = int(await _scalar(db, "PRAGMA user_version"))
    if version > SCHEMA_VERSION:
        raise StorageError(f"{path}: database schema version {version} is newer than this "
                           f"factbot understands ({SCHEMA_VERSION}); upgrade factbot")
    mode = await _scalar(db, "PRAGMA journal_mode=WAL")
    if str(mode).lower() != "wal":
        raise StorageError(f"{path}: cannot switch the database to WAL mode (got {mode})")
    # WAL + NORMAL: a committed transaction survives the process being killed.
    await db.execute("PRAGMA synchronous=NORMAL")
    check = await _scalar(db, "PRAGMA quick_check")
    if check != "ok":
        raise StorageError(f"{path}: the database is corrupt ({check})")
    for target in range(version + 1, SCHEMA_VERSION + 1):
        # PRAGMA takes no parameters; target is an int from this module, not input.
        await _transaction(db, [(s, ()) for s in MIGRATIONS[target - 1]]
                           + [(f"PRAGMA user_version = {int(target)}", ())])
    if version == 0:
        log.info("%s: created the state database (schema version %d)", path, SCHEMA_VERSION)
    elif version < SCHEMA_VERSION:
        log.info("%s: migrated the database from schema version %d to %d", path, version,
                 SCHEMA_VERSION)
    # Prove we can write now, at start-up, rather than failing later mid-chat.
    await _transaction(db, [("INSERT OR IGNORE INTO meta (key, value) VALUES ('salt', ?)",
                             (salt or secrets.token_hex(16),))])
    return version


async def _daily_chats(db: aiosqlite.Connection,
                       platform: str) -> list[tuple[str, ChatSettings]]:
    """Every chat of ``platform`` with the daily fact on, by chat id, in one query."""
    rows = await db.execute_fetchall(
        "SELECT chat_id, NULL, daily, daily_time, tz, last_daily, user_per_minute,"
        " chat_per_minute, left_at, language FROM chats WHERE platform = ? AND daily = 1"
        " UNION ALL SELECT d.chat_id, d.topic, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL"
        " FROM disabled_topics AS d JOIN chats AS c"
        " ON c.platform = d.platform AND c.chat_id = d.chat_id"
        " WHERE d.platform = ? AND c.daily = 1", (platform, platform))
    found: dict[str, Sequence[Any]] = {}
    disabled: dict[str, list[str]] = {}
    for chat_id, topic, *row in rows:
        if topic is None:
            found[chat_id] = row
        else:
            disabled.setdefault(chat_id, []).append(topic)
    return [(chat_id, _settings(found[chat_id], disabled.get(chat_id, ())))
            for chat_id in sorted(found)]


# Due chats, the earliest first, on the chats_next_daily index (named: for IS NULL the
# planner would rather walk the primary key over every chat of the platform).
# The shard filter: no shards is shard count 1, ids [0], which every chat passes.
_CLAIM = ("SELECT chat_id, daily, daily_time, tz, last_daily, user_per_minute, chat_per_minute,"
          " left_at, language FROM chats INDEXED BY chats_next_daily"
          " WHERE platform = ? AND daily = 1 AND next_daily <= ?"
          " AND (claimed_until IS NULL OR claimed_until <= ?)"  # no live lease
          " AND coalesce(guild_id >> 22, 0) % ? IN (SELECT value FROM json_each(?))"
          " ORDER BY next_daily LIMIT ?")
_UNSET = ("SELECT chat_id, daily_time, tz, last_daily FROM chats INDEXED BY chats_next_daily"
          " WHERE platform = ? AND daily = 1 AND next_daily IS NULL LIMIT ?")
FILL_BATCH = 500  # next_daily worked out for this many chats a transaction (a short block)


async def _fill_next_daily(db: aiosqlite.Connection, platform: str) -> bool:
    """Work out next_daily for some chats that have none; True if more may be left."""
    if not await db.execute_fetchall(_UNSET, (platform, 1)):
        return False  # the usual case: a read, no write lock
    async with _writing(db):
        rows = list(await db.execute_fetchall(_UNSET, (platform, FILL_BATCH)))
        await db.executemany(
            "UPDATE chats SET next_daily = ? WHERE platform = ? AND chat_id = ?",
            [(_ts(next_slot(_parse_time(daily_time), tz, _dt(last))), platform, chat_id)
             for chat_id, daily_time, tz, last in rows])
    return len(rows) == FILL_BATCH


async def _scalar(db: aiosqlite.Connection, sql: str, params: tuple[Any, ...] = ()) -> Any:
    rows = list(await db.execute_fetchall(sql, params))
    return rows[0][0] if rows else None


@contextlib.asynccontextmanager
async def _writing(db: aiosqlite.Connection) -> AsyncIterator[None]:
    """One write transaction: committed at the end, rolled back on any failure.

    BEGIN is inside the try: a caller cancelled while awaiting it (the daily round at
    shutdown) leaves the worker thread to run it anyway, and the ROLLBACK queued after it
    ends that transaction instead of leaving it open for the next writer.
    """
    try:
        await db.execute("BEGIN IMMEDIATE")
        yield
        await db.execute("COMMIT")
    except BaseException:
        with contextlib.suppress(sqlite3.Error, ValueError):
            await db.execute("ROLLBACK")
        raise


async def _transaction(db: aiosqlite.Connection,
                       statements: Iterable[tuple[str, tuple[Any, ...]]]) -> None:
    """Run statements in one write transaction."""
    async with _writing(db):
        for sql, params in statements:
            await db.execute(sql, params)


class SqliteStore(FailureLog, BaseStore):
    """The default store. Open with ``async with SqliteStore(path) as store``."""

    _log = log  # FailureLog writes under this module's name

    def __init__(self, path: str | os.PathLike[str], *, busy_timeout: float = 5.0,
                 flush_interval: float = 0.5, create: bool = True,
                 max_age: float = UNMATCHED_MAX_AGE.total_seconds(),
                 max_rows: int = UNMATCHED_MAX_ROWS,
                 chat_cache: int = CHAT_CACHE_SIZE, exclusive: bool = False,
                 read_only: bool = False) -> None:
        self.path = Path(path)
        # read_only (the dashboard, beside a running bot): no lock, no migration, no pruning,
        # no flushing; the file is opened with mode=ro, so a write fails rather than lands.
        self.read_only = read_only
        # exclusive: hold LOCK_SUFFIX's flock while open, refusing a second writer (the bot's
        # commands); readers (stats, backup, migrate's source) leave it off.
        self.exclusive = exclusive
        self._lock_fd: int | None = None
        self.busy_timeout = busy_timeout
        self.flush_interval = flush_interval
        self.create = create
        self.max_age = max_age
        self.max_rows = max_rows
        self.opened_version: int | None = None  # schema version the file had before opening
        self._db: aiosqlite.Connection | None = None
        self._lock = asyncio.Lock()  # one transaction at a time on the one connection
        self._flusher: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()
        # Rotation positions not yet written, by chat: the newest value of each. Not a cache:
        # emptied by every flush (kept while the database fails).
        self._dirty: dict[_Chat, dict[str, int]] = {}
        self._usage: Counter[tuple[str, str]] = Counter()
        self._facts: Counter[tuple[str, str, str]] = Counter()  # (platform, topic, quote)
        self._days: Counter[tuple[str, str, str]] = Counter()  # (ISO day, platform, outcome)
        self._unmatched: list[tuple[float, str, str, str, str]] = []
        self._chats: LRU[_Chat, _ChatState] = LRU(chat_cache)
        self._salt: str | None = None
        self._failing = False
        self._opened = False  # between open() and close(), even while reopening fails
        self._identity: tuple[int, int] | None = None  # the file open, as device and inode
        self._journals: dict[Path, tuple[int, int] | None] = {}  # its -wal and -shm files
        self._moved_reported = False
        self.dropped_unmatched = 0  # unanswered questions dropped while the database failed
        self._dropping = 0  # ... since it last worked

    # --- life cycle ------------------------------------------------------------------

    async def open(self) -> None:
        if self._opened:
            return
        path = self.path
        if path.is_dir():
            raise StorageError(f"{path}: is a directory, not a database file")
        if self.read_only:
            if not path.exists():
                raise StorageError(f"{path}: no database here (has the bot run yet?)")
            self.opened_version = await self._connect_read_only()
            self._opened = True
            return
        if not path.exists():
            if not self.create:
                raise StorageError(f"{path}: no database here (has the bot run yet?)")
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StorageError(f"{path}: cannot create its folder ({exc.strerror})") from None
        if self.exclusive:
            self._lock_fd = _take_lock(path)
        try:
            self.opened_version = await self._connect()
        except BaseException:
            self._release_lock()
            raise
        self._opened = True
        await self._prune()
        self._stop = asyncio.Event()
        self._flusher = asyncio.create_task(self._flush_loop(), name=f"flush {path.name}")

    async def _connect(self) -> int:
        """Open the file at the path, bring it up to date and remember which file it is."""
        path = self.path
        try:
            # A plain connect first: when aiosqlite's connect fails, its worker thread
            # outlives the event loop and prints a traceback on the way out.
            await asyncio.to_thread(_probe_open, path, self.busy_timeout)
            db = await aiosqlite.connect(path, timeout=self.busy_timeout, isolation_level=None)
        except sqlite3.Error as exc:
            raise StorageError(f"{path}: {_reason(exc)}") from None
        try:
            await db.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout * 1000)}")
            version = await _migrate(db, path, self._salt)
            if self._salt is None:  # reopened at the path: the hashes keep their salt
                self._salt = str(await _scalar(db, "SELECT value FROM meta WHERE key = 'salt'"))
        except StorageError:
            await db.close()
            raise
        except sqlite3.Error as exc:
            await db.close()
            raise StorageError(f"{path}: {_reason(exc)}") from None
        self._db = db
        self._identity = _identity(path)
        self._journals = {Path(f"{path}{suffix}"): _identity(Path(f"{path}{suffix}"))
                          for suffix in ("-wal", "-shm")}
        return version

    async def _connect_read_only(self) -> int:
        """Open the file read-only as it is: a schema other than this factbot's is refused,
        since migrating is a write (the bot migrates it when it starts)."""
        path = self.path
        uri = f"{path.resolve().as_uri()}?mode=ro"
        try:
            await asyncio.to_thread(_probe_open, uri, self.busy_timeout, True)
            db = await aiosqlite.connect(uri, uri=True, timeout=self.busy_timeout,
                                         isolation_level=None)
        except sqlite3.Error as exc:
            raise StorageError(f"{path}: {_reason(exc)}") from None
        try:
            await db.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout * 1000)}")
            await db.create_function("question_key", 1, question_key, deterministic=True)
            version = int(await _scalar(db, "PRAGMA user_version"))
            if version != SCHEMA_VERSION:
                raise StorageError(f"{path}: database schema version {version}; this factbot "
                                   f"reads version {SCHEMA_VERSION} (run the bot of this "
                                   f"version once to migrate it)")
            self._salt = str(await _scalar(db, "SELECT value FROM meta WHERE key = 'salt'"))
        except StorageError:
            await db.close()
            raise
        except sqlite3.Error as exc:
            await db.close()
            raise StorageError(f"{path}: {_reason(exc)}") from None
        self._db = db
        self._identity = _identity(path)
        return version

    def _moved(self) -> bool:
        """Whether the file at the path is not the one open (removed, replaced, or lost)."""
        return self._opened and (self._db is None or _identity(self.path) != self._identity)

    async def _follow_file(self) -> None:
        """Make the next write go to the file at the path; called with the lock held.

        SQLite keeps writing to a file removed while open, into an inode nobody can open
        again: every reply would confirm a change that a restart loses. So a removed
        file is written again at the path from the open copy, with everything in it, and
        a file replaced by another is followed. Either way the old file's -wal and -shm
        go: a new file would take them for its own and replay the old pages into it.
        """
        if self._db is not None:
            now = _identity(self.path)
            if now == self._identity:
                return
            if not self._moved_reported:
                self._moved_reported = True
                if now is None:
                    log.warning("%s: the database file was removed while factbot ran; writing "
                                "it again there, with everything in it so far", self.path)
                else:
                    log.warning("%s: the database file was replaced by another while factbot "
                                "ran; writing to the new file from now on", self.path)
            copy = self.path.with_name(self.path.name + ".recovering")
            if now is None:
                copy.unlink(missing_ok=True)
                await self._db.execute("VACUUM INTO ?", (str(copy),))
            # Chat reads take the lock too: none runs while the old file closes and the
            # new one opens.
            old, self._db = self._db, None
            try:
                await old.close()
            except sqlite3.Error:
                log.exception("%s: closing the old database file failed", self.path)
            for journal, identity in self._journals.items():
                if identity is not None and _identity(journal) == identity:
                    journal.unlink(missing_ok=True)
            if now is None:
                os.replace(copy, self.path)
            # The file may hold other state than that cached from the old one; the
            # positions not yet written stay in _dirty and go over whatever it holds.
            self._chats.clear()
            await self._connect()
        else:  # a reopen failed before: try again
            copy = self.path.with_name(self.path.name + ".recovering")
            if _identity(self.path) is None and copy.exists():
                os.replace(copy, self.path)
            await self._connect()
        self._moved_reported = False

    async def close(self) -> None:
        if not self._opened:
            return
        if self._flusher is not None:
            # Stop between flushes, never in the middle of one: a cancelled transaction
            # would leave it unknown whether its rows were committed.
            self._stop.set()
            await self._flusher
            self._flusher = None
        async with self._lock:
            pass  # let a flush still in flight (its caller was cancelled) finish first
        await self.flush()
        if self.pending or self._dropping:  # the failure itself was logged when it began
            log.warning("%s: closing with %d writes the database never took (and %d "
                        "unanswered questions dropped while it failed): they are lost",
                        self.path, self.pending, self._dropping)
        self._opened = False
        db, self._db = self._db, None
        try:
            if db is not None:
                await db.close()
        except sqlite3.Error:
            log.exception("%s: closing the database failed", self.path)
        finally:
            self._release_lock()  # after the last write: the next process starts on it all

    def _release_lock(self) -> None:
        fd, self._lock_fd = self._lock_fd, None
        if fd is None:
            return
        # The file stays: unlinking it would let a process that opened it just before lock
        # the old inode while another locks a new file at the path, both "alone".
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)
        os.close(fd)  # closing the last descriptor releases the flock

    async def ping(self) -> None:
        """Raise StorageError unless the file answers a query and writes are getting through.

        Under the lock: not while the file is being replaced, and after a flush in progress.
        """
        if self._failing and self.pending:
            raise StorageError(f"{self.path}: writes are failing ({self.pending} waiting); "
                               f"carrying on from memory")
        try:
            async with self._lock:
                await self._conn().execute_fetchall("SELECT count(*) FROM meta")
        except StorageError:
            raise
        except (sqlite3.Error, ValueError) as exc:  # ValueError: aiosqlite's closed connection
            raise StorageError(f"{self.path}: {_reason(exc)}") from None

    async def _flush_loop(self) -> None:
        while not self._stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self.flush_interval)
            await self.flush()

    def _conn(self) -> aiosqlite.Connection:
        if self._db is None:
            raise StorageError(f"{self.path}: the store is not open")
        return self._db

    @property
    def _where(self) -> Path:
        return self.path

    # --- batched writes ------------------------------------------------------------

    @property
    def pending(self) -> int:
        """How many buffered writes wait for the next flush: rotation positions, topic counts
        and questions. The per-fact and per-day counts go with them (each is added with a
        topic count or a question, and taken and put back with them), so none waits alone."""
        return (sum(map(len, self._dirty.values())) + len(self._usage)
                + len(self._unmatched))

    @property
    def cached_chats(self) -> int:
        """How many chats' settings and positions are in memory (at most ``chat_cache``)."""
        return len(self._chats)

    @property
    def chat_cache(self) -> int:
        """The most chats whose state is kept in memory."""
        return self._chats.maxsize

    async def flush(self) -> None:
        """Write buffered changes in one transaction; on failure keep them for the next try."""
        if not self._opened or self.read_only or (not self.pending and not self._moved()):
            return
        # Shielded: a caller being cancelled must not cut a transaction in half.
        await asyncio.shield(self._flush_now())

    async def _flush_now(self) -> None:
        async with self._lock:
            try:
                await self._follow_file()
            except _WRITE_ERRORS:
                self._failed("opening the database file again")
                self._cap_unmatched()
                return
            if not self.pending:
                return
            dirty, self._dirty = self._dirty, {}
            usage, self._usage = self._usage, Counter()
            facts, self._facts = self._facts, Counter()
            days, self._days = self._days, Counter()
            unmatched, self._unmatched = self._unmatched, []
            try:
                await self._write(dirty, usage, unmatched, facts, days)
            except _WRITE_ERRORS:
                # Put it back, newer values first; a later flush retries.
                for key, positions in dirty.items():
                    newer = self._dirty.setdefault(key, {})
                    for topic, value in positions.items():
                        newer.setdefault(topic, value)
                self._usage.update(usage)
                self._facts.update(facts)
                self._days.update(days)
                self._unmatched = unmatched + self._unmatched
                self._failed("writing to the database")
                self._cap_unmatched()
                return
        self._recovered()

    async def _write(self, dirty: dict[_Chat, dict[str, int]],
                     usage: Counter[tuple[str, str]],
                     unmatched: Sequence[tuple[float, str, str, str, str]],
                     facts: Counter[tuple[str, str, str]] | None = None,
                     days: Counter[tuple[str, str, str]] | None = None) -> None:
        db = self._conn()
        async with _writing(db):
            if dirty:
                await db.executemany(
                    "INSERT INTO rotation (platform, chat_id, topic, position)"
                    " VALUES (?, ?, ?, ?) ON CONFLICT (platform, chat_id, topic)"
                    " DO UPDATE SET position = excluded.position",
                    [(*key, topic, value)
                     for key, positions in dirty.items() for topic, value in positions.items()])
            if usage:
                await db.executemany(
                    "INSERT INTO usage (platform, topic, count) VALUES (?, ?, ?)"
                    " ON CONFLICT (platform, topic) DO UPDATE SET count = count + excluded.count",
                    [(*key, value) for key, value in usage.items()])
            if facts:
                await db.executemany(
                    "INSERT INTO fact_usage (platform, topic, quote, count) VALUES (?, ?, ?, ?)"
                    " ON CONFLICT (platform, topic, quote)"
                    " DO UPDATE SET count = count + excluded.count",
                    [(*key, value) for key, value in facts.items()])
            if days:
                await db.executemany(
                    "INSERT INTO activity (day, platform, outcome, count) VALUES (?, ?, ?, ?)"
                    " ON CONFLICT (day, platform, outcome)"
                    " DO UPDATE SET count = count + excluded.count",
                    [(*key, value) for key, value in days.items()])
            if unmatched:
                await db.executemany(
                    "INSERT INTO unmatched (at, platform, text, user_hash, question)"
                    " VALUES (?, ?, ?, ?, ?)", unmatched)
                await self._prune_in(db)

    async def _prune_in(self, db: aiosqlite.Connection, table: str = "unmatched") -> None:
        """Drop ``table``'s rows (unmatched or feedback) past the age and row limits."""
        # The table name is one of two from this module, never input.
        await db.execute(f"DELETE FROM {table} WHERE at < ?", (self._cutoff(),))
        await db.execute(
            f"DELETE FROM {table} WHERE id <= "
            f"(SELECT id FROM {table} ORDER BY id DESC LIMIT 1 OFFSET ?)", (self.max_rows,))

    def _cutoff(self) -> float:
        return datetime.now(UTC).timestamp() - self.max_age

    async def _prune(self) -> None:
        db = self._conn()
        async with self._lock, _writing(db):
            await self._prune_in(db)
            await self._prune_in(db, "feedback")

    async def _run(self, statements: Iterable[tuple[str, tuple[Any, ...]]]) -> None:
        """Run statements in one transaction and commit now (settings, daily sends)."""
        async with self._lock:
            await self._follow_file()  # confirm nothing that a removed file would swallow
            await _transaction(self._conn(), statements)

    # --- rotation, usage, unmatched ----------------------------------------------

    async def next_rotation(self, chat: ChatKey, topic: str, count: int) -> int:
        key = (chat.platform, chat.chat_id)
        state = self._chats.get(key)
        if state is not None:
            positions = state.positions
        else:
            try:
                _, positions = await self._load_chat(key)
            except _READ_ERRORS:
                self._failed("reading a chat's state")
                # Not cached: read again once the database is back. Meanwhile the chat
                # carries on from its unwritten positions, if it has any.
                positions = dict(self._dirty.get(key, ()))
        position = positions.get(topic, 0) % max(count, 1)
        positions[topic] = position + 1
        dirty = self._dirty.get(key)
        if dirty is None:
            dirty = self._dirty[key] = {}
        dirty[topic] = position + 1
        return position

    async def record_usage(self, platform: str, topic: str, quote: str = "",
                           at: datetime | None = None) -> None:
        self._usage[(platform, topic)] += 1
        if quote:
            self._facts[(platform, topic, _clean(quote[:TEXT_MAX]))] += 1
        self._days[(utc_day(at or datetime.now(UTC)).isoformat(), platform, "fact")] += 1

    async def record_unmatched(self, platform: str, text: str, user_hash: str,
                               at: datetime | None = None) -> None:
        when = at or datetime.now(UTC)
        text = _clean(text)
        self._unmatched.append((_ts(when), platform, text, user_hash, question_key(text)))
        self._days[(utc_day(when).isoformat(), platform, "fallback")] += 1
        if self._failing:
            self._cap_unmatched()

    async def top_topics(self, limit: int = 10) -> list[TopicCount]:
        await self.flush()
        rows = await self._conn().execute_fetchall("SELECT platform, topic, count FROM usage")
        return rank_topics(Counter({(p, t): c for p, t, c in rows}), limit)

    async def unmatched_total(self) -> int:
        await self.flush()
        rows = await self._conn().execute_fetchall("SELECT count(*) FROM unmatched")
        return int(next(iter(rows))[0])

    async def top_unmatched(self, limit: int = 10) -> list[UnmatchedCount]:
        await self.flush()
        rows = await self._conn().execute_fetchall(
            "SELECT (SELECT text FROM unmatched AS u2 WHERE u2.question = u.question"
            "        ORDER BY u2.at DESC, u2.id DESC LIMIT 1),"
            " count(*) AS n, max(at) AS last FROM unmatched AS u"
            " GROUP BY question ORDER BY n DESC, last DESC LIMIT ?", (limit,))
        return [UnmatchedCount(text, int(n), datetime.fromtimestamp(last, UTC))
                for text, n, last in rows]

    async def top_facts(self, limit: int = 10) -> list[FactCount]:
        await self.flush()
        rows = await self._conn().execute_fetchall(
            "SELECT topic, quote, sum(count) AS n FROM fact_usage GROUP BY topic, quote"
            " ORDER BY n DESC, topic, quote LIMIT ?", (limit,))
        return rank_facts(((t, q, int(n)) for t, q, n in rows), limit)

    async def activity(self, since: date) -> list[DayCount]:
        await self.flush()
        rows = await self._conn().execute_fetchall(
            "SELECT day, platform, outcome, count FROM activity WHERE day >= ?"
            " ORDER BY day, platform, outcome", (since.isoformat(),))
        return [DayCount(date.fromisoformat(day), platform, outcome, int(count))
                for day, platform, outcome, count in rows]

    async def unmatched_questions(self, since: datetime,
                                  limit: int = 5000) -> list[UnmatchedRow]:
        await self.flush()
        rows = await self._conn().execute_fetchall(
            "SELECT text, at, platform, user_hash FROM unmatched WHERE at >= ?"
            " ORDER BY at DESC, id DESC LIMIT ?",
            (max(_ts(since), self._cutoff()), limit))
        return [UnmatchedRow(text, datetime.fromtimestamp(at, UTC), platform, user_hash)
                for text, at, platform, user_hash in rows]

    async def record_feedback(self, platform: str, chat_id: str, reply_key: str,
                              user_hash: str, question: str, topic: str, quote: str,
                              at: datetime | None = None) -> bool:
        when = at or datetime.now(UTC)
        try:
            async with self._lock:
                await self._follow_file()  # confirm nothing that a removed file would swallow
                db = self._conn()
                async with _writing(db):
                    # The UNIQUE key decides, in the file: one vote per user and reply.
                    cursor = await db.execute(
                        "INSERT INTO feedback (at, platform, chat_id, reply_key, user_hash,"
                        " question, topic, quote) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
                        " ON CONFLICT (platform, reply_key, user_hash) DO NOTHING",
                        (_ts(when), platform, chat_id, reply_key, user_hash,
                         _clean(question[:TEXT_MAX]), topic, _clean(quote[:TEXT_MAX])))
                    if cursor.rowcount != 1:
                        return False
                    await db.execute(
                        "INSERT INTO activity (day, platform, outcome, count)"
                        " VALUES (?, ?, 'wrong', 1) ON CONFLICT (day, platform, outcome)"
                        " DO UPDATE SET count = count + 1",
                        (utc_day(when).isoformat(), platform))
                    await self._prune_in(db, "feedback")
        except _WRITE_ERRORS as exc:
            raise StorageError(f"{self.path}: recording feedback failed "
                               f"({_reason(exc)})") from None
        return True

    async def wrong_total(self) -> int:
        rows = await self._conn().execute_fetchall(
            "SELECT count(*) FROM feedback WHERE at >= ?", (self._cutoff(),))
        return int(next(iter(rows))[0])

    async def wrong_answers(self, limit: int = 10) -> list[WrongCount]:
        db = self._conn()
        cutoff = self._cutoff()
        groups = list(await db.execute_fetchall(
            "SELECT topic, quote FROM feedback WHERE at >= ? GROUP BY topic, quote"
            " ORDER BY count(*) DESC, max(at) DESC, topic, quote LIMIT ?", (cutoff, limit)))
        if not groups:
            return []
        # The chosen facts' votes, oldest first, grouped (and ordered) as MemoryStore does.
        facts = " OR ".join(["(topic = ? AND quote = ?)"] * len(groups))
        rows = await db.execute_fetchall(
            f"SELECT topic, quote, question, at FROM feedback WHERE at >= ? AND ({facts})"
            " ORDER BY at, id", (cutoff, *(v for g in groups for v in g)))
        return group_wrong(((t, q, question, datetime.fromtimestamp(at, UTC))
                            for t, q, question, at in rows), limit)

    async def feedback_rows(self, since: datetime, limit: int = 5000) -> list[FeedbackRow]:
        rows = await self._conn().execute_fetchall(
            "SELECT question, topic, quote, at, platform, user_hash FROM feedback"
            " WHERE at >= ? ORDER BY at DESC, id DESC LIMIT ?",
            (max(_ts(since), self._cutoff()), limit))
        return [FeedbackRow(question, topic, quote, datetime.fromtimestamp(at, UTC), platform,
                            user_hash) for question, topic, quote, at, platform, user_hash in rows]

    async def record_eval(self, run: EvalRun) -> None:
        try:
            await self._run([(
                "INSERT INTO eval_runs (pack, at, questions, top1, rejection, wrong, digest)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)", (_clean(run.pack), _ts(run.at), run.questions,
                                                  run.top1, run.rejection, run.wrong,
                                                  _clean(run.digest)))])
        except _WRITE_ERRORS as exc:
            raise StorageError(f"{self.path}: recording an evaluation failed "
                               f"({_reason(exc)})") from None

    async def eval_history(self, pack: str | None = None, limit: int = 100) -> list[EvalRun]:
        rows = await self._conn().execute_fetchall(
            "SELECT * FROM (SELECT id, pack, at, questions, top1, rejection, wrong, digest"
            " FROM eval_runs WHERE ? IS NULL OR pack = ? ORDER BY at DESC, id DESC LIMIT ?)"
            " ORDER BY at, id", (pack, pack, max(limit, 0)))
        return [EvalRun(name, datetime.fromtimestamp(at, UTC), int(questions), float(top1),
                        float(rejection), float(wrong), digest)
                for _, name, at, questions, top1, rejection, wrong, digest in rows]

    async def user_salt(self) -> str:
        """This database's random salt for hashing user ids (made at creation)."""
        if self._salt is None:
            raise StorageError(f"{self.path}: the store is not open")
        return self._salt

    # --- per-chat settings -----------------------------------------------------------

    async def chat_settings(self, chat: ChatKey) -> ChatSettings:
        key = (chat.platform, chat.chat_id)
        state = self._chats.get(key)
        if state is not None and state.settings is not None:
            return state.settings
        try:
            settings, _ = await self._load_chat(key)
        except _READ_ERRORS:
            self._failed("reading a chat's settings")
            return _DEFAULT_SETTINGS  # not cached: read again once the database is back
        return settings

    async def _load_chat(self, key: _Chat) -> tuple[ChatSettings, dict[str, int]]:
        """Read a chat's settings and rotation positions in one round trip, and cache them.

        Under the lock, so that no flush or settings write is half done meanwhile: the
        file's rows with the unwritten positions laid over them are the chat's whole state,
        even for a chat that dropped out of the cache with positions still to write.
        """
        async with self._lock:
            state = self._chats.get(key)
            if state is not None and state.settings is not None:
                return state.settings, state.positions  # read by another task meanwhile
            rows = await self._conn().execute_fetchall(
                "SELECT 'chat', daily, daily_time, tz, last_daily, user_per_minute,"
                " chat_per_minute, left_at, language FROM chats"
                " WHERE platform = ? AND chat_id = ?"
                " UNION ALL SELECT 'off', topic, NULL, NULL, NULL, NULL, NULL, NULL, NULL"
                " FROM disabled_topics WHERE platform = ? AND chat_id = ?"
                " UNION ALL SELECT 'rotation', topic, position, NULL, NULL, NULL, NULL, NULL,"
                " NULL"
                " FROM rotation WHERE platform = ? AND chat_id = ?", key * 3)
            row: Sequence[Any] | None = None
            disabled: list[str] = []
            positions: dict[str, int] = {}
            for kind, *values in rows:
                if kind == "chat":
                    row = values
                elif kind == "off":
                    disabled.append(values[0])
                else:  # the same few topic names in every chat: one string each
                    positions[sys.intern(values[0])] = values[1]
            if row is not None:
                settings = _settings(row, disabled)
            else:
                settings = ChatSettings(disabled=frozenset(disabled)) if disabled \
                    else _DEFAULT_SETTINGS
            if state is not None:  # only the settings were dropped: its positions are newest
                state.settings = settings
            else:  # positions not yet written are newer than the file's
                positions.update(self._dirty.get(key, ()))
                state = _ChatState(settings, positions)
            self._chats[key] = state
            return settings, state.positions

    def _forget(self, chat: ChatKey) -> None:
        """Drop a chat's cached settings (its rotation positions stay): read them again."""
        state = self._chats.peek((chat.platform, chat.chat_id))
        if state is not None:
            state.settings = None

    _ENSURE = "INSERT OR IGNORE INTO chats (platform, chat_id) VALUES (?, ?)"

    async def set_daily(self, chat: ChatKey, enabled: bool, at: time | None = None,
                        tz: str | None = None, since: datetime | None = None) -> ChatSettings:
        current = await self.chat_settings(chat)
        at = at or current.daily_time
        last = since if since is not None else current.last_daily
        key = (chat.platform, chat.chat_id)
        self._forget(chat)
        await self._run([
            (self._ENSURE, key),
            ("UPDATE chats SET daily = ?, daily_time = ?, tz = ?, last_daily = ?,"
             " next_daily = NULL WHERE platform = ? AND chat_id = ?",
             (int(enabled), f"{at.hour:02d}:{at.minute:02d}", tz or current.tz,
              None if last is None else _ts(last), *key)),
        ])
        self._forget(chat)  # a read that raced the write must not keep the old rows
        return await self.chat_settings(chat)

    async def set_topic_enabled(self, chat: ChatKey, topic: str, enabled: bool) -> ChatSettings:
        key = (chat.platform, chat.chat_id, topic)
        self._forget(chat)
        if enabled:
            await self._run([("DELETE FROM disabled_topics WHERE platform = ? AND chat_id = ?"
                              " AND topic = ?", key)])
        else:
            await self._run([("INSERT OR IGNORE INTO disabled_topics (platform, chat_id, topic)"
                              " VALUES (?, ?, ?)", key)])
        self._forget(chat)  # a read that raced the write must not keep the old rows
        return await self.chat_settings(chat)

    async def set_cooldown(self, chat: ChatKey, user_per_minute: int | None,
                           chat_per_minute: int | None) -> ChatSettings:
        key = (chat.platform, chat.chat_id)
        self._forget(chat)
        await self._run([
            (self._ENSURE, key),
            ("UPDATE chats SET user_per_minute = ?, chat_per_minute = ?"
             " WHERE platform = ? AND chat_id = ?", (user_per_minute, chat_per_minute, *key)),
        ])
        self._forget(chat)  # a read that raced the write must not keep the old rows
        return await self.chat_settings(chat)

    async def set_language(self, chat: ChatKey, language: str | None) -> ChatSettings:
        key = (chat.platform, chat.chat_id)
        language = check_language(language)
        self._forget(chat)
        await self._run([
            (self._ENSURE, key),
            ("UPDATE chats SET language = ? WHERE platform = ? AND chat_id = ?",
             (language, *key)),
        ])
        self._forget(chat)  # a read that raced the write must not keep the old rows
        return await self.chat_settings(chat)

    async def daily_chats(self, platform: str) -> list[tuple[str, ChatSettings]]:
        # One query, past the cache: the settings are written at once, so the file has
        # them, and a round over thousands of subscribers must not push out the chats
        # that are talking.
        async with self._lock:  # not during a settings write, nor while the file is replaced
            return await _daily_chats(self._conn(), platform)

    async def set_guild(self, chat: ChatKey, guild_id: int) -> None:
        await self._run([(self._ENSURE, (chat.platform, chat.chat_id)),
                         ("UPDATE chats SET guild_id = ? WHERE platform = ? AND chat_id = ?",
                          (guild_id, chat.platform, chat.chat_id))])

    async def claim_daily(self, platform: str, now: datetime, limit: int = 100,
                          shards: Shards | None = None) -> list[tuple[str, ChatSettings]]:
        # One write transaction: BEGIN IMMEDIATE takes the file's write lock before the
        # read, so another process claiming at the same time waits and then sees the leases.
        # Due chats come off the next_daily index, so a round reads only what it sends.
        async with self._lock:
            await self._follow_file()
            db = self._conn()
            while await _fill_next_daily(db, platform):  # chats (re)set since the last round
                pass
            async with _writing(db):
                count, ids = shards or (1, frozenset({0}))
                rows = list(await db.execute_fetchall(_CLAIM, (
                    platform, _ts(now), _ts(now), count, json.dumps(sorted(ids)),
                    max(limit, 0))))
                disabled: dict[str, list[str]] = {}
                if rows:
                    marks = ", ".join("?" * len(rows))
                    for chat_id, topic in await db.execute_fetchall(
                            "SELECT chat_id, topic FROM disabled_topics WHERE platform = ?"
                            f" AND chat_id IN ({marks})", (platform, *(r[0] for r in rows))):
                        disabled.setdefault(chat_id, []).append(topic)
                claimed = sorted((row[0], _settings(row[1:], disabled.get(row[0], ())))
                                 for row in rows)
                until = _ts(now + self.daily_lease)
                await db.executemany(
                    "UPDATE chats SET claimed_until = ? WHERE platform = ? AND chat_id = ?",
                    [(until, platform, chat_id) for chat_id, _ in claimed])
        return claimed

    async def mark_daily_sent(self, chat: ChatKey, when: datetime) -> None:
        key = (chat.platform, chat.chat_id)
        self._forget(chat)
        await self._run([
            (self._ENSURE, key),
            # next_daily: worked out by the next claim (with the chat's time zone); the
            # chat's lease ends.
            ("UPDATE chats SET last_daily = ?, next_daily = NULL, claimed_until = NULL"
             " WHERE platform = ? AND chat_id = ?", (_ts(when), *key)),
        ])
        self._forget(chat)

    # --- chat lifecycle ----------------------------------------------------------------

    async def set_left(self, chat: ChatKey, when: datetime | None) -> ChatSettings:
        key = (chat.platform, chat.chat_id)
        self._forget(chat)
        if when is None:
            await self._run([("UPDATE chats SET left_at = NULL WHERE platform = ? AND chat_id = ?",
                              key)])
        else:
            await self._run([
                (self._ENSURE, key),
                ("UPDATE chats SET daily = 0, left_at = ? WHERE platform = ? AND chat_id = ?",
                 (_ts(when), *key)),
            ])
        self._forget(chat)  # a read that raced the write must not keep the old rows
        return await self.chat_settings(chat)

    async def migrate_chat(self, old: ChatKey, new: ChatKey) -> None:
        if old.platform != new.platform:
            raise ValueError(f"cannot move chat {old.chat_id} from {old.platform} to "
                             f"{new.platform}")
        if old == new:
            return
        platform, old_id, new_id = old.platform, old.chat_id, new.chat_id
        keys = ((platform, old_id), (platform, new_id))
        async with self._lock:
            await self._follow_file()
            # Both chats leave the cache, and their unwritten positions go into the move:
            # a read of either now waits for the lock and finds the rows moved, and no later
            # flush writes positions back under the old id.
            dirty = self._take_chats(keys)
            old_row = (platform, old_id)
            try:
                await _transaction(self._conn(), [
                    *self._position_writes(dirty),
                    # Topics turned off without any other setting have no row in chats: give
                    # them one, so that the old chat's settings replace the new one's whole.
                    ("INSERT OR IGNORE INTO chats (platform, chat_id) SELECT platform, chat_id"
                     " FROM disabled_topics WHERE platform = ? AND chat_id = ? LIMIT 1", old_row),
                    ("DELETE FROM disabled_topics WHERE platform = ? AND chat_id = ? AND EXISTS"
                     " (SELECT 1 FROM chats WHERE platform = ? AND chat_id = ?)",
                     (platform, new_id, *old_row)),
                    ("UPDATE disabled_topics SET chat_id = ? WHERE platform = ? AND chat_id = ?",
                     (new_id, *old_row)),
                    # left_at stays the new id's own: whether the bot is there is about it.
                    ("INSERT INTO chats (platform, chat_id, daily, daily_time, tz, last_daily,"
                     " user_per_minute, chat_per_minute, language) SELECT platform, ?, daily,"
                     " daily_time, tz, last_daily, user_per_minute, chat_per_minute, language"
                     " FROM chats WHERE platform = ? AND chat_id = ?"
                     " ON CONFLICT (platform, chat_id)"
                     " DO UPDATE SET daily = excluded.daily, daily_time = excluded.daily_time,"
                     " tz = excluded.tz, last_daily = excluded.last_daily,"
                     " next_daily = NULL, user_per_minute = excluded.user_per_minute,"
                     " chat_per_minute = excluded.chat_per_minute,"
                     " language = excluded.language", (new_id, *old_row)),
                    ("DELETE FROM chats WHERE platform = ? AND chat_id = ?", old_row),
                    ("INSERT INTO rotation (platform, chat_id, topic, position)"
                     " SELECT platform, ?, topic, position FROM rotation"
                     " WHERE platform = ? AND chat_id = ? ON CONFLICT (platform, chat_id, topic)"
                     " DO UPDATE SET position = excluded.position", (new_id, *old_row)),
                    ("DELETE FROM rotation WHERE platform = ? AND chat_id = ?", old_row),
                ])
            except BaseException:
                self._give_back(dirty)
                raise

    async def forget_left_chats(self, platform: str, left_before: datetime) -> int:
        cutoff = (platform, _ts(left_before))
        async with self._lock:
            await self._follow_file()
            db = self._conn()
            rows = await db.execute_fetchall(
                "SELECT chat_id FROM chats WHERE platform = ? AND left_at < ?", cutoff)
            gone = [(platform, chat_id) for chat_id, in rows]
            if not gone:
                return 0
            # Out of the cache, unwritten positions dropped: a forgotten chat must not come
            # back from memory, nor from a later flush.
            dirty = self._take_chats(gone)
            try:
                await _transaction(db, [
                    ("DELETE FROM rotation WHERE platform = ? AND chat_id IN"
                     " (SELECT chat_id FROM chats WHERE platform = ? AND left_at < ?)",
                     (platform, *cutoff)),
                    ("DELETE FROM disabled_topics WHERE platform = ? AND chat_id IN"
                     " (SELECT chat_id FROM chats WHERE platform = ? AND left_at < ?)",
                     (platform, *cutoff)),
                    ("DELETE FROM chats WHERE platform = ? AND left_at < ?", cutoff),
                ])
            except BaseException:
                self._give_back(dirty)
                raise
        return len(gone)

    def _take_chats(self, keys: Iterable[_Chat]) -> dict[_Chat, dict[str, int]]:
        """Drop chats from the cache and take their unwritten positions; under the lock."""
        taken = {}
        for key in keys:
            self._chats.pop(key, None)
            positions = self._dirty.pop(key, None)
            if positions:
                taken[key] = positions
        return taken

    def _give_back(self, dirty: dict[_Chat, dict[str, int]]) -> None:
        """Put positions taken for a write that failed back, newer values first."""
        for key, positions in dirty.items():
            newer = self._dirty.setdefault(key, {})
            for topic, value in positions.items():
                newer.setdefault(topic, value)

    @staticmethod
    def _position_writes(dirty: dict[_Chat, dict[str, int]]
                         ) -> list[tuple[str, tuple[Any, ...]]]:
        return [("INSERT INTO rotation (platform, chat_id, topic, position) VALUES (?, ?, ?, ?)"
                 " ON CONFLICT (platform, chat_id, topic) DO UPDATE SET position ="
                 " excluded.position", (*key, topic, value))
                for key, positions in dirty.items() for topic, value in positions.items()]


# --- factbot db backup ---------------------------------------------------------------


def backup(source: Path, target: Path, busy_timeout: float = 5.0) -> int:
    """Copy ``source`` to ``target`` with SQLite's online backup; return the page count."""
    if not source.is_file():
        raise StorageError(f"{source}: no database here (has the bot run yet?)")
    if target.exists() and target.resolve() == source.resolve():
        raise StorageError(f"{target}: the backup must not overwrite the database itself")
    if target.is_dir():
        raise StorageError(f"{target}: is a directory; name the backup file")
    partial = target.with_name(target.name + ".partial")
    try:
        src = sqlite3.connect(source, timeout=busy_timeout)
    except sqlite3.Error as exc:
        raise StorageError(f"{source}: {_reason(exc)}") from None
    try:
        partial.unlink(missing_ok=True)
        try:
            dst = sqlite3.connect(partial)
        except sqlite3.Error as exc:  # the target's folder, not the database, is at fault
            raise StorageError(f"{target}: cannot write the backup ({_reason(exc)})") from None
        try:
            src.backup(dst)
            pages = int(dst.execute("PRAGMA page_count").fetchone()[0])
            check = dst.execute("PRAGMA quick_check").fetchone()[0]
            if check != "ok":
                raise StorageError(f"{source}: the copy does not check out ({check})")
        finally:
            dst.close()
        os.replace(partial, target)
        return pages
    except sqlite3.Error as exc:
        partial.unlink(missing_ok=True)
        raise StorageError(f"{source}: {_reason(exc)}") from None
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise StorageError(f"{target}: cannot write the backup ({exc.strerror})") from None
    finally:
        src.close()


def backup_main(args: argparse.Namespace, settings: Settings) -> int:
    """``factbot db backup PATH``: a consistent copy while the bot keeps running."""
    source = resolve_db_path(getattr(args, "db", None), settings)
    target = Path(args.path).expanduser()
    pages = backup(source, target)
    print(f"backed up {source} to {target} ({pages} pages)")
    return 0
