"""`factbot facts new` covers the article: every body sentence that states something is a
fact, whole, or cut only where a clause ends; what is left out is said, with a reason.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from factbot.authoring import (
    MAX_DRAFT_FACTS,
    MAX_DRAFT_SPEAKERS,
    draft,
    paragraphs,
    render_yaml,
    split_article,
)
from factbot.authoring.drafting import _cut_places
from factbot.packs import MAX_QUOTE
from factbot.text import normalise_quote

ARTICLES = Path(__file__).resolve().parent / "data" / "articles"

# What of each article's body no fact quotes, and why. Everything else is in a fact.
NOT_FACTS = {
    "wikinews_canada_document.txt": {
        "Baird said": "attribution only: the quotation before it is John Baird's",
        "Dewar said": "attribution only: the quotation before it is Paul Dewar's",
    },
    "wikinews_brown_remarks.txt": {
        "she asked him": "attribution only: the quotation is Gillian Duffy's",
        "Brown said": "attribution only: the quotation is Gordon Brown's",
        "he said": "attribution only: the quotation is Gordon Brown's",
        "later adding": "attribution only: the next quotation goes on with Gillian Duffy",
        "Liberal Democrat leader Nick Clegg meanwhile said": "attribution only: the quotation "
        "is Nick Clegg's, his role is in speakers",
        "Media and opposition parties react": "a section heading",
    },
}


def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", normalise_quote(text)).strip()


def _body_sentences(article: str) -> list[str]:
    """The body's sentences, cut simply at full stops: no header, date or credit line."""
    paras = [p.text for p in paragraphs(article)]
    body = [p for p in paras[2:] if not p.startswith("Source:")]  # title, date; credit
    out = []
    for para in body:
        at = 0
        for end in re.finditer(r"[.!?][”\"’)]*(?=\s+[“\"A-Z\[])", para):
            out.append(para[at:end.end()].strip())
            at = end.end()
        out.append(para[at:].strip())
    return out


@pytest.mark.parametrize("name", sorted(NOT_FACTS))
def test_every_body_sentence_is_a_fact_but_attributions_and_headings(name: str) -> None:
    article = (ARTICLES / name).read_text(encoding="utf-8")
    facts = [_flat(s.text) for s in split_article(article)]
    left: list[str] = []
    for sentence in _body_sentences(article):
        rest = _flat(sentence)
        if any(rest.strip(" \"“”") in fact for fact in facts):
            continue  # the whole sentence is (in) a fact
        for fact in facts:
            rest = rest.replace(fact, " ")
        rest = re.sub(r"[\s\"“”.,:;!?—-]+", " ", rest).strip()
        if rest:
            left.append(rest)
    assert sorted(left) == sorted(NOT_FACTS[name])


def test_the_brown_draft_credits_every_quotation_to_who_says_it() -> None:
    article = (ARTICLES / "wikinews_brown_remarks.txt").read_text(encoding="utf-8")
    d = draft(article, "brown")
    assert d.speakers == {"Gillian Duffy": None, "Gordon Brown": "UK Prime Minister",
                          "George Osborne": "Shadow chancellor",
                          "Nick Clegg": "Liberal Democrat leader",
                          "Andrew Russell": "a politics lecturer for Manchester University"}
    said = {s.text: s.speaker for t in d.topics for s in t.sentences}
    by_start = {text[:30]: who for text, who in said.items()}
    assert by_start["All those Eastern Europeans wh"] == "Gillian Duffy"  # she asked him
    assert by_start["That was a disaster ... they s"] == "Gordon Brown"
    assert by_start["When an aide asked what Duffy "] == "Gordon Brown"  # Brown responded:
    assert by_start["Sometimes you do make mistakes"] == "Gordon Brown"  # he said
    assert by_start["He's supposed to be leading th"] == "Gillian Duffy"  # in an interview
    assert by_start["I want to know why - them [sic"] == "Gillian Duffy"  # later adding:
    # "A spokesman for Brown said:" names nobody: none of it is Brown's, or anyone's.
    for text, who in said.items():
        if "Mrs Duffy personally" in text or "letting off steam" in text \
                or "does not think that she is bigoted" in text:
            assert who is None, text
    assert by_start["The Conservatives responded to"] == "George Osborne"  # saying that
    assert by_start["You should always try to answe"] == "Nick Clegg"  # meanwhile said:
    assert by_start["A politician in a stronger pos"] == "Andrew Russell"


# --- sentences over the quote limit ----------------------------------------------------

CLAUSE = "the committee reviewed the budget for the new stadium in great detail"


def test_a_long_sentence_is_cut_at_a_colon_before_a_quotation() -> None:
    lead = f"The chair, who said that {CLAUSE} and {CLAUSE}, summed up the day"
    quote = f"\"We have {CLAUSE}, and we will do it again.\""
    article = f"PARIS, Jan 5 (Wire) — {lead}: {quote}\n"
    assert len(lead) + len(quote) > MAX_QUOTE
    texts = list({s.text: s.speaker for s in split_article(article)})
    # The lead-in says something of its own; the quotation is cut out whole.
    assert texts == [lead, f"We have {CLAUSE}, and we will do it again."]


def test_a_long_sentence_is_cut_at_a_lone_dash() -> None:
    first = f"In March {CLAUSE} and {CLAUSE}"
    second = f"the council then {CLAUSE} once more and {CLAUSE} at last"
    article = f"PARIS, Jan 5 (Wire) — {first} — {second}.\n"
    assert len(first) + len(second) > MAX_QUOTE
    assert [s.text for s in split_article(article)] == [first, f"{second}."]


def test_a_long_sentence_is_never_cut_inside_a_pair_of_dashes() -> None:
    """Two dashes set off an aside: neither cut leaves two whole parts."""
    sentence = f"In March — after {CLAUSE} twice — {CLAUSE} and {CLAUSE} and {CLAUSE}."
    article = f"PARIS, Jan 5 (Wire) — The vote is on Friday. {sentence}\n"
    assert len(sentence) > MAX_QUOTE
    assert [s.text for s in split_article(article)] == ["The vote is on Friday."]
    assert "# left out: article line 1 is" in render_yaml(draft(article, "vote"))


def test_a_very_long_sentence_is_cut_at_every_semicolon_it_needs() -> None:
    parts = [f"in {month} {CLAUSE}" for month in ("March", "April", "May", "June", "July")]
    article = f"PARIS, Jan 5 (Wire) — {'; '.join(parts)}.\n"
    texts = [s.text for s in split_article(article)]
    assert len(texts) >= 2 and all(len(t) <= MAX_QUOTE for t in texts)
    assert "; ".join(texts) == f"{'; '.join(parts)}."  # nothing lost, nothing cut mid-clause


# --- long articles: work that grows with the length, not its square ----------------------


def test_topic_cuts_are_looked_for_in_a_bounded_window_of_a_long_article() -> None:
    sizes = list(range(0, 20001))  # 20,000 units of one fact each
    places = _cut_places(sizes, 12)
    assert places[0] == [0] and places[-1] == [20000]
    assert all(len(p) <= 129 for p in places[1:-1])  # 2 * _CUT_WINDOW + 1, whatever n
    small = _cut_places(list(range(0, 41)), 10)
    assert all(p == list(range(1, 40)) for p in small[1:-1])  # a short article: every unit


def test_a_long_article_in_one_paragraph_gives_he_said_to_nobody() -> None:
    """Who "he" is is read within a bounded reach: beyond it, nobody, not a guess."""
    filler = " ".join(f"The ferry ran on day {n}." for n in range(60))
    article = (f"PARIS, Jan 5 (Wire) — Tom Reyes spoke first. {filler} "
               f"\"The plan is late,\" he said.\n")
    said = {s.text: s.speaker for s in split_article(article)}
    assert said["The plan is late"] is None


def test_a_draft_stays_within_the_loaders_limits_and_says_what_it_left_out() -> None:
    """Some 10,000 sentences fit in 1 MB; a pack holds 1,000 facts and 200 speakers."""
    given = ["Ana", "Tom", "Mei", "Ivo", "Lea", "Sam", "Eva", "Raj", "Ida", "Max", "Zoe", "Kai",
             "Uma", "Noa", "Ben"]
    family = ["Ruiz", "Reyes", "Chen", "Marsh", "Holt", "Nair", "Osei", "Varga", "Tanaka",
              "Brennan", "Moreau", "Castillo", "Lindqvist", "Kowalski", "Duarte"]
    people = [f"{g} {f}" for g in given for f in family][:210]
    paras = [f"{who} said the ferry to island number {n} was late." for n, who in
             enumerate(people)]
    paras += [f"The ferry to island number {n} left on time." for n in range(900)]
    d = draft("Ferries\n\n" + "\n\n".join(paras) + "\n", "ferries")
    facts = [s for t in d.topics for s in t.sentences]
    assert len(facts) == MAX_DRAFT_FACTS
    assert len(d.speakers) == MAX_DRAFT_SPEAKERS
    assert {s.speaker for s in facts if s.speaker} == set(d.speakers)
    # The facts past the 200th speaker keep no speaker: never someone else's name.
    late = next(s for s in facts if "island number 205 " in s.text)
    assert late.speaker is None
    text = render_yaml(d)
    assert "# left out: article lines" in text and "at most 1,000 facts" in text
    assert "# left out: the speaker of 10 facts (10 people)" in text
