"""`factbot facts new` on wire-style articles: who says what, titles apart from names,
metadata apart from facts, whole sentences, and command names members would type.

The mini-articles below are fictional, written for these tests; each holds the forms of
attribution real wire copy uses.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from factbot.authoring import draft, read_header, render_yaml, speaker_role, split_article
from factbot.cli import main
from factbot.packs import MAX_QUOTE, load_pack

DATA = Path(__file__).resolve().parent / "data"
CANADA = DATA / "articles" / "wikinews_canada_document.txt"

# A statement read as speech: the bug report's case. Two quotations follow the paragraph
# in which the minister "issued a statement"; the shadow minister spoke before her.
FERRY = """Ferry fares rise for third time in two years

Tuesday, March 5, 2024

The Coastal Ferry Authority raised fares on the Kestrel Sound crossing by 12 per cent on Monday.

Shadow Transport Secretary Tom Reyes said the rise was a betrayal of island families.

"Families will pay more for less," Reyes said.

Ferry Minister Helen Okafor issued a statement on Monday evening.

"Fares have to cover the cost of keeping the boats safe.

"No route will close this year, and the winter timetable will not change."

Passengers queued for two hours at Port Ellen on Monday morning.

"I have never seen it this bad," said one passenger.

"We were not told about any of this."

The authority will publish its accounts in June.

"It is a disgrace."
"""

# Titles in front of names, "according to", "in a statement", "X's statement added",
# "X stated:", "He continued:", and a role in apposition.
LAKE = """COLUMBUS, Ohio, May 3 (Lakeside Wire) — A ferry that ran aground on Lake Erie on Friday was refloated after nine hours, the coast guard said.

Governor of Ohio Jane Miller said the state would pay for a full inspection of the vessel.

"Nobody was hurt, and that is what matters tonight," Miller told reporters.

Agency Administrator Ana Ruiz said the ferry's captain had followed the rules.

According to Ruiz, the ferry carried 212 passengers and 40 cars.

In a statement, Ruiz said: "We will publish everything the inspectors find."

Ruiz's statement added: "Services will resume on Monday."

Tom Becker, a spokesperson for the Lake Erie Ferry Company, said the company would refund every ticket.

Becker stated: "No passenger will pay for this trip."

He continued: "We are also offering free crossings for the rest of the month."

Becker continued:

"The captain will stay with the company."
"""  # noqa: E501 (an article keeps each paragraph on one line)

# A Wikinews-style article: a date line under the title, colon-introduced quotations
# (one of them opening the next paragraph), ministers by title, a role before the name,
# and the credit line at the end.
LIBRARIES = """Libraries to open on Sundays under new plan

Thursday, February 23, 2023

Libraries in England will open on Sundays from April under a plan announced on Wednesday.

Culture Secretary Maya Linton told GB News: "Every town deserves a library that is open when families are free."

Prime Minister Owen Hartley said the plan would cost 40 million pounds a year.

Shadow Culture Secretary Priya Nandi said: "This is a small step after years of cuts.

"Hundreds of libraries have closed since 2010."

The chief executive of the Library Campaign, Laura Finch, said the money was welcome but late.

Finch told the BBC:

"We have waited a long time for this."

Source: Wikinews, "Libraries to open on Sundays under new plan", February 23, 2023, https://en.wikinews.org/wiki/Libraries_to_open_on_Sundays. Licensed under CC BY 2.5 (https://creativecommons.org/licenses/by/2.5/).
"""  # noqa: E501 (an article keeps each paragraph on one line)


def _said(article: str) -> dict[str, str | None]:
    return {s.text: s.speaker for s in split_article(article)}


# --- attribution -----------------------------------------------------------------------


def test_a_minister_who_issued_a_statement_says_the_quotations_that_follow() -> None:
    """The bug report: "issued a statement" is speech, and its quotations are hers."""
    said = _said(FERRY)
    assert said["Fares have to cover the cost of keeping the boats safe."] == "Helen Okafor"
    assert said["No route will close this year, and the winter timetable will not change."] \
        == "Helen Okafor"
    assert said["Families will pay more for less"] == "Tom Reyes"
    assert said["Shadow Transport Secretary Tom Reyes said the rise was a betrayal of island "
                "families."] == "Tom Reyes"


def test_a_quotation_nobody_is_named_for_gets_no_speaker_not_the_last_one() -> None:
    said = _said(FERRY)
    # "said one passenger": said, but by nobody named; the sentence stays whole, so that the
    # fact still says who spoke; the next quotation goes on with them.
    assert said["\"I have never seen it this bad,\" said one passenger."] is None
    assert said["We were not told about any of this."] is None
    # A narrative paragraph stands between the last speaker and this quotation.
    assert said["It is a disgrace."] is None
    assert said["The authority will publish its accounts in June."] is None


def test_according_to_in_a_statement_statement_added_stated_and_continued() -> None:
    said = _said(LAKE)
    assert said["According to Ruiz, the ferry carried 212 passengers and 40 cars."] == "Ana Ruiz"
    assert said["We will publish everything the inspectors find."] == "Ana Ruiz"
    assert said["Services will resume on Monday."] == "Ana Ruiz"
    assert said["No passenger will pay for this trip."] == "Tom Becker"
    assert said["We are also offering free crossings for the rest of the month."] == "Tom Becker"
    # "Becker continued:" ends its paragraph; the quotation opens the next one.
    assert said["The captain will stay with the company."] == "Tom Becker"
    assert said["Nobody was hurt, and that is what matters tonight"] == "Jane Miller"
    # "the coast guard said" names nobody.
    assert said["A ferry that ran aground on Lake Erie on Friday was refloated after nine hours,"
                " the coast guard said."] is None


def test_attribution_clauses_are_not_facts() -> None:
    texts = set(_said(LAKE)) | set(_said(LIBRARIES))
    for clause in ("In a statement, Ruiz said", "Ruiz's statement added", "Becker stated",
                   "He continued", "Becker continued", "Finch told the BBC",
                   "Culture Secretary Maya Linton told GB News"):
        assert not any(t.startswith(clause) for t in texts), clause


def test_a_quotation_introduced_by_a_colon_belongs_to_who_introduces_it() -> None:
    said = _said(LIBRARIES)
    assert said["Every town deserves a library that is open when families are free."] \
        == "Maya Linton"
    # Over two paragraphs, the second reopening the quotation.
    assert said["This is a small step after years of cuts."] == "Priya Nandi"
    assert said["Hundreds of libraries have closed since 2010."] == "Priya Nandi"
    # "Finch told the BBC:" closes a paragraph, the quotation opens the next.
    assert said["We have waited a long time for this."] == "Laura Finch"


# --- names and roles -------------------------------------------------------------------


def test_a_title_is_the_role_not_part_of_the_name() -> None:
    speakers = draft(LAKE, "lake").speakers
    assert speakers == {"Jane Miller": "Governor of Ohio", "Ana Ruiz": "Agency Administrator",
                        "Tom Becker": "a spokesperson for the Lake Erie Ferry Company"}
    speakers = draft(LIBRARIES, "libraries").speakers
    assert speakers == {"Maya Linton": "Culture Secretary", "Owen Hartley": "Prime Minister",
                        "Priya Nandi": "Shadow Culture Secretary",
                        "Laura Finch": "chief executive of the Library Campaign"}
    speakers = draft(FERRY, "ferry").speakers
    assert speakers == {"Tom Reyes": "Shadow Transport Secretary",
                        "Helen Okafor": "Ferry Minister"}


@pytest.mark.parametrize(("text", "name", "role"), [
    ("Home Secretary Anne Gray said the plan would work.", "Anne Gray", "Home Secretary"),
    ("The plan would work, said Environment Minister Ian Holt.", "Ian Holt",
     "Environment Minister"),
    ("The plan would work, according to port manager Linh Tran.", "Linh Tran", "port manager"),
    ("Sam Idris, a spokesperson for the Port Authority, said the plan would work.", "Sam Idris",
     "a spokesperson for the Port Authority"),
    ("The plan would work, said Enver Cole, chief executive of the Shipping Council.",
     "Enver Cole", "chief executive of the Shipping Council"),
    ("Shipping Council chief executive Enver Cole said the plan would work.", "Enver Cole",
     "Shipping Council chief executive"),
    ("Minister for Ports Rosa Vale said the plan would work.", "Rosa Vale",
     "Minister for Ports"),
    ("Labour's Ruth Amos said the plan would work.", "Ruth Amos", None),
    ("“The plan would work,” said the chief executive of the Shipping Council, Enver Cole.",
     "Enver Cole", "chief executive of the Shipping Council"),
])
def test_speaker_and_role_forms(text: str, name: str, role: str | None) -> None:
    article = f"LONDON, May 3 (Wire) — {text}\n"
    assert [s.speaker for s in split_article(article)] == [name]
    assert speaker_role(article, name) == role


def test_an_honorific_and_a_surname_lead_back_to_the_full_name() -> None:
    article = ("LONDON, May 3 (Wire) — Home Secretary Anne Gray visited Dover on Monday.\n\n"
               "“We will act,” Ms Gray said. “The queues are too long.”\n")
    assert _said(article) == {"Home Secretary Anne Gray visited Dover on Monday.": None,
                              "We will act": "Anne Gray", "The queues are too long.": "Anne Gray"}


def test_a_title_alone_is_the_one_person_the_article_gives_it() -> None:
    article = ("LONDON, May 3 (Wire) — Home Secretary Anne Gray visited Dover on Monday. "
               "Shadow Home Secretary Ian Roe said the visit was late.\n\n"
               "The Home Secretary added: “We will act.”\n\n"
               "“It is too late,” the Shadow Home Secretary said.\n\n"
               "Gray went on: “The queues will fall.”\n\n"
               "The Prime Minister said nothing.\n")
    said = _said(article)
    assert said["We will act."] == said["The queues will fall."] == "Anne Gray"
    assert said["It is too late"] == "Ian Roe"
    # Nobody in the article is the Prime Minister by name.
    assert said["The Prime Minister said nothing."] is None
    assert set(draft(article, "dover").speakers) == {"Anne Gray", "Ian Roe"}


def test_a_surname_that_is_also_a_title_stays_a_name() -> None:
    article = ("LONDON, May 3 (Wire) — Stephen King said the queues were long. “I waited for "
               "hours,” King said.\n")
    assert set(_said(article).values()) == {"Stephen King"}


def test_scare_quotes_keep_their_sentence_whole() -> None:
    article = ("LONDON, May 3 (Wire) — The so-called “stop the ferries” pledge, which Gray said "
               "was her priority, has cost 40 million pounds.\n")
    assert _said(article) == {"The so-called “stop the ferries” pledge, which Gray said was her "
                              "priority, has cost 40 million pounds.": None}


def test_the_canada_draft_names_its_four_speakers_with_their_roles() -> None:
    article = CANADA.read_text(encoding="utf-8")
    d = draft(article, "canada-document")
    assert d.speakers == {"Julie Hahn": "Environment Canada spokesperson",
                          "John Baird": "Environment Minister",
                          "Sujata Raisinghani": "Environment Canada spokeswoman",
                          "Paul Dewar": "an Ottawa New Democrat MP"}
    said = _said(article)
    # "she said, but refused to give any more details": more than who speaks, kept whole.
    assert said["\"We take document security seriously,\" she said, but refused to give any more "
                "details about how the papers came to be on a road."] == "Sujata Raisinghani"
    assert said["I'm told two things: that it's neither classified nor secret and that it's stuff"
                " that could be available under access to information"] == "John Baird"


def test_speakers_are_found_by_surname_and_full_name(tmp_path: Path) -> None:
    """Every fact a speaker says carries their surname and full name as keywords."""
    article = CANADA.read_text(encoding="utf-8")
    d = draft(article, "canada-document")
    facts = [s for t in d.topics for s in t.sentences]
    assert {s.speaker for s in facts if s.speaker} == set(d.speakers)
    assert main(["facts", "new", str(CANADA), "--name", "canada", "--out", str(tmp_path)]) == 0
    pack = load_pack(tmp_path / "canada")
    for topic in pack.topics:
        for fact in topic.facts:
            if fact.speaker:
                surname = fact.speaker.split()[-1]
                assert {surname, fact.speaker} <= set(fact.keywords)
                assert surname in topic.keywords and fact.speaker in topic.keywords


# --- metadata and sentences --------------------------------------------------------------


def test_date_line_and_credit_line_are_source_not_facts() -> None:
    header = read_header(LIBRARIES)
    assert (header.title, header.outlet, header.date) == (
        "Libraries to open on Sundays under new plan", "Wikinews", "February 23, 2023")
    texts = list(_said(LIBRARIES))
    assert texts[0] == ("Libraries in England will open on Sundays from April under a plan "
                        "announced on Wednesday.")
    assert not any("Source" in t or "Licensed" in t or "2023" in t for t in texts)
    canada = read_header(CANADA.read_text(encoding="utf-8"))
    assert (canada.outlet, canada.date) == ("Wikinews", "August 15, 2008")
    assert not any("Wikinews" in t or "August 15" in t
                   for t in _said(CANADA.read_text(encoding="utf-8")))


def test_a_dateline_prefix_is_not_part_of_the_first_fact() -> None:
    header = read_header(LAKE)
    assert (header.dateline, header.date, header.outlet) == ("COLUMBUS, Ohio", "May 3",
                                                             "Lakeside Wire")
    assert next(iter(_said(LAKE))).startswith("A ferry that ran aground")


@pytest.mark.parametrize(("open_", "close"), [("“", "”"), ("\"", "\""), ("“", "“"),
                                              ("”", "”")])
def test_a_closing_quote_mark_of_any_kind_ends_the_sentence(open_: str, close: str) -> None:
    article = (f"PARIS, Jan 5 (Wire) — {open_}The bridge will open in May.{close} The council "
               f"approved the plan on Monday.\n")
    assert _said(article) == {"The bridge will open in May.": None,
                              "The council approved the plan on Monday.": None}


def test_a_long_sentence_is_never_cut_at_however() -> None:
    """Over the limit with no clause boundary: left out with a note, never cut at a comma."""
    clause = "the committee reviewed the budget for the new stadium in great detail"
    sentence = f"However, {clause}, and {clause}, and {clause}, and {clause}."
    assert len(sentence) > MAX_QUOTE
    article = f"PARIS, Jan 5 (Wire) — The vote is on Friday. {sentence} It passed.\n"
    assert list(_said(article)) == ["The vote is on Friday.", "It passed."]
    text = render_yaml(draft(article, "vote"))
    assert "# left out: article line 1 is" in text and "no clause boundary" in text


def test_a_long_sentence_is_cut_at_semicolons_only() -> None:
    clause = "the committee reviewed the budget for the new stadium in great detail"
    first = f"However, {clause}, and {clause}"
    second = f"the council, however, {clause} and {clause} again"
    article = f"PARIS, Jan 5 (Wire) — {first}; {second}.\n"
    assert len(first) + len(second) > MAX_QUOTE
    assert list(_said(article)) == [first, f"{second}."]


# --- commands and descriptions -------------------------------------------------------------


def test_commands_are_subject_nouns_and_descriptions_are_phrases() -> None:
    d = draft(CANADA.read_text(encoding="utf-8"), "canada-document")
    commands = [t.command for t in d.topics]
    assert commands[0] == "document"  # what the article is about
    assert "baird" in commands
    for topic in d.topics:
        assert topic.command not in {"provide", "stated", "old", "hour", "centimetres",
                                     "castlefrank", "wikinews", "classified", "system"}
        # A phrase, not "Castlefrank, rain-stained and passerby".
        assert not topic.description.count(",") >= 1 or " " in topic.description.split(",")[0]
        assert len(topic.description.split()) >= 3
    assert d.generic_terms == []  # "document" is what the article is about, not noise


def test_no_unit_adjective_or_quoted_verb_names_a_topic() -> None:
    article = (DATA / "articles" / "larkspur_tern2.txt").read_text(encoding="utf-8")
    commands = {t.command for t in draft(article, "larkspur").topics}
    assert not commands & {"hour", "centimetres", "old", "dollars", "provide", "stated",
                           "assembled", "failed"}
    assert "tern" in commands


@pytest.mark.parametrize("article", [FERRY, LAKE, LIBRARIES], ids=["ferry", "lake", "libraries"])
def test_the_mini_articles_draft_to_packs_that_pass_the_check(
        article: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "article.txt"
    source.write_text(article, encoding="utf-8")
    assert main(["facts", "new", str(source), "--name", "mini", "--out", str(tmp_path)]) == 0
    load_pack(tmp_path / "mini")
    assert main(["facts", "check", str(tmp_path / "mini")]) == 0
    assert "0 error(s)" in capsys.readouterr().out
