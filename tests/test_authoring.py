"""`factbot facts new`: drafts from articles, golden files, quote attribution.

Golden drafts live in tests/data/golden/. After a deliberate change to the
drafting, refresh them with ``UPDATE_GOLDEN=1 pytest tests/test_authoring.py``
and review the diff.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from factbot.authoring import draft, read_header, render_yaml, speaker_role, split_article
from factbot.cli import main
from factbot.packs import MAX_QUOTE, load_pack
from factbot.text import normalise_quote

DATA = Path(__file__).resolve().parent / "data"
ARTICLES = DATA / "articles"
GOLDEN = DATA / "golden"
KOREA = Path(__file__).resolve().parent.parent / "facts" / "korea-malaysia" / "article.txt"
# Held-out material for judging the drafter: never drafted, read or tuned on here.
HELD_OUT = {"wikinews_uk_asylum.txt"}
ALL_ARTICLES = [*sorted(a for a in ARTICLES.glob("*.txt") if a.name not in HELD_OUT), KOREA]


def _name(article: Path) -> str:
    return "korea-malaysia" if article == KOREA else article.stem.replace("_", "-")


@pytest.mark.parametrize("article", ALL_ARTICLES, ids=lambda p: p.stem)
def test_draft_matches_its_golden_file(article: Path) -> None:
    """The draft of each article is the reviewed golden file (UPDATE_GOLDEN=1 refreshes)."""
    text = render_yaml(draft(article.read_text(encoding="utf-8"), _name(article)))
    golden = GOLDEN / f"{_name(article)}.yaml"
    if os.environ.get("UPDATE_GOLDEN") == "1":
        golden.write_text(text, encoding="utf-8")
    assert golden.is_file(), f"no golden file: run UPDATE_GOLDEN=1 pytest {__file__}"
    assert text == golden.read_text(encoding="utf-8")


@pytest.mark.parametrize("article", ALL_ARTICLES, ids=lambda p: p.stem)
def test_every_drafted_quote_is_verbatim_and_within_the_limit(article: Path) -> None:
    text = article.read_text(encoding="utf-8")
    body = normalise_quote(text)
    sentences = split_article(text)
    assert len(sentences) >= 9
    for sentence in sentences:
        assert normalise_quote(sentence.text) in body
        assert len(sentence.text) <= MAX_QUOTE
        assert "\n" not in sentence.text


@pytest.mark.parametrize("article", ALL_ARTICLES, ids=lambda p: p.stem)
def test_the_draft_passes_facts_check_as_written(article: Path, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    name = _name(article)
    assert main(["facts", "new", str(article), "--name", name, "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert f"wrote {tmp_path / name / 'pack.yaml'}" in out
    assert (tmp_path / name / "article.txt").read_bytes() == article.read_bytes()
    pack = load_pack(tmp_path / name)
    assert pack.name == name and len(pack.topics) >= 2
    assert main(["facts", "check", str(tmp_path / name)]) == 0
    assert "0 error(s)" in capsys.readouterr().out


def test_header_comes_from_dateline_byline_and_title() -> None:
    sport = read_header((ARTICLES / "harbourside_redmoor.txt").read_text(encoding="utf-8"))
    assert (sport.title, sport.byline, sport.dateline, sport.date, sport.outlet) == (
        "Harbourside edge Redmoor in five-goal thriller to go top", "Tomasz Wilk",
        "PORTHAVEN", "March 14", "Northline Sport")
    product = read_header((ARTICLES / "larkspur_tern2.txt").read_text(encoding="utf-8"))
    assert (product.dateline, product.date, product.outlet, product.byline) == (
        "SINGAPORE", "June 3", "Asia Tech Wire", "Priya Raman")
    # Bernama names itself in a sign-off at the end, not in the dateline.
    korea = read_header(KOREA.read_text(encoding="utf-8"))
    assert (korea.dateline, korea.date, korea.outlet, korea.title, korea.byline) == (
        "KUALA LUMPUR", "Oct 2", "Bernama", None, None)


def test_a_missing_source_becomes_todo_never_a_guess(tmp_path: Path) -> None:
    """No dateline: the draft says TODO, loads, and the citation leaves the TODO out."""
    article = ARTICLES / "club_history.txt"
    assert main(["facts", "new", str(article), "--name", "club", "--out", str(tmp_path)]) == 0
    text = (tmp_path / "club" / "pack.yaml").read_text(encoding="utf-8")
    assert 'outlet: "TODO: not found in the article' in text
    assert 'date: "TODO: not found in the article' in text
    pack = load_pack(tmp_path / "club")
    assert pack.source.line() == "“A short history of Quay Road”"


def _by_text(article: Path) -> dict[str, tuple[str | None, int | None]]:
    sentences = split_article(article.read_text(encoding="utf-8"))
    return {s.text: (s.speaker, s.quotation) for s in sentences}


def test_a_quotation_over_three_paragraphs_is_one_quotation_with_one_speaker() -> None:
    """News style reopens the quote on each paragraph; the speaker is named only once."""
    facts = _by_text(ARTICLES / "harbourside_redmoor.txt")
    first = facts["We talked all week about being brave with the ball, and for most of the "
                  "afternoon we were"]
    assert first[0] == "Elena Marsh"
    later = [facts["Conceding from a corner again is something we have to fix, and we will "
                   "work on it on Monday."],
             facts["He has trained with the first team since he was 16."],
             facts["Nobody here is surprised by what he did today."]]
    assert {s for s, _ in later} == {"Elena Marsh"}
    # The second paragraph opens a new quotation that runs to the end of the fourth.
    assert len({q for _, q in later}) == 1 and later[0][1] != first[1]


def test_attribution_forms() -> None:
    sport = _by_text(ARTICLES / "harbourside_redmoor.txt")
    # ", said Haddad." (inverted), after a full name given earlier in the article
    assert sport["I just tried to keep my eyes on the ball and hit it early"][0] == "Sami Haddad"
    # "Pryce told Northline Sport." then "He added ...: “...”" for the next quotation
    assert sport["From where I was standing it was a dive, and I have seen it three times "
                 "since on the screen"][0] == "Gareth Pryce"
    assert sport["He added that losing Whitcombe for the Millbrook game was a blow"][0] \
        == "Gareth Pryce"
    assert sport["Dan is our captain and our organiser."][0] == "Gareth Pryce"
    # Reported speech: "Haddad, who signed ..., said he had dreamed"
    assert sport["Haddad, who signed his first professional contract in January, said he had "
                 "dreamed of scoring at Quay Road since he was a ball boy."][0] == "Sami Haddad"
    # Narrative sentences without a speaker stay without one; "the club said" is nobody.
    assert sport["Harbourside won eight corners to Redmoor's three."][0] is None
    assert sport["Tickets for the return fixture, priced from 25 pounds, go on sale on March 30,"
                 " the club said."][0] is None


def test_attribution_with_straight_quotes_and_pronouns() -> None:
    product = _by_text(ARTICLES / "larkspur_tern2.txt")
    assert product["Tern 2 is our answer to both."][0] == "Mei Chen"
    assert product["In our tests the new one fails on fewer than one in 400"][0] == "Arjun Nair"
    # "he said" after "He added that ..." is still Nair
    assert product["Nothing a Tern sees leaves the building unless the customer asks for it"][0] \
        == "Arjun Nair"
    # "she said" after "Chen declined to comment ...": the last person named, not Solberg
    assert product["Our focus this year is on delivering Tern 2 on time. Everything else can "
                   "wait"][0] == "Mei Chen"
    # A company is not a speaker: "Larkspur said the expansion ..."
    assert product["Larkspur said the expansion would add about 300 jobs."][0] is None


def test_told_bernama_attributes_a_quotation_opened_a_paragraph_earlier() -> None:
    facts = _by_text(KOREA)
    momentum = facts["It will mark a new momentum between South Korea and Malaysia to "
                     "strengthen existing strong bilateral relations."]
    # The attribution says more than who speaks (when, to whom): the sentence stays whole.
    agreed = facts["“After agreeing in principle to elevate bilateral ties to a strategic "
                   "partnership in November 2019, both governments are now discussing the "
                   "draft agreement,” Lee told Bernama in conjunction with the country’s "
                   "National Foundation Day observed on Oct 3."]
    assert momentum[0] == agreed[0] == "Lee Chi-beom"
    assert momentum[1] is not None
    # "..., he added." at the end of a narrative sentence
    assert facts["To further promote cultural exchange, the South Korean government is looking "
                 "into the possible setting up of a Korean Cultural Centre when the need arises,"
                 " he added."][0] == "Lee Chi-beom"
    # The attribution clause itself is not a fact.
    assert not any(t.startswith("Lee told Bernama") for t in facts)


def test_a_short_quoted_sentence_stays_with_the_one_before() -> None:
    facts = _by_text(ARTICLES / "harbourside_redmoor.txt")
    assert "We came here to win, we played well for long spells and we go home with nothing. " \
           "That hurts." in facts
    assert "That hurts." not in facts


def test_speaker_roles_are_cut_from_the_article() -> None:
    product = (ARTICLES / "larkspur_tern2.txt").read_text(encoding="utf-8")
    assert speaker_role(product, "Mei Chen") == "Larkspur's co-founder and chief executive"
    assert speaker_role(product, "Ingrid Solberg") == "Halvorsen's regional head of operations"
    assert speaker_role(product, "Arjun Nair") == "Chief technology officer"
    korea = KOREA.read_text(encoding="utf-8")
    assert speaker_role(korea, "Lee Chi-beom") == "South Korea’s ambassador to Malaysia"


def test_sentences_split_at_full_stops_but_not_abbreviations() -> None:
    article = ("LONDON, May 3 (Wire) — Mr. Smith met Dr. Jones on Oct. 4 at No. 10. They "
               "talked for 2.5 hours. Was it useful? Nobody knows!\n")
    texts = [s.text for s in split_article(article)]
    assert texts == ["Mr. Smith met Dr. Jones on Oct. 4 at No. 10.",
                     "They talked for 2.5 hours.", "Was it useful?", "Nobody knows!"]


def test_a_sentence_over_the_quote_limit_is_cut_at_semicolons_verbatim() -> None:
    clause = "the committee reviewed the budget for the new stadium in great detail"
    sentence = "; ".join([clause] * 8).capitalize() + "."
    article = f"PARIS, Jan 5 (Wire) — {sentence}\n"
    pieces = split_article(article)
    assert len(pieces) >= 2
    for piece in pieces:
        assert len(piece.text) <= MAX_QUOTE
        assert piece.text in article
    # Together the pieces cover the sentence.
    assert sum(len(p.text) for p in pieces) >= len(sentence) - 3 * len(pieces)


def test_commands_of_packs_already_there_are_not_reused(tmp_path: Path) -> None:
    article = ARTICLES / "larkspur_tern2.txt"
    assert main(["facts", "new", str(article), "--name", "one", "--out", str(tmp_path)]) == 0
    assert main(["facts", "new", str(article), "--name", "two", "--out", str(tmp_path)]) == 0
    one = {t.command for t in load_pack(tmp_path / "one").topics}
    two = {t.command for t in load_pack(tmp_path / "two").topics}
    assert one and two and not one & two
    assert main(["facts", "check", str(tmp_path)]) == 0


@pytest.mark.parametrize(("argv", "message"), [
    (["--name", "Bad Name"], "--name 'Bad Name'"),
    (["--name", "ok", "--out", "{tmp}/exists"], "already exists"),
])
def test_bad_arguments_are_one_line_errors(argv: list[str], message: str, tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "exists" / "ok").mkdir(parents=True)
    (tmp_path / "exists" / "ok" / "pack.yaml").write_text("name: ok\n", encoding="utf-8")
    article = str(ARTICLES / "club_history.txt")
    args = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    assert main(["facts", "new", article, *args]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and "\n" not in err


def test_a_missing_article_is_a_one_line_error(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["facts", "new", str(tmp_path / "nope.txt"), "--name", "x",
                 "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "nope.txt: cannot read the article" in err
    assert not (tmp_path / "x").exists()


def test_an_empty_article_is_a_one_line_error_naming_it(tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_text("\n\n", encoding="utf-8")
    assert main(["facts", "new", str(empty), "--name", "x", "--out", str(tmp_path)]) == 2
    assert f"{empty}: the article has no sentences to quote" in capsys.readouterr().err


def test_a_quote_with_nobody_named_has_no_speaker(tmp_path: Path) -> None:
    """"she said" with no person before it: no speaker is invented."""
    article = ("By Jane Roe, The Daily Planet\n\nThe mayor opened the bridge. "
               "\"It is a great day,\" she said.\n\nTraffic will flow from Monday. "
               "— The Daily Planet\n")
    header = read_header(article)
    assert (header.byline, header.outlet, header.dateline) == ("Jane Roe", "The Daily Planet",
                                                               None)
    facts = {s.text: s.speaker for s in split_article(article)}
    assert facts == {"The mayor opened the bridge.": None, "It is a great day": None,
                     "Traffic will flow from Monday.": None}
