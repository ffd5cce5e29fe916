"""Fact packs load only when every field is valid and every quote is verbatim."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from factbot.errors import PackError
from factbot.packs import Fact, FactPack, load_pack
from factbot.text import normalise_quote

from .conftest import FACTS

ARTICLE = "KUALA LUMPUR, Oct 2 — The <b>rate</b> & *stars* rose.\n\n“We are glad,” said Ann Lee.\n"
GOOD = """\
name: tiny
source:
  outlet: KUALA LUMPUR
  dateline: KUALA LUMPUR
  date: Oct 2
speakers:
  Ann Lee: Ann Lee
topics:
  - command: rates
    description: Rates news
    aliases: [interest rate]
    keywords: [rate]
    facts:
      - quote: The <b>rate</b> & *stars* rose.
      - quote: We are glad,
        speaker: Ann Lee
"""


def write_pack(root: Path, text: str = GOOD, article: str = ARTICLE, name: str = "tiny") -> Path:
    folder = root / name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "pack.yaml").write_text(text, encoding="utf-8")
    (folder / "article.txt").write_text(article, encoding="utf-8")
    return folder


def error_for(tmp_path: Path, text: str, article: str = ARTICLE) -> PackError:
    with pytest.raises(PackError) as caught:
        load_pack(write_pack(tmp_path, text, article))
    return caught.value


def test_a_valid_pack_loads(tmp_path: Path) -> None:
    pack = load_pack(write_pack(tmp_path))
    assert [t.command for t in pack.topics] == ["rates"]
    assert pack.topics[0].facts[1].speaker == "Ann Lee"


def test_quotes_keep_the_articles_own_characters(packs: tuple) -> None:
    quotes = [f.quote for t in packs[0].topics for f in t.facts]
    # The YAML writes straight quotes; the reply must show the article's curly ones.
    assert any("“Korean Wave”" in q for q in quotes)
    assert "South Korea’s ambassador to Malaysia" in packs[0].speakers["Lee Chi-beom"]


@pytest.mark.parametrize(
    ("old", "new", "line", "message"),
    [
        ("  date: Oct 2\n", "  date: Oct 2\n  url: http://x\n", 6, "unknown key 'url'"),
        ("  date: Oct 2\n", "", 3, "missing key 'date'"),
        ("command: rates", "command: Rates!", 9, "must match [a-z0-9_]{1,32}"),
        ("command: rates", "command: help", 9, "built-in command name"),
        ("rose.\n", "fell.\n", 14, "not verbatim"),
        ("description: Rates news", "description: " + "x" * 101, 10, "limit is 100"),
        ("speaker: Ann Lee\n", "speaker: Bob\n", 16, "not listed under 'speakers'"),
        ("  Ann Lee: Ann Lee", "  Ann Lee: Chief Economist", 7, "not verbatim"),
        ("  outlet: KUALA LUMPUR", "  outlet: Reuters", 3, "source.outlet is not verbatim"),
        ("    facts:\n", "    facts: []\n    x:\n", 14, "unknown key 'x'"),
        ("keywords: [rate]", "keywords: [rate, '!!!']", 12, "has no words"),
        ("name: tiny\n", "name: tiny\nname: other\n", 2, "duplicate key 'name'"),
        ("topics:\n", "topics: [\n", 9, "invalid YAML"),
    ],
)
def test_each_pack_error_names_file_line_and_problem(
        tmp_path: Path, old: str, new: str, line: int, message: str) -> None:
    assert old in GOOD
    error = error_for(tmp_path, GOOD.replace(old, new, 1))
    text = str(error)
    assert text.startswith(str(tmp_path / "tiny" / "pack.yaml"))
    assert message in text
    assert error.line == line, text
    assert "\n" not in text


def test_a_quote_cut_mid_word_is_not_verbatim(tmp_path: Path) -> None:
    text = GOOD.replace("      - quote: We are glad,", "      - quote: e are glad")
    assert "not verbatim" in str(error_for(tmp_path, text))
    text = GOOD.replace("      - quote: We are glad,", "      - quote: We are gl")
    assert "not verbatim" in str(error_for(tmp_path, text))


def test_a_quote_over_280_characters_is_refused(tmp_path: Path) -> None:
    long_sentence = "word " * 60
    article = ARTICLE + long_sentence + "\n"
    text = GOOD.replace("      - quote: We are glad,", f"      - quote: {long_sentence.strip()}")
    assert "limit is 280" in str(error_for(tmp_path, text, article))


def test_duplicate_commands_and_colliding_aliases_are_refused(tmp_path: Path) -> None:
    topic = GOOD[GOOD.index("  - command: rates"):]
    twice = GOOD + topic
    assert "collides with command 'rates'" in str(error_for(tmp_path, twice))
    alias_clash = GOOD + topic.replace("command: rates", "command: other").replace(
        "aliases: [interest rate]", "aliases: [Interest-Rate]")
    assert "collides with alias 'interest rate'" in str(error_for(tmp_path, alias_clash))


def test_a_missing_article_is_a_pack_error(tmp_path: Path) -> None:
    folder = write_pack(tmp_path)
    (folder / "article.txt").unlink()
    with pytest.raises(PackError, match=r"article\.txt: cannot read the article"):
        load_pack(folder)


def test_default_pack_has_the_required_commands(packs: tuple) -> None:
    commands = {t.command for p in packs for t in p.topics}
    assert {"partnership", "hallyu", "trade", "community", "cooperation", "history",
            "ambassador", "culture", "global"} <= commands
    for topic in packs[0].topics:
        assert re.fullmatch(r"[a-z0-9_]{1,32}", topic.command)
        assert len(topic.description) <= 100


def test_default_source_says_only_what_the_article_says(packs: tuple) -> None:
    source = packs[0].source
    assert source.line() == "Bernama, Kuala Lumpur, Oct 2"
    assert source.title is None  # the article has no headline; none is invented


def _sentences(article: str) -> list[str]:
    text = normalise_quote(article).replace('"', "")
    parts = re.split(r"(?<=[.!?])\s+", text)
    return [p.strip() for p in parts if len(p.split()) >= 6]


def test_every_sentence_of_substance_is_reachable(packs: tuple) -> None:
    pack = packs[0]
    quotes = [normalise_quote(f.quote).replace('"', "") for t in pack.topics for f in t.facts]
    dateline = "KUALA LUMPUR, Oct 2 - "
    missing = []
    for sentence in _sentences(pack.article):
        sentence = sentence.removeprefix(dateline).removesuffix(" - Bernama")
        core = sentence.rstrip(".,")
        if not any(core[:60] in q or q[:60] in core for q in quotes):
            missing.append(sentence)
    assert missing == []


def test_a_copy_of_the_default_pack_still_loads(tmp_path: Path) -> None:
    shutil.copytree(FACTS / "korea-malaysia", tmp_path / "copy")
    assert load_pack(tmp_path / "copy").name == "korea-malaysia"


# --- quoted words against narration, and context ---------------------------------------


def _km_fact(packs: tuple[FactPack, ...], start: str) -> Fact:
    return next(f for t in packs[0].topics for f in t.facts if f.quote.startswith(start))


@pytest.mark.parametrize("start", [
    "It will mark a new momentum", "After agreeing in principle", "In addition, we need",
    "I am confident", "I think the positive effects", "The popularity", "Unlike other",
    "The Korean Wave was able", "I think it will continue", "This importance",
    "As we work hand-in-hand",
])
def test_the_ambassadors_own_words_are_marked_quoted(packs: tuple, start: str) -> None:
    assert _km_fact(packs, start).quoted is True


@pytest.mark.parametrize("start", [
    "South Korea’s ambassador to Malaysia, Lee", "Lee said along with", "He added as South Korea",
    "Throughout his three-year tenure", "To further promote cultural exchange",
    "On the international sphere", "Lee told Bernama in conjunction",
    "The governments of South Korea",
])
def test_the_outlets_narration_is_not_marked_quoted(packs: tuple, start: str) -> None:
    """"Lee highlighted that ... the “Korean Wave” ..." holds a quoted phrase: still narration."""
    assert _km_fact(packs, start).quoted is False


QUOTE_STYLES = """\
PLACE, May 1 — Straight: "We open on Monday," said Ann Lee. Curly: “We close late.”

“The first paragraph of a quotation that goes on.

“Its second paragraph, reopened with a mark.

A narrated paragraph after it, with a “short phrase” in it.

“A quotation closed with a reversed mark.“ Then narration again.

“A quotation that is not carried on.

Narration, because this paragraph opens with no mark.

“Outer words and “inner words” and more outer words,” she said.
"""


@pytest.mark.parametrize(("quote", "quoted"), [
    ("We open on Monday,", True),
    ("We close late.", True),
    ("“We close late.”", True),  # a quote written with its own marks
    ("The first paragraph of a quotation that goes on.", True),
    ("Its second paragraph, reopened with a mark.", True),
    ("A narrated paragraph after it", False),
    ("short phrase", True),
    ("A narrated paragraph after it, with a “short phrase” in it.", False),
    ("A quotation closed with a reversed mark.", True),
    ("Then narration again.", False),
    ("A quotation that is not carried on.", True),
    ("Narration, because this paragraph opens with no mark.", False),
    ("Outer words and “inner words” and more outer words,", True),
    ("Straight: \"We open on Monday,\" said Ann Lee.", False),
])
def test_quoted_is_read_from_the_articles_quotation_marks(
        tmp_path: Path, quote: str, quoted: bool) -> None:
    text = GOOD.replace("      - quote: We are glad,", f"      - quote: '{quote}'")
    pack = load_pack(write_pack(tmp_path, text, f"{ARTICLE}\n{QUOTE_STYLES}"))
    assert pack.topics[0].facts[1].quoted is quoted


def test_a_context_keeps_the_articles_characters(packs: tuple) -> None:
    fact = _km_fact(packs, "It will mark")
    assert fact.context == ("Lee Chi-beom said the establishment of the partnership is beyond a "
                            "mere declaration")
    assert _km_fact(packs, "As we work").context is not None
    assert _km_fact(packs, "The popularity").context is None


CONTEXT_ARTICLE = ARTICLE + "\nThe plan was agreed. It starts in May.\n"
WITH_CONTEXT = GOOD + """\
      - quote: It starts in May.
        context: The plan was agreed.
"""


def test_a_context_must_be_verbatim_and_names_its_line(tmp_path: Path) -> None:
    assert load_pack(write_pack(tmp_path, WITH_CONTEXT, CONTEXT_ARTICLE)).topics[0].facts[2] \
        .context == "The plan was agreed."
    error = error_for(tmp_path, WITH_CONTEXT.replace("was agreed", "was signed"), CONTEXT_ARTICLE)
    assert error.line == 18
    assert str(error).startswith(f"{tmp_path / 'tiny' / 'pack.yaml'}:18: ")
    assert "context is not verbatim" in str(error)


def test_a_context_and_its_quote_over_500_characters_are_refused(tmp_path: Path) -> None:
    long_sentence = "A long sentence of many words " * 17 + "ends here."  # 520 characters
    article = CONTEXT_ARTICLE + long_sentence + "\n"
    text = WITH_CONTEXT.replace("context: The plan was agreed.", f"context: {long_sentence}")
    error = error_for(tmp_path, text, article)
    assert error.line == 18 and "limit is 500" in str(error)


def test_a_context_that_repeats_the_quote_is_refused(tmp_path: Path) -> None:
    text = WITH_CONTEXT.replace("context: The plan was agreed.", "context: It starts in May.")
    error = error_for(tmp_path, text, CONTEXT_ARTICLE)
    assert error.line == 18 and "holds the quote itself" in str(error)
