"""Hostile or oversized packs are refused in one line, before the work they would cost,
and no failure of loading ever stops a running bot."""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from factbot import checks, packs
from factbot.app import build_bot
from factbot.checks import attributed_name, check_dir, unreachable
from factbot.cli import main
from factbot.core import FactBot
from factbot.errors import PackError
from factbot.messages import IncomingMessage, Reply, ReplyKind
from factbot.packs import (
    MAX_ARTICLE_BYTES,
    MAX_FACTS,
    MAX_PACK_BYTES,
    MAX_TOPICS,
    Fact,
    FactPack,
    Source,
    Topic,
    load_pack,
    load_packs,
    paragraphs,
)
from factbot.render import (
    MAX_REPLY,
    render_fallback,
    render_help,
    render_info,
    render_source,
    render_start,
    render_topics,
)
from factbot.settings import Settings
from factbot.stats import Report, as_text
from factbot.storage.base import TopicCount, UnmatchedCount, WrongCount

from .conftest import FACTS

ARTICLE = "KUALA LUMPUR, Oct 2 — The rate rose.\n"
PACK = """\
name: tiny
source:
  outlet: KUALA LUMPUR
  dateline: KUALA LUMPUR
  date: Oct 2
topics:
  - command: rates
    description: Rates news
    keywords: [rate]
    facts:
      - quote: The rate rose.
"""


def write_pack(folder: Path, pack: str = PACK, article: str = ARTICLE) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "pack.yaml").write_text(pack, encoding="utf-8")
    (folder / "article.txt").write_text(article, encoding="utf-8")
    return folder


def refusal(folder: Path) -> PackError:
    with pytest.raises(PackError) as caught:
        load_pack(folder)
    return caught.value


def bomb(levels: int = 10, width: int = 10) -> str:
    """A flow list of ``levels`` anchored lists, each ``width`` aliases of the one before:
    a few hundred bytes of YAML holding width**levels strings once expanded."""
    anchors = ["&a0 [lol]"] + [f"&a{i} [" + ", ".join([f"*a{i - 1}"] * width) + "]"
                               for i in range(1, levels + 1)]
    return "[" + ", ".join(anchors) + "]"


def with_bomb(where: str, levels: int = 10) -> tuple[str, int]:
    """PACK with a bomb as the command, as the first keyword or as a mapping key; its line."""
    if where == "command":
        return PACK.replace("command: rates", f"command: {bomb(levels)}"), 7
    if where == "keywords":
        return PACK.replace("keywords: [rate]", f"keywords: [{bomb(levels)}]"), 9
    return PACK.replace("    keywords: [rate]\n", f"    ? {bomb(levels)}\n    : 1\n"), 9


# --- YAML: aliases, nesting, values ---------------------------------------------------------


@pytest.mark.parametrize("where", ["command", "keywords", "key"])
def test_an_alias_bomb_is_refused_before_it_expands(tmp_path: Path, where: str) -> None:
    text, line = with_bomb(where)  # 10**10 strings once expanded
    error = refusal(write_pack(tmp_path / "p", text))
    assert error.line == line
    assert f"over {MAX_PACK_BYTES:,} characters" in error.problem
    assert len(str(error)) < 200 and "\n" not in str(error)


@pytest.mark.parametrize("where", ["command", "keywords", "key"])
def test_a_value_that_aliases_make_big_is_shown_cut_short(tmp_path: Path, where: str) -> None:
    text, line = with_bomb(where, levels=6)  # a million strings: within the limit, not text
    error = refusal(write_pack(tmp_path / "p", text))
    assert error.line == line and "lol" in error.problem
    assert len(str(error)) < 300


def test_a_long_key_is_shown_cut_short(tmp_path: Path) -> None:
    error = refusal(write_pack(tmp_path / "p", PACK + f"? {'k' * 100_000}\n: 1\n"))
    assert "unknown key 'kkk" in error.problem and len(error.problem) < 200


@pytest.mark.parametrize("nested", [
    "name: " + "[" * 100_000 + "]" * 100_000 + "\n",  # past libyaml's own limit
    "name: " + "[" * 900 + "]" * 900 + "\n",  # within it, past Python's recursion limit
    "name:\n" + "- " * 900 + "x\n",
    "name:\n" + "".join(" " * i + "a:\n" for i in range(1, 900)) + " " * 900 + "a: 1\n",
])
def test_deep_nesting_is_one_error_line_and_exit_2(
        tmp_path: Path, nested: str, capsys: pytest.CaptureFixture[str]) -> None:
    folder = write_pack(tmp_path / "p", nested + PACK.replace("name: tiny\n", ""))
    error = refusal(folder)
    assert error.path == str(folder / "pack.yaml") and "\n" not in str(error)
    assert main(["facts", "check", str(folder)]) == 2
    out = capsys.readouterr()
    assert [line for line in out.out.splitlines() if line.startswith("error:")] == [
        f"error: {error} [load]"]
    assert "Traceback" not in out.out + out.err


def test_a_number_python_refuses_to_read_is_a_load_error(tmp_path: Path) -> None:
    error = refusal(write_pack(tmp_path / "p", PACK.replace("name: tiny", "name: " + "1" * 5000)))
    assert error.path.endswith("pack.yaml") and "invalid YAML" in error.problem


# --- sizes and counts ----------------------------------------------------------------------


def test_an_article_over_the_limit_is_refused_in_one_line(tmp_path: Path) -> None:
    padding = " " * (MAX_ARTICLE_BYTES + 1 - len(ARTICLE.encode()))
    folder = write_pack(tmp_path / "p", article=ARTICLE + padding)
    error = refusal(folder)
    assert str(error) == f"{folder / 'article.txt'}: the article is over 1,000,000 bytes, the limit"


def test_an_article_at_the_limit_loads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(packs, "MAX_ARTICLE_BYTES", len(ARTICLE.encode()))
    load_pack(write_pack(tmp_path / "p"))
    folder = write_pack(tmp_path / "q", article=ARTICLE + " ")
    assert "is over" in refusal(folder).problem


def test_a_pack_file_over_the_limit_is_refused_in_one_line(tmp_path: Path) -> None:
    padding = "#" * (MAX_PACK_BYTES + 1 - len(PACK) - 1) + "\n"
    folder = write_pack(tmp_path / "p", PACK + padding)
    error = refusal(folder)
    assert str(error) == f"{folder / 'pack.yaml'}: the pack is over 5,000,000 bytes, the limit"


def test_more_topics_or_facts_than_the_limits_are_refused_before_any_lookup(
        tmp_path: Path) -> None:
    topic = PACK[PACK.index("  - command"):]
    many = PACK + "".join(topic.replace("rates", f"rates{i}") for i in range(MAX_TOPICS))
    error = refusal(write_pack(tmp_path / "p", many))
    assert error.line == 6 and f"{MAX_TOPICS + 1} topics; the limit is {MAX_TOPICS}" in str(error)
    # Not one quote of these is in the article: the count is refused before they are sought.
    facts = PACK + "".join(f"      - quote: Not there {i}.\n" for i in range(MAX_FACTS))
    error = refusal(write_pack(tmp_path / "q", facts))
    assert error.line == 6 and f"{MAX_FACTS + 1} facts; the limit is {MAX_FACTS}" in str(error)


# --- files that are not files ----------------------------------------------------------------


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
def test_an_article_that_never_ends_is_refused(tmp_path: Path) -> None:
    folder = write_pack(tmp_path / "p")
    (folder / "article.txt").unlink()
    (folder / "article.txt").symlink_to("/dev/zero")
    assert refusal(folder).problem == "cannot read the article: not a regular file"


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_an_article_that_is_a_fifo_is_refused_without_waiting_for_a_writer(
        tmp_path: Path) -> None:
    folder = write_pack(tmp_path / "p")
    (folder / "article.txt").unlink()
    os.mkfifo(folder / "article.txt")
    assert refusal(folder).problem == "cannot read the article: not a regular file"


def _break(pack_yaml: Path, kind: str) -> str:
    pack_yaml.unlink()
    if kind == "directory":
        pack_yaml.mkdir()
        return "not a regular file"
    if kind == "fifo":
        os.mkfifo(pack_yaml)
        return "not a regular file"
    pack_yaml.symlink_to(pack_yaml.parent / "gone.yaml")
    return "a symlink to"


@pytest.mark.parametrize("kind", [
    "directory",
    pytest.param("fifo", marks=pytest.mark.skipif(not hasattr(os, "mkfifo"),
                                                  reason="needs FIFOs")),
    "dangling symlink",
])
def test_a_broken_pack_among_several_is_reported(tmp_path: Path, kind: str) -> None:
    write_pack(tmp_path / "a_good")
    broken = write_pack(tmp_path / "b_broken", PACK.replace("tiny", "other").replace(
        "rates", "other"))
    problem = _break(broken / "pack.yaml", kind)
    report = check_dir(tmp_path)
    assert [(f.file, f.check) for f in report.errors] == [(str(broken / "pack.yaml"), "load")]
    assert problem in report.errors[0].message
    with pytest.raises(PackError, match=problem):
        load_packs(tmp_path)


# --- a running bot ---------------------------------------------------------------------------


@pytest.fixture
def facts(tmp_path: Path) -> Path:
    shutil.copytree(FACTS, tmp_path / "facts")
    return tmp_path / "facts"


class Console:
    """The console; whoever types there runs the bot (``build_bot(console=True)``)."""

    name = "console"

    async def is_admin(self, message: IncomingMessage) -> bool:
        return True

    async def send(self, chat_id: str, reply: Reply) -> None:
        raise AssertionError("nothing is sent unprompted here")


async def ask(bot: FactBot, text: str) -> Reply:
    reply = await bot.handle(IncomingMessage(text=text), Console())
    assert reply is not None
    return reply


async def test_reload_refuses_an_alias_bomb_and_keeps_serving(
        facts: Path, caplog: pytest.LogCaptureFixture) -> None:
    bot = build_bot(Settings(facts=facts), console=True)
    pack_yaml = facts / "korea-malaysia" / "pack.yaml"
    text = pack_yaml.read_text(encoding="utf-8")
    pack_yaml.write_text(text.replace("command: hallyu", f"command: {bomb()}", 1),
                         encoding="utf-8")
    with caplog.at_level(logging.ERROR, logger="factbot.core"):
        reply = await ask(bot, "/reload")
    assert reply.text.startswith("Reload refused:") and "aliases expanded" in reply.text
    assert len(reply.text) <= MAX_REPLY
    assert len(caplog.text) < 1000
    assert (await ask(bot, "/hallyu")).kind is ReplyKind.FACT


@pytest.mark.parametrize("failure", [MemoryError, RecursionError, ValueError])
async def test_reload_keeps_serving_whatever_loading_raises(
        facts: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
        failure: type[Exception]) -> None:
    bot = FactBot(load_packs(facts), facts_dir=facts)

    def fail(root: Path) -> tuple[FactPack, ...]:
        raise failure("while loading")

    monkeypatch.setattr("factbot.core.load_packs", fail)
    with caplog.at_level(logging.ERROR, logger="factbot.core"):
        result = await bot.reload()
    assert not result.ok and not result.changed
    assert "Traceback" in caplog.text and failure.__name__ in caplog.text
    assert (await ask(bot, "/hallyu")).kind is ReplyKind.FACT


# --- reply lengths ---------------------------------------------------------------------------


def _packs_at_the_limits(count: int = 3) -> tuple[FactPack, ...]:
    """Packs with the most topics, the longest commands and descriptions, long titles."""
    fact = Fact(quote="The rate rose.", speaker=None, keywords=(), line=1)
    out = []
    for p in range(count):
        topics = tuple(Topic(command=f"{p}{i:02d}".ljust(32, "x"), description="d" * 100,
                             aliases=(), keywords=(), facts=(fact,), pack=f"p{p}", line=1)
                       for i in range(MAX_TOPICS // count))
        source = Source(outlet="O" * 300, dateline="D", date="2", title="T" * 1000)
        out.append(FactPack(name=f"p{p}", path=Path(f"p{p}"), source=source, speakers={},
                            generic_terms=(), places={}, topics=topics, article=ARTICLE))
    return tuple(out)


@pytest.mark.parametrize("count", [1, 3])
def test_every_reply_but_a_fact_fits_the_limit(count: int) -> None:
    many = _packs_at_the_limits(count)
    commands = [t.command for p in many for t in p.topics]
    for reply in (render_topics(many), render_start(many), render_help(many),
                  render_fallback(many), render_source(many[0]), render_info("x" * 5000)):
        assert len(reply.text) <= MAX_REPLY, reply.kind
    for reply in (render_topics(many), render_start(many)):
        named = [w for w in reply.text.split() if w.startswith("/")]
        more = int(reply.text.rsplit("…and ", 1)[1].split()[0])
        assert named == [f"/{c}" for c in commands[:len(named)]]
        assert len(named) + more == len(commands)
        assert [c for c, _ in reply.items] == commands  # the adapters list them all


@pytest.mark.parametrize("text", ["/topics", "/start", "/help", "/source", "hello there"])
async def test_the_shipped_packs_replies_fit_and_name_every_topic(text: str) -> None:
    for folder in (FACTS, FACTS.parent / "tests" / "data" / "packs"):
        shipped = load_packs(folder)
        reply = await ask(FactBot(shipped), text)
        assert len(reply.text) <= MAX_REPLY
        if text in ("/topics", "/start"):
            named = {w for w in reply.text.split() if w.startswith("/")}
            assert named == {f"/{t.command}" for p in shipped for t in p.topics}
            first = shipped[0].topics[0]
            assert f"/{first.command} — {first.description}" in reply.text


# --- terminal output ---------------------------------------------------------------------------


def test_stats_shows_control_and_bidi_characters_escaped() -> None:
    hostile = "abc\u202egnp.exe \x1b[2J\x85 \u2066x\u2069 👩\u200d💻"
    when = datetime(2026, 1, 1, tzinfo=UTC)
    text = as_text(Report([TopicCount("hallyu", 2, (("console", 2),))], 1,
                          [UnmatchedCount(hostile, 1, when)], 1,
                          (WrongCount("hallyu", "Q", 1, (hostile,), when),)))
    assert not any(ch in text for ch in "\u202e\x1b\x85\u2066\u2069")
    assert "\\u202e" in text and "\\u001b[2J" in text and "👩\u200d💻" in text


def test_stats_json_escapes_them_and_stays_the_same_json(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = str(tmp_path / "x.db")
    question = "what about \u202eevil\x7f"
    assert main(["ask", "--db", db, question]) == 0
    capsys.readouterr()
    assert main(["stats", "--db", db, "--json"]) == 0
    out = capsys.readouterr().out
    assert "\u202e" not in out and "\x7f" not in out
    assert json.loads(out)["unmatched"][0]["text"] == question


def test_facts_check_shows_a_packs_bidi_characters_escaped(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = write_pack(tmp_path / "p", PACK.replace("Rates news", "Rates \u202enews"))
    assert main(["facts", "check", str(folder)]) == 0
    out = capsys.readouterr().out
    assert "\u202e" not in out and "Rates \\u202enews" in out


# --- checking stays linear in the article -------------------------------------------------


def test_a_long_run_of_spaces_or_capitals_is_read_in_one_pass(tmp_path: Path) -> None:
    """Both used to backtrack at every character of the run: 10**12 steps for a megabyte."""
    spaces = ARTICLE + " " * (MAX_ARTICLE_BYTES - len(ARTICLE.encode()) - 1) + "\n"
    pack = load_pack(write_pack(tmp_path / "p", article=spaces))
    assert pack.topics[0].facts[0].quote == "The rate rose."
    assert attributed_name("“Yes,” " + "A" * MAX_ARTICLE_BYTES) is None
    assert attributed_name("“Yes,” " + "A" * 1000 + ", Ann Lee said") == "Ann Lee"


def test_the_drafters_reading_of_a_long_run_is_one_pass_too() -> None:
    """`facts check` reads quotations with the drafter's split_article: a run of spaces used
    to backtrack in its paragraph pattern, a run of capitals in its name pattern."""
    from factbot.authoring import split_article

    run = 200_000  # minutes of backtracking before; milliseconds now
    assert [s.text for s in split_article("The rate rose." + " " * run + "\n")] == \
        ["The rate rose."]
    capitals = split_article("“Yes,” " + "A" * run + " said.")
    assert all(s.speaker is None for s in capitals)


@given(st.text("ab \n\t\r\u2028\x1c\u3000", max_size=14))
def test_paragraphs_are_runs_of_lines_with_text(article: str) -> None:
    runs = re.finditer(r"[^\n]*\S[^\n]*(?:\n[^\n]*\S[^\n]*)*", article)  # the definition
    assert list(paragraphs(article)) == [(m.start(), m.end()) for m in runs]


# --- the faster unreachable() is the pairwise definition ------------------------------------


@given(st.lists(st.text("ab .\0", max_size=6), max_size=6),
       st.lists(st.text("ab .\0", max_size=5), max_size=5))
def test_unreachable_sentences_are_those_no_quote_holds_or_is_held_by(
        sentences: list[str], quotes: list[str]) -> None:
    class Sentence:
        def __init__(self, text: str) -> None:
            self.text, self.line = text, 1

    topic = Topic(command="t", description="d", aliases=(), keywords=(), pack="p", line=1,
                  facts=tuple(Fact(quote=q, speaker=None, keywords=(), line=1) for q in quotes))
    pack = FactPack(name="p", path=Path("p"), source=Source("o", "d", "1"), speakers={},
                    generic_terms=(), places={}, topics=(topic,), article="")
    original = checks.split_article
    checks.split_article = lambda article: [Sentence(s) for s in sentences]  # type: ignore
    try:
        found = [text for _, text in unreachable(pack)]
    finally:
        checks.split_article = original
    keys = [k for k in (checks._key(q) for q in quotes) if k]
    assert found == [s for s in sentences
                     if not any(checks._key(s) in k or k in checks._key(s) for k in keys)]
