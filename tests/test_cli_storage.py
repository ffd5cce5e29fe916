"""The command line with a real database: ask --chat/--db, chat, stats, db backup, bad files."""

from __future__ import annotations

import io
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from factbot.cli import main
from tests.test_storage_sqlite import WRITER, corrupt_database, rows

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """A clean environment whose default data directory is inside tmp_path."""
    for name in list(os.environ):
        if name.startswith("FACTBOT_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("FACTBOT_LOG_LEVEL", "WARNING")
    return dict(os.environ)


def factbot(*args: str, env: dict[str, str], stdin: str = "",
            wrap: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*wrap, sys.executable, "-m", "factbot.cli", *args], cwd=ROOT, env=env,
                          input=stdin, capture_output=True, text=True, timeout=120)


def quotes(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith("“")]


def test_three_asks_in_a_row_give_three_different_quotes(tmp_path: Path,
                                                         env: dict[str, str]) -> None:
    db = str(tmp_path / "x.db")
    seen = []
    for _ in range(3):
        done = factbot("ask", "--chat", "7", "--db", db, "/hallyu", env=env)
        assert done.returncode == 0, done.stderr
        [quote] = quotes(done.stdout)
        seen.append(quote)
    assert len(set(seen)) == 3
    # Another chat starts from the first fact.
    other = factbot("ask", "--chat", "8", "--db", db, "/hallyu", env=env)
    assert quotes(other.stdout) == seen[:1]


def test_ask_answers_afresh_and_keeps_out_of_the_live_database(
        tmp_path: Path, env: dict[str, str]) -> None:
    """Without --db, `factbot ask` neither reads nor writes the running bot's database."""
    live = tmp_path / "live.db"
    env = {**env, "FACTBOT_DB": str(live)}
    lines = "/hallyu\n/hallyu\nwhat is the weather in seoul\n"
    first = factbot("ask", "--jsonl", env=env, stdin=lines)
    second = factbot("ask", "--jsonl", "--db", ":memory:", env=env, stdin=lines)
    assert first.returncode == 0 and second.returncode == 0, first.stderr + second.stderr
    assert first.stdout == second.stdout
    answers = [json.loads(line) for line in first.stdout.splitlines()]
    assert answers[0]["quote"] != answers[1]["quote"]  # rotation within the run
    assert not live.exists() and not (tmp_path / "data" / "factbot" / "factbot.db").exists()
    # --chat names a chat whose rotation is kept: in the live database.
    kept = [factbot("ask", "--chat", "9", "/hallyu", env=env) for _ in range(2)]
    assert quotes(kept[0].stdout) != quotes(kept[1].stdout) and live.exists()


def test_the_database_path_comes_from_flag_env_config_or_default(
        tmp_path: Path, env: dict[str, str], monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    def run(*args: str) -> None:
        monkeypatch.setattr("sys.stdin", io.StringIO("/hallyu\n"))
        assert main(["chat", *args]) == 0

    run()
    assert (tmp_path / "data" / "factbot" / "factbot.db").is_file()
    config = tmp_path / "factbot.yaml"
    config.write_text(f"db: {tmp_path / 'from-config.db'}\n")
    run("--config", str(config))
    assert (tmp_path / "from-config.db").is_file()
    monkeypatch.setenv("FACTBOT_DB", str(tmp_path / "from-env.db"))
    run("--config", str(config))
    assert (tmp_path / "from-env.db").is_file()
    run("--db", str(tmp_path / "from-flag.db"))
    assert (tmp_path / "from-flag.db").is_file()
    for name in ("from-config.db", "from-env.db", "from-flag.db"):
        assert rows(tmp_path / name, "SELECT count(*) FROM rotation") == [(1,)]
    capsys.readouterr()


def test_ask_jsonl_keeps_rotation_in_one_run(tmp_path: Path, env: dict[str, str]) -> None:
    done = factbot("ask", "--jsonl", "--db", str(tmp_path / "x.db"), "--chat", "3",
                   stdin="/hallyu\n/hallyu\nwhat is the weather on Mars?\n", env=env)
    assert done.returncode == 0, done.stderr
    records = [json.loads(line) for line in done.stdout.splitlines()]
    assert [r["matched"] for r in records] == [True, True, False]
    assert records[0]["quote"] != records[1]["quote"]


# --- factbot stats -----------------------------------------------------------------------


def test_stats_lists_top_topics_and_frequent_unanswered_questions(
        tmp_path: Path, env: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    db = str(tmp_path / "x.db")
    for text in ["/hallyu", "/hallyu", "what is the weather on Mars?",
                 "What is the weather on MARS", "who won the football"]:
        assert main(["ask", "--db", db, text]) == 0
    capsys.readouterr()
    assert main(["stats", "--db", db, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["topics"][0] == {"topic": "hallyu", "count": 2, "by_platform": {"console": 2}}
    assert report["unmatched_total"] == 3
    assert [(q["text"], q["count"]) for q in report["unmatched"]] == [
        ("What is the weather on MARS", 2), ("who won the football", 1)]
    assert main(["stats", "--db", db]) == 0
    text = capsys.readouterr().out
    assert "/hallyu" in text and '2x  "What is the weather on MARS"' in text


def test_stats_lists_the_wrongly_answered_questions_by_the_fact_shown(
        tmp_path: Path, env: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    import asyncio

    from factbot.storage.sqlite import SqliteStore

    db = tmp_path / "x.db"

    async def vote() -> None:
        async with SqliteStore(db) as store:
            for user, question in (("a", "who runs the embassy"), ("b", "embassy boss?")):
                assert await store.record_feedback("telegram", "-1", "-1:5", user, question,
                                                   "ambassador", "Q1")
            assert not await store.record_feedback("telegram", "-1", "-1:5", "a", "again",
                                                   "ambassador", "Q1")

    asyncio.run(vote())
    assert main(["stats", "--db", str(db), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["wrong_total"] == 2
    [wrong] = report["wrong"]
    assert (wrong["topic"], wrong["quote"], wrong["count"]) == ("ambassador", "Q1", 2)
    assert set(wrong["questions"]) == {"who runs the embassy", "embassy boss?"}
    assert main(["stats", "--db", str(db)]) == 0
    text = capsys.readouterr().out
    assert 'Answers marked "Not what I asked": 2' in text
    assert '2x  /ambassador: "Q1"' in text and 'asked: "embassy boss?"' in text


def test_stats_on_a_missing_database_is_a_one_line_error(
        tmp_path: Path, env: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nope.db"
    assert main(["stats", "--db", str(missing)]) == 2
    err = capsys.readouterr().err
    assert err == f"factbot: error: {missing}: no database here (has the bot run yet?)\n"
    assert not missing.exists()


# --- factbot db backup -------------------------------------------------------------------


def test_backup_is_a_consistent_copy_while_another_process_writes(
        tmp_path: Path, env: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    db, copy = tmp_path / "live.db", tmp_path / "backup" / "copy.db"
    copy.parent.mkdir()
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(db)], cwd=ROOT, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert writer.stdout is not None
    try:
        committed = 0
        while committed < 500:
            committed = int(writer.stdout.readline() or 0) or pytest.fail("writer ended")
        assert main(["db", "backup", str(copy), "--db", str(db)]) == 0
    finally:
        writer.kill()
        writer.communicate(timeout=30)
    assert capsys.readouterr().out.startswith(f"backed up {db} to {copy}")
    assert rows(copy, "PRAGMA integrity_check") == [("ok",)]
    [(count,)] = rows(copy, "SELECT count(*) FROM unmatched")
    assert isinstance(count, int) and count >= committed
    # The copy is a working state database in its own right.
    assert main(["stats", "--db", str(copy), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["unmatched_total"] == count


def test_backup_errors_are_one_line(tmp_path: Path, env: dict[str, str],
                                    capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["db", "backup", str(tmp_path / "c.db"), "--db", str(tmp_path / "none.db")]) == 2
    assert "none.db: no database here" in capsys.readouterr().err
    db = tmp_path / "x.db"
    assert main(["ask", "--db", str(db), "/hallyu"]) == 0
    capsys.readouterr()
    assert main(["db", "backup", str(tmp_path), "--db", str(db)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "is a directory; name the backup file" in err
    assert main(["db", "backup", str(db), "--db", str(db)]) == 2
    assert "must not overwrite the database itself" in capsys.readouterr().err
    missing = tmp_path / "no" / "such" / "dir" / "b.db"
    assert main(["db", "backup", str(missing), "--db", str(db)]) == 2
    assert capsys.readouterr().err.startswith(f"factbot: error: {missing}: cannot write")


# --- files that cannot be opened ---------------------------------------------------------


@pytest.mark.parametrize(("make", "message"), [
    (lambda p: p.mkdir(), "is a directory"),
    (lambda p: p.write_text("not a database\n" * 300), "not a SQLite database"),
    (corrupt_database, "corrupt"),
])
def test_a_bad_database_file_exits_2_with_one_line(tmp_path: Path, env: dict[str, str],
                                                   capsys: pytest.CaptureFixture[str],
                                                   make: Callable[[Path], object],
                                                   message: str) -> None:
    path = tmp_path / "bad.db"
    make(path)
    for command in (["ask", "--db", str(path), "/hallyu"], ["stats", "--db", str(path)]):
        assert main(command) == 2
        captured = capsys.readouterr()
        assert captured.out == ""
        assert captured.err.startswith(f"factbot: error: {path}: ")
        assert message in captured.err and captured.err.count("\n") == 1


def _without_privileges() -> tuple[str, ...]:
    """Run as a process that file permissions apply to (root ignores them)."""
    if os.geteuid() != 0:
        return ()
    unshare = shutil.which("unshare")
    if unshare and subprocess.run([unshare, "--user", "true"]).returncode == 0:
        return (unshare, "--user")  # a user namespace drops root's power over files
    pytest.skip("running as root without user namespaces: permissions cannot be tested")


@pytest.mark.parametrize(("mode", "message"), [
    (0o000, "cannot open the file"),
    (0o444, "read-only"),
])
def test_an_unreadable_or_read_only_database_exits_2(tmp_path: Path, env: dict[str, str],
                                                     mode: int, message: str) -> None:
    wrap = _without_privileges()
    path = tmp_path / "state.db"
    assert factbot("ask", "--db", str(path), "/hallyu", env=env).returncode == 0
    path.chmod(mode)
    try:
        done = factbot("ask", "--db", str(path), "/hallyu", env=env, wrap=wrap)
    finally:
        path.chmod(0o644)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.startswith(f"factbot: error: {path}: {message}")
    assert done.stderr.count("\n") == 1


# --- factbot chat ---------------------------------------------------------------------------


def test_chat_keeps_rotation_across_runs(tmp_path: Path, env: dict[str, str]) -> None:
    db = str(tmp_path / "x.db")
    first = factbot("chat", "--db", db, stdin="/hallyu\n/hallyu\n", env=env)
    second = factbot("chat", "--db", db, stdin="/hallyu\n/daily on 07:30 Asia/Seoul\n", env=env)
    assert first.returncode == second.returncode == 0, first.stderr + second.stderr
    seen = quotes(first.stdout) + quotes(second.stdout)
    assert len(seen) == 3 and len(set(seen)) == 3
    assert "Daily fact: on, every day at 07:30 (Asia/Seoul)" in second.stdout


def test_sigterm_flushes_and_closes_the_database(tmp_path: Path, env: dict[str, str]) -> None:
    db = tmp_path / "x.db"
    proc = subprocess.Popen([sys.executable, "-m", "factbot.cli", "chat", "--db", str(db)],
                            cwd=ROOT, env=env, text=True, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdin is not None and proc.stdout is not None
    try:
        proc.stdin.write("/hallyu\n/hallyu\n")
        proc.stdin.flush()
        seen = 0
        while seen < 2:
            line = proc.stdout.readline()
            assert line, "chat ended early"
            seen += line.startswith("“")
        proc.send_signal(signal.SIGTERM)  # stdin is still open: the bot is waiting for input
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    assert rows(db, "SELECT chat_id, topic, position FROM rotation") == [
        ("console", "hallyu", 2)]
    assert not Path(f"{db}-wal").exists()  # closed cleanly: the log was checkpointed away
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    conn.close()
