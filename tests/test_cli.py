"""The factbot command line: ask, --json, --jsonl, chat, facts check, its errors, and running
as any user, with no home or a read-only one."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from .conftest import FACTS, ROOT


def factbot(*args: str, stdin: str = "", env: dict[str, str] | None = None
            ) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("FACTBOT_")}
    full_env.update(env or {})
    return subprocess.run([sys.executable, "-m", "factbot.cli", *args], input=stdin,
                          capture_output=True, text=True, cwd=ROOT, env=full_env, timeout=60)


def test_ask_prints_the_quote_and_source() -> None:
    result = factbot("ask", "how many koreans live in malaysia")
    assert result.returncode == 0
    assert "13,000" in result.stdout
    assert "Source: Bernama, Kuala Lumpur, Oct 2" in result.stdout


def test_ask_json_prints_one_object_with_the_contract_keys() -> None:
    result = factbot("ask", "--json", "korean wave")
    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout)
    assert set(record) == {"text", "matched", "topic", "reply", "quote", "score"}
    assert record["text"] == "korean wave"
    assert record["matched"] is True and record["topic"] == "hallyu"
    assert record["quote"] in record["reply"]
    assert isinstance(record["score"], float)


def test_ask_json_for_an_unknown_question_is_unmatched() -> None:
    record = json.loads(factbot("ask", "--json", "what's the weather").stdout)
    assert record["matched"] is False and record["topic"] is None and record["quote"] is None
    assert "don't know" in record["reply"]


def test_ask_jsonl_answers_one_line_per_line() -> None:
    lines = ["/trade", "lol", "", "한류", "/hallyu", "/hallyu"]
    result = factbot("ask", "--jsonl", stdin="\n".join(lines) + "\n")
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["text"] for r in records] == lines
    assert [r["topic"] for r in records] == ["trade", None, None, "hallyu", "hallyu", "hallyu"]
    # The same chat: asking /hallyu again gives the next fact.
    assert records[4]["quote"] != records[5]["quote"]


def test_chat_answers_each_line_and_exits_cleanly_at_end_of_input() -> None:
    result = factbot("chat", stdin="/community\nlol\n")
    assert result.returncode == 0, result.stderr
    assert "13,000" in result.stdout
    assert "don't know" in result.stdout


def test_facts_check_lists_topics_with_fact_counts() -> None:
    result = factbot("facts", "check", str(FACTS))
    assert result.returncode == 0, result.stderr
    assert "/hallyu" in result.stdout and "facts" in result.stdout


def _broken_pack(tmp_path: Path) -> Path:
    folder = tmp_path / "broken"
    folder.mkdir()
    (folder / "article.txt").write_text((FACTS / "korea-malaysia" / "article.txt").read_text())
    text = (FACTS / "korea-malaysia" / "pack.yaml").read_text()
    (folder / "pack.yaml").write_text(text.replace("third-largest trading partner",
                                                   "second-largest trading partner"))
    return folder


def test_facts_check_on_a_broken_pack_names_the_file_and_exits_2(tmp_path: Path) -> None:
    folder = _broken_pack(tmp_path)
    result = factbot("facts", "check", str(folder))
    assert result.returncode == 2
    assert f"{folder / 'pack.yaml'}:" in result.stdout + result.stderr


@pytest.mark.parametrize("command", [["ask", "hi"], ["chat"], ["ask", "--jsonl"]])
def test_a_broken_pack_gives_one_line_and_exit_status_2(tmp_path: Path,
                                                        command: list[str]) -> None:
    folder = _broken_pack(tmp_path)
    result = factbot("--facts", str(folder), *command)
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert str(folder / "pack.yaml") in lines[0] and "not verbatim" in lines[0]


def test_facts_dir_from_the_environment(tmp_path: Path) -> None:
    result = factbot("ask", "hi", env={"FACTBOT_FACTS": str(tmp_path / "nowhere")})
    assert result.returncode == 2
    assert "no such facts directory" in result.stderr


@pytest.mark.parametrize(("config", "needle"), [
    ("facts: [1, 2\n", "invalid YAML"),
    ("colour: blue\n", "unknown key 'colour'"),
    ("cooldown:\n  user_per_minute: lots\n", "cooldown.user_per_minute"),
    ("- a list\n", "must be a mapping"),
])
def test_bad_config_gives_one_line_naming_file_and_key(tmp_path: Path, config: str,
                                                       needle: str) -> None:
    path = tmp_path / "factbot.yaml"
    path.write_text(config)
    result = factbot("--config", str(path), "ask", "hi")
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert str(path) in result.stderr and needle in result.stderr


def test_a_config_file_that_is_not_utf8_is_named(tmp_path: Path) -> None:
    path = tmp_path / "factbot.yaml"
    path.write_bytes(b"\xff\xfe log_level: INFO\n")
    result = factbot("--config", str(path), "ask", "hi")
    assert result.returncode == 2
    assert result.stderr.strip() == f"factbot: error: {path}: the config file is not UTF-8 text " \
        "(byte 0)"


def test_a_missing_config_file_is_named() -> None:
    result = factbot("ask", "hi", env={"FACTBOT_CONFIG": "/nonexistent/factbot.yaml"})
    assert result.returncode == 2
    assert "/nonexistent/factbot.yaml" in result.stderr


def test_malformed_command_line_gives_exit_2() -> None:
    result = factbot("ask", "--bogus")
    assert result.returncode == 2
    assert "--bogus" in result.stderr


def test_the_example_config_loads() -> None:
    result = factbot("--config", str(ROOT / "factbot.example.yaml"), "ask", "/trade")
    assert result.returncode == 0, result.stderr


def test_importing_bot_loads_no_platform_library() -> None:
    code = ("import sys, factbot, factbot.core, factbot.cli, factbot.matcher, factbot.packs, "
            "factbot.adapters.console\n"
            "print([m for m in ('discord', 'telegram') if m in sys.modules])")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=ROOT, timeout=60)
    assert result.stdout.strip() == "[]", result.stderr


def test_operators_must_name_their_platform(tmp_path: Path) -> None:
    result = factbot("ask", "hi", env={"FACTBOT_OPERATORS": "12345"})
    assert result.returncode == 2
    assert "environment variable FACTBOT_OPERATORS: operators" in result.stderr
    ok = factbot("ask", "hi", env={"FACTBOT_OPERATORS": "telegram:1, discord:2"})
    assert ok.returncode == 0, ok.stderr


def test_the_default_database_lives_in_the_users_data_directory(tmp_path: Path) -> None:
    from factbot.settings import user_data_dir

    assert user_data_dir({"XDG_DATA_HOME": str(tmp_path)}, "linux") == tmp_path
    assert user_data_dir({"XDG_DATA_HOME": "relative"}, "linux") == \
        Path.home() / ".local" / "share"
    assert user_data_dir({}, "darwin") == Path.home() / "Library" / "Application Support"
    assert user_data_dir({"LOCALAPPDATA": str(tmp_path)}, "win32") == tmp_path
    result = factbot("chat", env={"XDG_DATA_HOME": str(tmp_path)}, stdin="/trade\n")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "factbot" / "factbot.db").is_file()


# --- runs anywhere: an arbitrary user id, no home, a read-only home -----------------------

# A user id with no password entry and no HOME, as a container or systemd's DynamicUser= runs
# factbot: os.path.expanduser has nothing to go on, and Path.home() raises.
_NO_PASSWD = ("import pwd, sys\n"
              "def no_entry(uid): raise KeyError(f'getpwuid(): uid not found: {uid}')\n"
              "pwd.getpwuid = no_entry\n"
              "from factbot.cli import main\n"
              "sys.exit(main(sys.argv[1:]))\n")
_HOMES = ("HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME")
DEAD_URL = "http://127.0.0.1:9/"  # the discard port: nothing listens; never reached anyway


def homeless(*args: str, stdin: str = "", env: dict[str, str] | None = None
             ) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items()
                if not k.startswith(("FACTBOT_", "TELEGRAM_", "DISCORD_")) and k not in _HOMES}
    full_env.update(env or {})
    return subprocess.run([sys.executable, "-c", _NO_PASSWD, *args], input=stdin,
                          capture_output=True, text=True, cwd=ROOT, env=full_env, timeout=60)


def one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in result.stderr, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("factbot: error:")]
    assert len(lines) == 1 and result.stderr.strip().splitlines()[-1] == lines[0], \
        result.stderr
    return lines[0]


NO_HOME = ("factbot: error: no home directory to keep the state database in (HOME is not set "
           "and this user has none): set FACTBOT_DB to a writable file, or pass --db")


@pytest.mark.parametrize(("command", "env"), [
    (["chat"], {}),
    (["stats"], {}),
    (["ask", "--chat", "42", "hi"], {}),
    (["db", "backup", "/nonexistent/copy.db"], {}),
    (["run", "telegram"], {"TELEGRAM_BOT_TOKEN": "1:not-a-real-token",
                           "TELEGRAM_API_BASE_URL": DEAD_URL + "bot"}),
    (["discord", "sync"], {"DISCORD_BOT_TOKEN": "x.y.not-a-real-token",
                           "DISCORD_API_BASE_URL": DEAD_URL + "api/v10"}),
])
def test_with_no_home_a_command_that_keeps_state_says_to_set_factbot_db(
        command: list[str], env: dict[str, str]) -> None:
    """Before: a 40-line traceback ending in "Could not determine home directory"."""
    result = homeless(*command, stdin="/trade\n", env=env)
    assert result.returncode == 2
    assert one_error_line(result) == NO_HOME


def test_with_no_home_factbot_works_given_a_database_or_needing_none(tmp_path: Path) -> None:
    chat = homeless("chat", "--db", str(tmp_path / "a.db"), stdin="/trade\n")
    assert chat.returncode == 0, chat.stderr
    assert "third-largest trading partner" in chat.stdout
    env = homeless("chat", stdin="/trade\n", env={"FACTBOT_DB": str(tmp_path / "b.db")})
    assert env.returncode == 0, env.stderr
    assert (tmp_path / "b.db").is_file()
    ask = homeless("ask", "/trade")  # no database at all
    assert ask.returncode == 0, ask.stderr
    assert "third-largest trading partner" in ask.stdout


def _can_mount_read_only() -> bool:
    probe = subprocess.run(["unshare", "-m", "sh", "-c", "mount -o bind,ro / / && true"],
                           capture_output=True, timeout=30) if shutil.which("unshare") else None
    return probe is not None and probe.returncode == 0


@pytest.mark.skipif(not _can_mount_read_only(),
                    reason="needs root to bind-mount a read-only home (unshare -m)")
def test_a_read_only_home_says_to_set_factbot_db(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("FACTBOT_") and k not in _HOMES}
    env["HOME"] = str(home)
    # A read-only bind mount of the home, in a mount namespace of the command's own.
    script = 'mount -o bind,ro "$HOME" "$HOME" && exec "$@"'
    command = ["unshare", "-m", "sh", "-c", script, "sh", sys.executable, "-m", "factbot.cli"]

    def factbot_ro(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*command, *args], input="/trade\n", capture_output=True,
                              text=True, cwd=ROOT, env=env, timeout=60)

    chat = factbot_ro("chat")
    assert chat.returncode == 2
    db = home / ".local" / "share" / "factbot" / "factbot.db"
    assert one_error_line(chat) == (
        f"factbot: error: {db}: cannot keep the state database in its default place ({home} "
        f"is not writable): set FACTBOT_DB to a writable file, or pass --db")
    given = factbot_ro("chat", "--db", str(tmp_path / "state.db"))
    assert given.returncode == 0, given.stderr
    assert factbot_ro("ask", "/trade").returncode == 0


UID = 54321  # no such user here: an arbitrary one, like a container's or DynamicUser='s


def _as_user(uid: int) -> list[str]:
    return ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "env", "-i",
            "PATH=/usr/bin:/bin"]


def _interpreter(uid: int) -> list[str] | None:
    """A Python that ``uid`` may run, with this environment's packages; None if none.

    This one may sit in a home only root can enter (pyenv's in /root); a system Python of the
    same version then runs with this one's site-packages, and without its own (-S).
    """
    if os.geteuid() != 0 or not shutil.which("setpriv"):
        return None
    boot = f"import site, sys; site.addsitedir({sysconfig.get_paths()['purelib']!r}); "
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    for python in (sys.executable, shutil.which(version, path="/usr/local/bin:/usr/bin")):
        if python is None:
            continue
        command = [python, "-S", "-c", boot + "import factbot.cli"]
        probe = subprocess.run([*_as_user(uid), *command], capture_output=True, cwd="/",
                               timeout=60)
        if probe.returncode == 0:
            return [python, "-S", "-c", boot + "from factbot.cli import main; "
                    "sys.exit(main(sys.argv[1:]))"]
    return None


@pytest.fixture
def as_uid() -> Iterator[tuple[list[str], Path]]:
    """The command line for factbot run as user 54321 with no HOME, and a folder it owns."""
    interpreter = _interpreter(UID)
    if interpreter is None:
        pytest.skip("needs root, setpriv and a Python that user 54321 may run")
    with tempfile.TemporaryDirectory(dir="/tmp") as folder:
        os.chown(folder, UID, UID)
        yield [*_as_user(UID), *interpreter], Path(folder)


def test_as_an_arbitrary_user_id_with_no_home(as_uid: tuple[list[str], Path]) -> None:
    command, folder = as_uid

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*command, *args], input="/trade\n", capture_output=True,
                              text=True, cwd="/", timeout=60)

    chat = run("chat")
    assert chat.returncode == 2
    assert one_error_line(chat) == NO_HOME
    ask = run("ask", "/trade")
    assert ask.returncode == 0, ask.stderr
    assert "third-largest trading partner" in ask.stdout
    given = run("chat", "--db", str(folder / "factbot.db"))
    assert given.returncode == 0, given.stderr
    assert (folder / "factbot.db").stat().st_uid == UID
