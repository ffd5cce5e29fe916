"""The same messages get the same answers in every process, whatever Python's hash seed.

str hashes are salted per process (PYTHONHASHSEED), so set and dict iteration order over
strings changes from one process to the next: a tie broken by it would give another fact,
topic or score after a restart. The in-process test in test_matching.py cannot see that.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import FACTS, ROOT

DATA = ROOT / "tests" / "data"
SEEDS = ("0", "1", "12345")
# Commands and edge cases the labelled questions do not cover; a topic command is repeated
# so that the rotation's next fact is compared too.
EXTRA = ["/start", "/start hallyu", "/help", "/topics", "/source", "/fact", "/fact", "/fact",
         "/fact k-pop", "/ask", "/ask /hallyu", "/hallyu", "/hallyu", "/hallyu", "/specs",
         "/daily", "/stats", "/cooldown", "/reload", "/nonexistent", "/", "", "   ", "🇰🇷 😀",
         "what is the weather on Mars?", "ㅋㅋㅋ", "apa khabar?"]


def questions() -> list[str]:
    """Every labelled question in tests/data (English, Malay, Korean, off-topic, typos,
    commands), one per line as stdin carries them, then the extras."""
    texts = []
    for path in sorted(DATA.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                text = json.loads(line)["text"]
                texts.append(text.replace("\r", " ").replace("\n", " "))
    return texts + EXTRA


def ask_jsonl(facts: Path, db: Path, seed: str, stdin: str) -> list[str]:
    """``factbot ask --jsonl`` in a fresh process with hash seed ``seed``: its output lines."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FACTBOT_")}
    env["PYTHONHASHSEED"] = seed
    done = subprocess.run(
        [sys.executable, "-m", "factbot.cli", "--facts", str(facts), "ask", "--jsonl",
         "--db", str(db)],
        input=stdin, env=env, cwd=ROOT, capture_output=True, text=True, encoding="utf-8",
        timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


def test_answers_are_identical_across_processes_with_different_hash_seeds(
        tmp_path: Path) -> None:
    # Every pack the repository has, so that ties across packs and topics are met too.
    facts = tmp_path / "facts"
    for pack in [*FACTS.iterdir(), *(DATA / "packs").iterdir()]:
        if (pack / "pack.yaml").is_file():
            shutil.copytree(pack, facts / pack.name)
    texts = questions()
    stdin = "".join(f"{text}\n" for text in texts)
    # A fresh database for each run: the rotation and the stats start from nothing each time.
    runs = {seed: ask_jsonl(facts, tmp_path / f"seed-{seed}.db", seed, stdin) for seed in SEEDS}

    first = runs[SEEDS[0]]
    assert len(first) == len(texts)
    records = [json.loads(line) for line in first]
    assert [r["text"] for r in records] == texts
    # The answers compared are of every kind, not one kind repeated.
    assert {r["matched"] for r in records} == {True, False}
    assert len({r["topic"] for r in records if r["matched"]}) >= 10
    for seed in SEEDS[1:]:
        differing = [(text, a, b) for text, a, b in zip(texts, first, runs[seed], strict=True)
                     if a != b]
        assert not differing, (f"PYTHONHASHSEED={seed} answered {len(differing)} message(s) "
                               f"differently from {SEEDS[0]}; the first: {differing[0]}")
