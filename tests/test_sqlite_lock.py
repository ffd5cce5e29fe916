"""One bot process per SQLite file: the second is refused in one line, readers are not."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from factbot.cli import main
from factbot.errors import StorageError
from factbot.storage.sqlite import LOCK_SUFFIX, SqliteStore
from tests.test_cli_storage import ROOT, env, factbot  # noqa: F401 (env: a fixture)

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="no fcntl: no lock on Windows")


def refusal(pid: int, db: Path) -> str:
    return (f"factbot: error: another factbot process (pid {pid}) is using {db}; for several "
            "processes, use PostgreSQL (FACTBOT_DB=postgresql://…)\n")


@pytest.fixture
def holder(tmp_path: Path, env: dict[str, str]) -> Iterator[subprocess.Popen[str]]:  # noqa: F811
    """A real `factbot chat` on tmp_path/x.db, after it has answered (so holds the file)."""
    proc = subprocess.Popen([sys.executable, "-m", "factbot.cli", "chat", "--db",
                             str(tmp_path / "x.db")], cwd=ROOT, env=env, text=True,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    assert proc.stdin is not None and proc.stdout is not None
    try:
        proc.stdin.write("/hallyu\n")
        proc.stdin.flush()
        while not (line := proc.stdout.readline()).startswith("“"):
            assert line, f"chat ended early: {proc.stderr.read() if proc.stderr else ''}"
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=30)


def test_a_second_bot_process_on_one_file_is_refused_naming_the_first_and_postgresql(
        tmp_path: Path, env: dict[str, str], holder: subprocess.Popen[str],  # noqa: F811
        capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "x.db"
    assert (tmp_path / f"x.db{LOCK_SUFFIX}").read_text().strip() == str(holder.pid)
    assert main(["ask", "--chat", "7", "--db", str(db), "/hallyu"]) == 2
    assert capsys.readouterr() == ("", refusal(holder.pid, db))
    chat = factbot("chat", "--db", str(db), stdin="/hallyu\n", env=env)
    assert (chat.returncode, chat.stdout, chat.stderr) == (2, "", refusal(holder.pid, db))


def test_factbot_run_on_a_file_in_use_is_refused_before_connecting(
        tmp_path: Path, env: dict[str, str], holder: subprocess.Popen[str]) -> None:  # noqa: F811
    # A token that nothing answers for: the refusal comes before any platform is asked.
    run = factbot("run", "telegram", "--db", str(tmp_path / "x.db"),
                  env={**env, "TELEGRAM_BOT_TOKEN": "123456:" + "A" * 35,
                       "FACTBOT_TELEGRAM_API_BASE_URL": "http://127.0.0.1:9/bot"})
    assert run.returncode == 2, run.stderr
    assert run.stderr.splitlines()[-1] == refusal(holder.pid, tmp_path / "x.db").rstrip("\n")


def test_stats_and_backup_read_while_the_bot_holds_the_file(
        tmp_path: Path, env: dict[str, str], holder: subprocess.Popen[str],  # noqa: F811
        capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "x.db"
    assert main(["stats", "--db", str(db), "--json"]) == 0
    assert main(["db", "backup", str(tmp_path / "copy.db"), "--db", str(db)]) == 0
    assert "error" not in capsys.readouterr().err
    assert holder.poll() is None  # and the bot goes on
    assert main(["stats", "--db", str(tmp_path / "copy.db")]) == 0


def test_a_bot_killed_with_sigkill_leaves_no_stale_lock(
        tmp_path: Path, env: dict[str, str], holder: subprocess.Popen[str],  # noqa: F811
        capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "x.db"
    assert main(["ask", "--chat", "7", "--db", str(db), "/hallyu"]) == 2
    capsys.readouterr()
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait(timeout=30)
    assert holder.returncode == -signal.SIGKILL
    # The lock file is still there, with the dead pid in it: the OS let go of the lock.
    assert (tmp_path / f"x.db{LOCK_SUFFIX}").read_text().strip() == str(holder.pid)
    assert main(["ask", "--chat", "7", "--db", str(db), "/hallyu"]) == 0
    assert capsys.readouterr().out.startswith("“")


async def test_closing_the_store_releases_the_lock_and_a_failed_open_never_holds_it(
        tmp_path: Path) -> None:
    db = tmp_path / "x.db"
    async with SqliteStore(db, exclusive=True):
        with pytest.raises(StorageError, match=rf"\(pid {os.getpid()}\) is using"):
            await SqliteStore(db, exclusive=True).open()
        async with SqliteStore(db, create=False):  # a reader does not ask for the lock
            pass
    assert (tmp_path / f"x.db{LOCK_SUFFIX}").read_text() == ""  # closed: no pid left
    async with SqliteStore(db, exclusive=True):
        pass
    broken = tmp_path / "broken.db"
    broken.write_bytes(b"not a database" * 100)
    for _ in range(2):  # the second open would be refused if the first kept the lock
        with pytest.raises(StorageError, match="not a SQLite database"):
            await SqliteStore(broken, exclusive=True).open()


async def test_a_read_only_store_reads_a_file_another_process_holds_and_writes_nothing(
        tmp_path: Path, env: dict[str, str], holder: subprocess.Popen[str],  # noqa: F811
        ) -> None:
    db = tmp_path / "x.db"
    async with SqliteStore(db, read_only=True) as store:
        # The holder answered /hallyu: its usage reaches the file within a flush interval.
        for _ in range(100):
            topics = await store.top_topics()
            if topics:
                break
            await asyncio.sleep(0.05)
        assert [t.topic for t in topics] == ["hallyu"]
        await store.record_unmatched("telegram", "what is this", "h")
        await store.flush()  # a read-only store never writes: the question stays in memory
    assert holder.poll() is None
    async with SqliteStore(db, read_only=True) as store:
        assert await store.unmatched_total() == 0


async def test_a_read_only_store_refuses_a_missing_file_and_an_older_schema(
        tmp_path: Path) -> None:
    with pytest.raises(StorageError, match="no database here"):
        await SqliteStore(tmp_path / "none.db", read_only=True).open()
    old = tmp_path / "old.db"
    sqlite3.connect(old).execute("PRAGMA user_version = 1").connection.close()
    with pytest.raises(StorageError, match=r"schema version 1; this factbot reads version"):
        await SqliteStore(old, read_only=True).open()
    assert not old.with_name(old.name + LOCK_SUFFIX).exists()
