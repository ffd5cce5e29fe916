"""The factbot command line: ask, --json, --jsonl, chat, facts check and its errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
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
