"""The pack cache: a hit serves exactly what loading would; anything else is a miss."""

from __future__ import annotations

import os
import pickle
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from factbot import packcache
from factbot.app import build_bot
from factbot.matching.index import build_index
from factbot.messages import IncomingMessage
from factbot.packs import load_packs
from factbot.settings import Settings
from tests.conftest import FACTS

PACKS = Path(__file__).resolve().parent / "data" / "packs"


@pytest.fixture
def facts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    shutil.copytree(FACTS / "korea-malaysia", tmp_path / "facts" / "korea-malaysia")
    return tmp_path / "facts"


def cached_files(tmp_path: Path) -> list[Path]:
    return sorted((tmp_path / "cache" / "factbot").glob("packs-*.pickle"))


async def answer(facts: Path, text: str) -> str:
    reply = await build_bot(Settings(facts=facts), cooldown=False).handle(
        IncomingMessage(text=text))
    assert reply is not None
    return reply.text


async def test_a_hit_answers_as_loading_does(facts: Path, tmp_path: Path) -> None:
    questions = ["/hallyu", "how many koreans live in malaysia", "/trade", "weather?"]
    cold = [await answer(facts, q) for q in questions]
    [entry] = cached_files(tmp_path)
    assert entry.stat().st_mode & 0o777 == 0o600
    assert entry.parent.stat().st_mode & 0o777 == 0o700
    packs, index = pickle.loads(entry.read_bytes())
    assert packs == load_packs(facts)
    assert index == build_index(load_packs(facts))
    assert [await answer(facts, q) for q in questions] == cold


async def test_an_edited_pack_is_a_miss(facts: Path, tmp_path: Path) -> None:
    assert "Strategic Partnership" in await answer(facts, "/partnership")
    pack = facts / "korea-malaysia" / "pack.yaml"
    text = pack.read_text(encoding="utf-8")
    pack.write_text(text.replace("command: partnership", "command: pact", 1), encoding="utf-8")
    assert "Strategic Partnership" in await answer(facts, "/pact")
    assert len(cached_files(tmp_path)) == 1  # the old entry made way


@pytest.mark.parametrize("tamper", ["world-writable", "garbage", "wrong type"])
async def test_a_cache_file_not_ours_or_not_whole_is_never_used(
        facts: Path, tmp_path: Path, tamper: str) -> None:
    expected = await answer(facts, "/hallyu")
    [entry] = cached_files(tmp_path)
    if tamper == "world-writable":
        # Whoever could write it could make it run code: it is not even read, however
        # well formed (here: another pack, which would answer /hallyu with a fallback).
        other = load_packs(PACKS / "larkspur-tern2")
        entry.write_bytes(pickle.dumps((other, build_index(other))))
        os.chmod(entry, 0o666)
    elif tamper == "garbage":
        entry.write_bytes(b"\x80\x05 truncated")
    else:
        entry.write_bytes(pickle.dumps(((), "not an index")))
    assert await answer(facts, "/hallyu") == expected


async def test_no_home_means_no_cache(facts: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setattr(Path, "home", staticmethod(lambda: (_ for _ in ()).throw(
        RuntimeError("Could not determine home directory"))))
    assert packcache.cache_dir() is None
    assert "Korean Wave" in await answer(facts, "/hallyu")


@pytest.mark.parametrize("hostile", ["fifo", "device"])
def test_a_hostile_pack_file_is_the_loaders_error_not_a_hang(
        facts: Path, hostile: str) -> None:
    """The cache reads pack files as the loader does: a FIFO or a device is refused at once
    (in a child process, so that a regression fails on the timeout instead of hanging)."""
    article = facts / "korea-malaysia" / "article.txt"
    article.unlink()
    if hostile == "fifo":
        os.mkfifo(article)  # no writer: a plain read would wait forever
    else:
        article.symlink_to("/dev/zero")  # never ends
    done = subprocess.run([sys.executable, "-m", "factbot.cli", "--facts", str(facts), "ask",
                           "/hallyu"], capture_output=True, text=True, timeout=60,
                          env={**os.environ})
    assert done.returncode == 2
    assert "article.txt: cannot read the article: not a regular file" in done.stderr
