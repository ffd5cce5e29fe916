"""Draft a fact pack from an article: ``factbot facts new ARTICLE.txt --name NAME``.

The draft is built only from text cut out of the article, so every quote is
verbatim by construction. Steps:

1. ``read_header``: title, byline, dateline, date and outlet, where the article
   has them: a dateline prefix ("KUALA LUMPUR, Oct 2 —"), a date on a line of its
   own ("Thursday, February 23, 2023"), a credit line at the end ("Source:
   Wikinews, "...", ... Licensed under ...") or a sign-off ("— Bernama"). These
   are metadata, never facts. A part the article lacks becomes a ``TODO``
   placeholder, never a guess (the loader accepts placeholders; ``facts check``
   warns about them).
2. ``split_article``: paragraphs into whole sentences, and who says each one.
   Quotation marks are tracked across paragraphs (news style reopens a quotation
   on every paragraph and closes it once), so a quotation spanning paragraphs is
   one quotation with one speaker. A speaker is read only from what the article
   says: an attribution ("said Lee", "Lee told Bernama", "according to Lee",
   "Lee's statement added", "Lee issued a statement"), a lead-in ("Lee told GB
   News:", "In a statement, Lee said:", even when the quotation opens the next
   paragraph), the one person speaking in the same paragraph, or the one person
   whose speech fills the paragraph just before a quotation that opens its own
   paragraph. A quotation none of these names gets no speaker: the draft never
   falls back to whoever spoke last. Titles are not names: "Agency Administrator
   Ana Ruiz" is Ana Ruiz, her role "Agency Administrator". Attribution clauses
   are not facts, and a sentence over the quote limit is cut only at "; ".
3. ``suggest_topics``: paragraphs (a quotation counts as one) are cut into
   runs of related text where neighbouring paragraphs share the fewest words,
   and each run gets a command named after a noun that sets it apart (a thing,
   place, person or organisation, never a verb, unit or adjective), a
   description that is a phrase from its text, and keywords, speakers' names
   among them.
"""

from __future__ import annotations

import argparse
import bisect
import contextlib
import dataclasses
import json
import math
import os
import re
import stat
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from factbot.errors import ConfigError, PackError
from factbot.packs import (
    BUILTIN_COMMANDS,
    COMMAND_RE,
    MAX_DESCRIPTION,
    MAX_QUOTE,
    TODO,
    alias_key,
)
from factbot.packs import paragraphs as pack_paragraphs
from factbot.settings import Settings
from factbot.text import normalise_quote, stem, words
from factbot.vocab import FOREIGN_PLACES, STOPWORDS

# The largest article `facts new` drafts from, in bytes, and the most facts and speakers
# a draft holds: the pack loader's limits too, so that every draft it writes can be loaded
# and checked. (A 1 MB article has some 10,000 sentences: its draft keeps the first 1,000.)
MAX_ARTICLE_BYTES = 1_000_000
MAX_DRAFT_FACTS = 1_000
MAX_DRAFT_SPEAKERS = 200

# --- header -------------------------------------------------------------------

_MONTHS = (r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|"
           r"Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?")
_WEEKDAY = r"(?:Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)day"
_YEAR_DATE = rf"(?:{_MONTHS}\s+\d{{1,2}},?\s+\d{{4}}|\d{{1,2}}\s+{_MONTHS},?\s+\d{{4}})"
# "KUALA LUMPUR, Oct 2 —", "PORTHAVEN, March 14 (Northline Sport) —",
# "LONDON, 3 May 2024 (Reuters) -", "COLUMBUS, Ohio, May 3 (Lakeside Wire) —"
_DATELINE = re.compile(
    r"^(?P<place>[A-Z][A-Z'’.\- ]*[A-Z](?:,\s+[A-Z][A-Za-z.]+)?),\s+"
    rf"(?P<date>{_MONTHS}\s+\d{{1,2}}(?:,\s+\d{{4}})?|\d{{1,2}}\s+{_MONTHS}(?:\s+\d{{4}})?)\s*"
    r"(?:\((?P<outlet>[^()\n]{2,60})\)\s*)?[—–-]{1,2}\s+")
# A date on a line of its own under the title: "Thursday, February 23, 2023".
_DATE_LINE = re.compile(rf"^(?:{_WEEKDAY},?\s+)?(?P<date>{_YEAR_DATE})\.?$")
_BYLINE = re.compile(r"^By\s+(?P<name>[A-Z][^,|\n]{2,60}?)\s*(?:[,|]\s*(?P<outlet>[^\n]{2,60}))?$")
# A closing "— Bernama" after the last sentence names the outlet.
_SIGN_OFF = re.compile(r"\s+[—–-]{1,2}\s*(?P<outlet>[A-Z][\w&.' ]{1,40}?)\s*$")
# Source: Wikinews, "Title", August 15, 2008, https://... Licensed under CC BY 2.5 (...).
_CREDIT = re.compile(r"^Source:\s*(?P<outlet>[^,\"“”\n]{2,60}?),\s*[\"“](?P<title>[^\"“”\n]{2,200})"
                     rf"[\"”](?:,\s*(?P<date>{_YEAR_DATE}))?")
_METADATA = re.compile(r"^Source:\s|\bLicen[sc]ed under\b")


@dataclass(frozen=True, slots=True)
class Header:
    """The source parts found in the article; None where it has none."""

    title: str | None = None
    byline: str | None = None
    dateline: str | None = None
    date: str | None = None
    outlet: str | None = None


@dataclass(frozen=True, slots=True)
class Paragraph:
    text: str  # as in the article, line breaks included
    start: int  # offset of text in the article


def paragraphs(article: str) -> list[Paragraph]:
    # The loader's line-by-line reading: a regular expression backtracks across a long run
    # of spaces at every position of it, quadratic in the run.
    return [Paragraph(article[start:end].rstrip(), start)
            for start, end in pack_paragraphs(article)]


def _parse_header(paras: list[Paragraph]) -> tuple[Header, list[Paragraph]]:
    """Split the header and any credit line off the body; the body starts after the
    dateline or the date line, if any."""
    title = byline = dateline = date = outlet = None
    body_at = 0
    for i, para in enumerate(paras[:5]):
        text = para.text.strip()
        by = _BYLINE.match(text)
        if by and "\n" not in text:
            byline = by.group("name").strip()
            outlet = outlet or (by.group("outlet") or "").strip() or None
            body_at = i + 1
            continue
        on_its_own = _DATE_LINE.match(text)
        if on_its_own:
            date = date or on_its_own.group("date")
            body_at = i + 1
            continue
        found = _DATELINE.match(text)
        if found:
            dateline, date = found.group("place"), found.group("date")
            outlet = found.group("outlet") or outlet
            body_at = i
            paras = [*paras[:i], Paragraph(text[found.end():], para.start + found.end()),
                     *paras[i + 1:]]
            break
        if i == 0 and "\n" not in text and len(text) < 150 and text[-1] not in ".!?\"”" \
                and len(paras) > 1:
            title = text
            body_at = 1
            continue
        break  # the body has begun
    body = paras[body_at:]
    # A credit line closes wire copy and Wikinews articles: metadata, not a fact.
    while body and len(body) > 1 and _METADATA.search(body[-1].text.strip()):
        credit = _CREDIT.match(body[-1].text.strip())
        if credit:
            outlet = outlet or credit.group("outlet").strip()
            title = title or credit.group("title").strip()
            date = date or credit.group("date")
        body = body[:-1]
    if body:
        last = body[-1]
        sign = _SIGN_OFF.search(last.text)
        if sign and sign.group("outlet").strip() and len(words(sign.group("outlet"))) <= 4:
            outlet = outlet or sign.group("outlet").strip()
            body = [*body[:-1], Paragraph(last.text[:sign.start()], last.start)]
    return Header(title, byline, dateline, date, outlet), body


def _is_heading(text: str) -> bool:
    """A section heading inside the body ("Media and opposition parties react"): one short
    line that ends without a sentence's punctuation and quotes nobody."""
    text = text.strip()
    return "\n" not in text and len(words(text)) <= 12 and text[:1].isupper() \
        and text[-1] not in ".!?:;,…" and not re.search(r"[“”\"]", text)


def read_header(article: str) -> Header:
    return _parse_header(paragraphs(article))[0]


# --- names and titles ------------------------------------------------------------------

def _wordset(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Possessive and anchored at a word's start: a run of capitals is read once, not retried
# from each letter (a hostile 1 MB article of capitals).
_NAME_TOKEN = r"(?<!\w)[A-Z][\w\-]*+(?:['’][A-Za-z]++)?"
_NAME = rf"{_NAME_TOKEN}(?:\s+(?:(?:de|van|der|von|bin|binti|al)\s+)?{_NAME_TOKEN}){{0,5}}"
_RUN = re.compile(rf"(?<![\w’'\-]){_NAME}")
_PRONOUNS = {"he", "she", "they"}
# Words that make a phrase a role, in front of a name ("Environment Minister John Baird",
# "port manager Linh Tran") or in apposition ("Paul Dewar, an Ottawa New Democrat MP").
_ROLE_WORDS = _wordset("""
minister secretary administrator governor president premier chancellor director executive chief
head chair chairman chairwoman chairperson manager officer official ambassador envoy mayor
senator congressman congresswoman representative commissioner councillor councilor mp mep msp
mla leader founder co-founder cofounder coach captain analyst economist professor lecturer
researcher scientist lawyer attorney solicitor barrister adviser advisor inspector
superintendent constable sergeant detective colonel commander admiral lieutenant editor
reporter correspondent historian spokesperson spokeswoman spokesman deputy assistant treasurer
secretary-general attorney-general ceo cfo cto coo boss supervisor organiser organizer
coordinator principal curator trustee archbishop sheriff prosecutor vice-president
president-elect goalkeeper striker midfielder defender centre-back
substitute winger skipper chef author campaigner activist member resident student teacher nurse
doctor engineer pilot worker owner partner spokespeople
""")
# Words in front of a name that are courtesy, not a role and not the name.
_HONORIFICS = {"mr", "mrs", "ms", "miss", "mx", "dr", "sir", "dame", "lord", "lady", "baroness",
               "baron", "rev", "prof"}
_ORG_WORDS = {"robotics", "logistics", "fc", "united", "rovers", "city", "sport", "sports",
              "wire", "group", "inc", "ltd", "bank", "ministry", "government", "club", "company",
              "corp", "corporation", "holdings", "fund", "airlines", "university", "council",
              "association", "news", "times", "post", "press", "agency", "board", "athletic",
              "albion", "school", "institute", "foundation", "party", "league", "division",
              "office", "department", "authority", "commission", "service", "services",
              "police", "court", "parliament", "senate", "congress", "committee", "campaign",
              "charity", "trust", "network", "coalition", "alliance", "federation", "union",
              "guard", "navy", "army", "force", "organisation", "organization", "centre",
              "center", "hospital", "museum", "library", "channel", "radio", "television",
              "tv", "international", "national", "nations", "road", "street", "avenue", "park",
              "square", "station", "airport", "river", "lake", "sound", "island", "bay", "hall",
              "house", "stadium", "ground", "lane", "system", "database", "act", "bill"}
# Capitalised words that start sentences but name nobody.
_NOT_NAMES = {"The", "A", "An", "This", "That", "These", "Those", "It", "Its", "In", "On", "At",
              "With", "From", "For", "After", "Before", "When", "While", "Throughout", "To",
              "January", "February", "March", "April", "May", "June", "July", "August",
              "September", "October", "November", "December", "Monday", "Tuesday", "Wednesday",
              "Thursday", "Friday", "Saturday", "Sunday", "Founded", "Currently", "But", "And",
              "However", "Meanwhile", "According", "If", "As", "Asked", "Speaking", "His", "Her",
              "Their", "Our", "We", "They", "He", "She", "I", "Elaborating", "Source"}
_PREPOSITIONS = {"of", "for", "to", "from", "with", "by", "at", "in", "on", "about", "against",
                 "and", "or", "&", "between", "than", "like", "under", "over", "into"}


def _tokens(run: str) -> list[str]:
    return re.sub(r"['’]s\b", "", run).split()


def _is_role_word(token: str) -> bool:
    return token.casefold().strip(".,") in _ROLE_WORDS


@lru_cache(maxsize=65536)  # the same names come back in every paragraph
def _strip_titles(run: str) -> str | None:
    """The name in a capitalised run: "Environment Minister John Baird" -> "John Baird",
    "Ms Braverman" -> "Braverman". A run that is only a title ("The Home Secretary") comes
    back as the title, for ``_Resolver`` to look up."""
    raw = run.split()
    owners = [i for i, t in enumerate(raw[:-1]) if re.search(r"['’]s$", t)]
    toks = _tokens(" ".join(raw[owners[-1] + 1:] if owners else raw))  # "Labour's Yvette Cooper"
    while toks and (toks[0] in _NOT_NAMES or toks[0].casefold().rstrip(".") in _HONORIFICS):
        toks.pop(0)
    titles = [i for i, t in enumerate(toks[:-1]) if _is_role_word(t)]
    if titles:
        toks = toks[titles[-1] + 1:]
    while toks and toks[0].casefold().rstrip(".") in _HONORIFICS:
        toks.pop(0)
    return " ".join(toks) or None


def _is_title(name: str) -> bool:
    """Whether a capitalised run is a title with no name: "Home Secretary", "Governor"."""
    return _is_role_word(name.split()[-1])


def _is_org(name: str) -> bool:
    toks = name.split()
    if name.casefold() in FOREIGN_PLACES:
        return True
    return any(t.casefold() in _ORG_WORDS or t.casefold() in FOREIGN_PLACES
               or (len(t) >= 2 and t.isupper()) for t in toks)


def _trailing_person(part: str) -> str | None:
    """The person a clause ends with ("... spokesperson Julie Hahn"), or None when it ends
    with a common noun ("the club"), an object ("a spokesperson for Rishi Sunak") or a list."""
    found = re.search(rf"(?<![\w’'\-])(?P<run>{_NAME})$", part.strip())
    if found is None:
        return None
    toks = _tokens(found.group("run"))
    before = part.strip()[:found.start()].split()
    prev = before[-1].casefold() if before else ""
    if prev in ("of", "for") and len(before) >= 2 and _is_role_word(before[-2]):
        # "Governor of Ohio Jane Miller": the place runs into the name; the name is the end.
        return " ".join(toks[-2:]) if len(toks) >= 3 else None
    if prev in _PREPOSITIONS:
        return None
    return _strip_titles(found.group("run"))


def _leading_person(part: str) -> str | None:
    """The person a phrase starts with or is: "Enver Solomon, chief executive of ..."."""
    found = re.match(rf"(?P<run>{_NAME})$", part.strip())
    if found is None:
        return None
    return _strip_titles(found.group("run"))


# --- speech ----------------------------------------------------------------------------

_SPEECH_VERBS = ("said", "says", "added", "adds", "told", "tells", "stated", "states",
                 "continued", "continues", "highlighted", "stressed", "noted", "explained",
                 "insisted", "admitted", "expressed", "warned", "asked", "recalled", "wrote",
                 "writes", "argued", "claimed", "commented", "replied", "responded",
                 "announced", "acknowledged", "confirmed", "declared", "urged", "tweeted",
                 "remarked", "reiterated", "emphasised", "emphasized", "conceded", "cautioned",
                 "posted")
# "issued a statement", "released a brief statement", "put out a statement"
_STATEMENT = (r"(?:issued|released|published|put\s+out|gave|made)\s+(?:a|an|the|her|his|their|its)"
              r"\s+(?:[\w\-]+\s+){0,2}?statement")
_SPEECH = rf"(?:{_STATEMENT}|went\s+on|{'|'.join(_SPEECH_VERBS)})"
# Participles speak too, but their subject is another clause's: "with Osborne saying that",
# "…,” later adding: “…”", "Duffy, speaking to reporters, …".
_PARTICIPLES = ("saying", "adding", "telling", "stating", "noting", "explaining", "arguing",
                "warning", "insisting", "claiming", "writing", "speaking", "asking", "replying",
                "responding", "stressing", "urging", "commenting")
_SPEECH_OR_PARTICIPLE = rf"(?:{_SPEECH}|{'|'.join(_PARTICIPLES)})"
_VERB = re.compile(rf"(?<![\w’'\-]){_SPEECH_OR_PARTICIPLE}(?![\w’'\-])")
# Before a verb these make it passive or subordinate: "was told", "when asked".
_NOT_SPEAKING = {"was", "were", "been", "being", "be", "is", "are", "when", "if", "as", "who",
                 "which", "that", "not"}
_ACCORDING = re.compile(r"\b[Aa]ccording\s+to\s+(?P<np>[^.;:“”\"()]+)")
_STATEMENT_OF = re.compile(rf"(?P<who>{_NAME})['’]s?\s+(?:[\w\-]+\s+)?statement\s+(?:said|says|"
                           r"added|adds|read|reads|continued|continues|stated|states|went\s+on)\b")
_INVERTED = re.compile(rf"^(?:{_SPEECH})\s+(?P<np>.+)$", re.S)
# Words that end a subject without being part of it: "Ruiz has", "Lee also",
# "Okafor on Monday evening", "Cooper in a statement".
_ADVERBIAL_END = re.compile(
    r"(?:^|,?\s+)(?:has|have|had|also|later|then|further|previously|again|earlier|once|today|"
    r"yesterday|tonight|recently|meanwhile|however|too|though|instead|in\s+turn|"
    rf"(?:on|last|this|late|early)\s+{_WEEKDAY}(?:\s+(?:morning|afternoon|evening|night))?|"
    r"in\s+(?:a|an|the|her|his|their|its)\s+(?:[\w\-]+\s+)?(?:statement|interview|letter|post|"
    r"tweet|video|speech|report)|"
    r"at\s+(?:a|the)\s+(?:[\w\-]+\s+)?(?:briefing|conference|meeting|rally|hearing|event))"
    r"\s*,?$")
# Words an attribution may hold besides the speaker, the verb and proper names:
# "told reporters on Tuesday", "said in a statement", "told the BBC in an interview".
_ATTRIBUTION_FILLER = {"statement", "interview", "reporters", "journalists", "press",
                       "conference", "briefing", "morning", "afternoon", "evening", "night",
                       "earlier", "later", "saying", "elaborating", "speaking", "asked",
                       "separately", "meanwhile", "written", "emailed", "brief", "short",
                       "issued", "released", "published", "put", "gave", "made", "read", "went",
                       "according", "yesterday", "tonight", "week", "separate"}


def _verbs(text: str) -> Iterator[re.Match[str]]:
    """The speech verbs of a clause that have a speaker ("was told" has none)."""
    for verb in _VERB.finditer(text):
        before = text[max(0, verb.start() - 40):verb.start()].split()
        if before and before[-1].casefold().strip(",") in _NOT_SPEAKING:
            continue
        yield verb


def _first_verb(text: str) -> re.Match[str] | None:
    return next(_verbs(text), None)


# A clause before the main one: "When an aide asked what Duffy had said, Brown responded".
_SUBORDINATE_LEAD = re.compile(r"^(?:When|While|After|Before|As|Once|If|Although|Though|"
                               r"Since|Because|Until|Unless)\b[^,;:“”\"]*,\s+")
# "with Shadow chancellor George Osborne saying that …": the participle's own subject.
_WITH_PARTICIPLE = re.compile(rf"\bwith\s+(?P<np>[^,;:“”\"]{{1,80}}?)\s+"
                              rf"(?:{'|'.join(_PARTICIPLES)})\b")


def _np_person(np: str) -> str | None:
    """Who a noun phrase after "said" or "according to" names."""
    np, prev = np.strip(" ,.;:"), None
    while prev != np:  # "said Tom Holt on Monday", "said Ruiz in a statement"
        prev, np = np, _ADVERBIAL_END.sub("", np).strip(" ,.;:")
    parts = [p.strip() for p in re.split(r",\s*", np) if p.strip()]
    if not parts:
        return None
    first = _leading_person(parts[0])
    if first:
        return first
    if len(parts) >= 2:
        second = _leading_person(parts[1])
        if second:
            return second  # "the chief executive of the Refugee Council, Enver Solomon"
    return _trailing_person(parts[0])


def _subject(before: str) -> str | None:
    """The speaker a clause names before its verb: "Ana Ruiz", "Haddad, who signed ...,",
    "The chief executive of X, Enver Solomon,", "In a statement, Ruiz", "he"."""
    text, prev = before.rstrip(), None
    while prev != text:
        prev, text = text, _ADVERBIAL_END.sub("", text).rstrip()
    appositive = text.endswith(",")
    parts = [p.strip() for p in re.split(r",\s+", text.rstrip(" ,")) if p.strip()]
    if not parts:
        return None
    if re.search(r"(?:^|\s)(?:and|but)$", text):
        # "Duffy, speaking to reporters, described Brown as …, but later said": one
        # subject for both verbs, the name the clause opens with.
        opening = _RUN.match(text)
        return _strip_titles(opening.group(0)) if opening else None
    last = parts[-1]
    if last.casefold() in _PRONOUNS:
        return last.casefold()
    if appositive and len(parts) >= 2:
        whole = _leading_person(last)
        if whole:
            return whole
        for part in reversed(parts[:-1]):
            whole = _leading_person(part)
            if whole:
                return whole  # "Mei Chen, Larkspur's co-founder and chief executive,"
        return _trailing_person(parts[0])
    return _trailing_person(last)


def _speaks(text: str) -> bool:
    """Whether a clause is speech at all (said, told, according to, a statement ...)."""
    return bool(_first_verb(text) or _ACCORDING.search(text) or _STATEMENT_OF.search(text))


def _speaker_phrase(text: str) -> str | None:
    """The surface name (or pronoun) of whoever speaks in a clause or sentence, or None."""
    text = text.strip(" \n,;:—–-")
    head = _INVERTED.match(text)
    if head:
        return _np_person(head.group("np"))  # ", said Haddad", "added Lee"
    lead = _SUBORDINATE_LEAD.match(text)
    if lead and _first_verb(text[lead.end():]):
        text = text[lead.end():]
    with_participle = _WITH_PARTICIPLE.search(text)
    if with_participle:
        who = _trailing_person(with_participle.group("np"))
        if who:
            return who
    statement = _STATEMENT_OF.search(text)
    verb = _first_verb(text)
    according = _ACCORDING.search(text)
    if statement and (verb is None or statement.start() <= verb.start()):
        return _strip_titles(statement.group("who"))  # "Ruiz's statement added"
    if according and (verb is None or according.start() < verb.start()):
        return _np_person(according.group("np"))
    for verb in _verbs(text):
        if verb.start() > 240:
            break
        participle = verb.group(0) in _PARTICIPLES
        if not participle and text[:verb.start()].rstrip().endswith(","):
            # "The plan would work, said Environment Minister Ian Holt."
            inverted = _np_person(text[verb.end():])
            if inverted:
                return inverted
        subject = _subject(text[:verb.start()])
        if subject or not participle:
            return subject
        # "Speaking to reporters, Lee said": the participle's subject comes later.
    return None


def _participle_only(text: str) -> bool:
    """Whether a clause speaks only through a participle with no subject of its own:
    "later adding", "saying"."""
    verbs = list(_verbs(text))
    return bool(verbs) and all(v.group(0) in _PARTICIPLES for v in verbs) \
        and _speaker_phrase(text) is None


def _attribution_only(text: str) -> bool:
    """Whether a clause only says who speaks ("Culture Secretary Maya Linton told GB News",
    "In a statement, Ruiz said"), with nothing of its own worth quoting."""
    leftover = 0
    for raw in re.findall(r"[\w’'\-]+", text):
        w = raw.casefold()
        if raw[:1].isupper() or w in STOPWORDS or w in _ATTRIBUTION_FILLER \
                or w in _SPEECH_VERBS or w in _PARTICIPLES or w in _PRONOUNS \
                or _is_role_word(w) or w.isdigit():
            continue
        leftover += 1
    return leftover <= 1


# --- sentences and quotations ------------------------------------------------------

_OPEN = "“\""
_CLOSE = "”\""
_ABBREV = {"mr", "mrs", "ms", "dr", "prof", "st", "jr", "sr", "no", "vs", "inc", "ltd", "co",
           "corp", "gen", "gov", "sen", "rep", "jan", "feb", "mar", "apr", "jun", "jul", "aug",
           "sep", "sept", "oct", "nov", "dec", "mt", "ft", "approx", "etc", "e.g", "i.e", "u.s",
           "u.k", "u.n", "e.u", "u.s.a"}


@dataclass(frozen=True, slots=True)
class Sentence:
    """One quotable piece of the article: a narrative sentence or a quoted one."""

    text: str  # verbatim; one line; quotation marks and attribution cut off
    line: int  # where it starts in the article
    paragraph: int
    speaker: str | None = None  # full name as the article spells it, titles left out
    quotation: int | None = None  # sentences of one quotation share this number


@dataclass
class _Piece:
    text: str
    start: int
    quoted: bool
    qid: int | None


@dataclass
class _Raw:
    text: str
    start: int
    paragraph: int
    qid: int | None
    who: str | None = None  # surface name or pronoun that says it, before resolution


@dataclass
class _Quotes:
    """What the sentences say about each quotation and paragraph, before resolution."""

    said_by: dict[int, str | None] = field(default_factory=dict)  # None: said, by nobody named
    opens: dict[int, int] = field(default_factory=dict)  # quotation -> paragraph it opens
    first_paragraph: dict[int, int] = field(default_factory=dict)
    lead_in: dict[int, str | None] = field(default_factory=dict)  # paragraph ending "X said:"
    same_as: dict[int, int] = field(default_factory=dict)  # "…,” later adding: “…”"


def _is_closing(text: str, j: int) -> bool:
    """A reversed “ used as a closing mark: after a word, before a space or punctuation."""
    return j > 0 and not text[j - 1].isspace() and (j + 1 == len(text)
                                                    or not text[j + 1].isalnum())


def _is_opening(text: str, j: int) -> bool:
    """A reversed ” used as an opening mark: after a space, before a word."""
    return (j == 0 or text[j - 1].isspace()) and j + 1 < len(text) and text[j + 1].isalnum()


def _quote_spans(paras: list[Paragraph], quotes: _Quotes) -> list[list[_Piece]]:
    """Quoted and unquoted stretches of every paragraph; quotations may span paragraphs."""
    out: list[list[_Piece]] = []
    open_qid: int | None = None
    next_qid = 0
    for index, para in enumerate(paras):
        text = para.text
        pieces: list[_Piece] = []
        i = 0
        if open_qid is not None and text[:1] in _OPEN:
            i = 1  # news style: a continued quotation reopens with a mark
        else:
            open_qid = None
        start = i
        lead = len(text) - len(text.lstrip())
        for j in range(i, len(text)):
            ch = text[j]
            if open_qid is not None and (ch in _CLOSE or (ch == "“" and _is_closing(text, j))):
                pieces.append(_Piece(text[start:j], para.start + start, True, open_qid))
                open_qid, start = None, j + 1
            elif open_qid is None and (ch in _OPEN or (ch == "”" and _is_opening(text, j))):
                pieces.append(_Piece(text[start:j], para.start + start, False, None))
                open_qid, next_qid, start = next_qid, next_qid + 1, j + 1
                quotes.first_paragraph[open_qid] = index
                if j <= lead:
                    quotes.opens[open_qid] = index
        pieces.append(_Piece(text[start:], para.start + start, open_qid is not None, open_qid))
        out.append([p for p in pieces if p.text.strip()])
    return out


def _sentence_ends(text: str) -> list[int]:
    """Offsets where sentences end in a paragraph; a closing mark, straight, curly or
    reversed, ends the sentence with the full stop it follows."""
    ends: list[int] = []
    for match in re.finditer(r"[.!?][”“\"’)]*(?=\s+[“\"A-Z0-9])", text):
        before = re.search(r"([\w.]+)[.!?]$", text[max(0, match.start() - 40):match.start() + 1])
        token = before.group(1).casefold() if before else ""
        if token in _ABBREV or re.fullmatch(r"[a-z]", token):
            continue
        ends.append(match.end())
    ends.append(len(text))
    return ends


def _trim(text: str, start: int) -> tuple[str, int]:
    """Strip spaces and the punctuation a quotation or clause leaves at its edges."""
    lead = len(text) - len(text.lstrip(" \n,;:—–-"))
    text = text[lead:]
    text = text.rstrip(" \n,;:—–")
    return text, start + lead


def _word_count(text: str) -> int:
    return len(words(text))


def _raw_sentences(paras: list[Paragraph], outlet: str | None = None
                   ) -> tuple[list[_Raw], _Quotes]:
    """Facts before speaker resolution, and what attributes each quotation. ``outlet`` is
    the article's own: "…,” Lee told Bernama" says no more than "…,” Lee said" there."""
    ours = frozenset(w.casefold() for w in re.findall(r"[\w’'\-]+", outlet or ""))
    quotes = _Quotes()
    spans = _quote_spans(paras, quotes)
    facts: list[_Raw] = []
    for index, (para, pieces) in enumerate(zip(paras, spans, strict=True)):
        offset = 0
        ends = _sentence_ends(para.text)
        first = 0  # the first piece that may reach into this sentence: both are in order
        for end in ends:
            s_start, s_end = para.start + offset, para.start + end
            offset = end
            parts = []
            while first < len(pieces) and pieces[first].start + len(pieces[first].text) <= s_start:
                first += 1
            for n in range(first, len(pieces)):  # no slice: a copy per sentence is quadratic
                p = pieces[n]
                if p.start >= s_end:
                    break
                a, b = max(p.start, s_start), min(p.start + len(p.text), s_end)
                if b > a:
                    parts.append(_Piece(p.text[a - p.start:b - p.start], a, p.quoted, p.qid))
            sentence_text = para.text[s_start - para.start:s_end - para.start]
            found = _classify(parts, sentence_text, s_start, index, quotes, ours)
            if end == ends[-1] and sentence_text.rstrip().endswith(":") and found \
                    and found[-1].qid is None and index + 1 < len(paras) \
                    and paras[index + 1].text[:1] in _OPEN:
                # "Finch told the BBC:" and the quotation opens the next paragraph.
                lead = found[-1]
                quotes.lead_in[index] = lead.who if _speaks(lead.text) else None
                if _speaks(lead.text) and _attribution_only(lead.text):
                    found = found[:-1]
            facts.extend(found)
    return facts, quotes


def _classify(parts: list[_Piece], sentence: str, start: int, paragraph: int,
              quotes: _Quotes, outlet: frozenset[str] = frozenset()) -> list[_Raw]:
    """Cut one sentence into facts: quoted pieces, lead-ins, or the whole narrative sentence.

    An attribution that only says who speaks ("…,” Baird said.", "Lee told reporters:")
    is no fact; one that says more ("…,” she said, but refused to give any more details",
    "…,” she said in an interview with the BBC", "Liberal Democrat leader Nick Clegg said:
    “…”") keeps the sentence whole, within the quote limit."""
    whole = _trim(sentence, start)
    if not any(p.quoted and words(p.text) for p in parts):
        if not words(whole[0]):
            return []
        who = _speaker_phrase(whole[0]) if _speaks(whole[0]) else None
        return [_Raw(whole[0], whole[1], paragraph, None, who)]
    roles: list[tuple[_Piece, str, str | None]] = []  # piece, role, who
    for n, part in enumerate(parts):
        if part.quoted or not words(part.text):
            roles.append((part, "quote" if part.quoted else "empty", None))
            continue
        text = _trim(part.text, part.start)[0]
        after_quote = n > 0 and parts[n - 1].quoted
        before_quote = n + 1 < len(parts) and parts[n + 1].quoted
        ending = part.text.rstrip()[-1:]
        # A quotation the clause attributes ends with its punctuation or is followed by a
        # comma or dash: "“We will act,” she said", "“We will act”, she said"; not the
        # scare quotes of "the “stop the boats” pledge, which Sunak said ...".
        closed = after_quote and (re.search(r"[,.!?—–-]\s*$", parts[n - 1].text)
                                  or re.match(r"^\s*[,—–]", part.text))
        if closed and before_quote and ending == ":" and _participle_only(text) \
                and _attribution_only(text):
            # "“…,” later adding: “…”": whoever said the first quotation says the second.
            roles.append((part, "link", None))
        elif closed and (re.match(rf"^\W*(?:\S+\s+){{0,12}}?(?:{_SPEECH})\b", text)
                         or re.match(r"^\W*according\s+to\b", text)):
            # "…,” Lee told Bernama in conjunction with …", "…,” said Haddad."
            roles.append((part, "attribution", _speaker_phrase(text)))
        elif before_quote and ending in ":," and (_speaks(text) or ending == ":"):
            # "He added that losing Whitcombe was a blow: “…”", "According to Ruiz, “…”"
            roles.append((part, "lead", _speaker_phrase(text) if _speaks(text) else None))
        else:
            # Narrative text around short quotations: keep the sentence whole.
            who = _speaker_phrase(whole[0]) if _speaks(whole[0]) else None
            return [_Raw(whole[0], whole[1], paragraph, None, who)]
    # Who says each quotation, most certain first: an attribution after it, a lead-in
    # naming someone, a lead-in that speaks but names nobody ("A spokesman said:"), a
    # colon after narration ("… picked up the conversation that followed:").
    claims: dict[int, tuple[int, str | None]] = {}
    join_who: list[str | None] = []  # speakers of the clauses that keep the sentence whole
    pieces: list[_Raw] = []  # the facts when the sentence is not kept whole
    # The quotation before and after each piece, read in two passes (a sentence may hold
    # thousands of them: looking around from each would be quadratic).
    before_q: list[int | None] = []
    last: int | None = None
    for part, role, _ in roles:
        before_q.append(last)
        last = part.qid if role == "quote" else last
    after_q: list[int | None] = []
    last = None
    for part, role, _ in reversed(roles):
        after_q.append(last)
        last = part.qid if role == "quote" else last
    after_q.reverse()
    for n, (part, role, who) in enumerate(roles):
        text, at = _trim(part.text, part.start)
        prev_q, next_q = before_q[n], after_q[n]
        if role == "quote":
            if words(text):
                pieces.append(_Raw(text, at, paragraph, part.qid))
        elif role == "link":
            if prev_q is not None and next_q is not None:
                quotes.same_as[next_q] = prev_q
        elif role == "attribution":
            qid = prev_q if prev_q is not None else next_q
            if qid is not None and claims.get(qid, (-1, None))[0] < 3:
                claims[qid] = (3, who)
            if _says_more(text, outlet) or (who is None and _describes_someone(text)):
                join_who.append(who)
                if not _attribution_only(text):
                    pieces.append(_Raw(text, at, paragraph, None, who))
        elif role == "lead":
            speaks = _speaks(text)
            if next_q is not None:
                rank = 2 if who else 1 if speaks else 0
                if claims.get(next_q, (-1, None))[0] < rank:
                    claims[next_q] = (rank, who)
            if not part.text.rstrip().endswith(":"):
                continue  # "According to Ruiz, “…”"
            if speaks and _attribution_only(text) and not _SUBORDINATE_LEAD.match(text):
                if who is None and _describes_someone(text):
                    join_who.append(who)  # "A spokesman for Brown said: “…”": nobody else says
                continue  # "In a statement, Ruiz said: “…”": the speaker line says it
            if speaks and re.search(rf"(?:{_SPEECH})$", text):
                # "When an aide asked what Duffy had said, Brown responded: “…”": a clause
                # of its own, then who speaks; cut there, neither part stands alone.
                join_who.append(who)
            else:
                pieces.append(_Raw(text, at, paragraph, None, who))
    for qid, (_, who) in claims.items():
        quotes.said_by.setdefault(qid, who)
    if join_who and len(re.sub(r"\s+", " ", whole[0])) <= MAX_QUOTE:
        return [_Raw(whole[0], whole[1], paragraph, None, join_who[0])]
    return pieces


# Words an attribution may hold without saying anything more than who speaks.
_BARE_ATTRIBUTION = _ATTRIBUTION_FILLER | {
    "him", "her", "them", "me", "us", "later", "also", "then", "again", "further", "once",
    "simply", "just", "quietly", "firmly", "monday", "tuesday", "wednesday", "thursday",
    "friday", "saturday", "sunday"}


def _describes_someone(text: str) -> bool:
    """Whether an attribution naming nobody says who speaks ("a spokesman for Brown said",
    "said one passenger"), rather than only that someone does ("later adding")."""
    return any(w not in STOPWORDS and w not in _BARE_ATTRIBUTION and w not in _SPEECH_VERBS
               and w not in _PARTICIPLES and w not in _PRONOUNS and not w.isdigit()
               for w in (raw.casefold() for raw in re.findall(r"[\w’'\-]+", text)))


def _says_more(text: str, outlet: frozenset[str] = frozenset()) -> bool:
    """Whether an attribution after a quotation says more than who speaks: an occasion,
    an outlet other than the article's, an act ("…,” she said in an interview with the
    BBC", "…,” she said, but refused …"), not only "Baird said", "said one passenger" or
    "said Margaret Doyle, the club historian"."""
    verb = _first_verb(text)
    if verb is None:
        return not _attribution_only(text)
    rest = text[verb.end():]
    if not words(text[:verb.start()]):
        # "said Mei Chen, Larkspur's co-founder": the speaker and their role follow the verb.
        more = re.search(r",?\s+(?:but|and|who|which|whose|in|at|on|during|after|before|"
                         r"while|as|when|with|adding|saying)\s", rest)
        rest = rest[more.start():] if more else ""
    for raw in re.findall(r"[\w’'\-]+", rest):
        w = raw.casefold()
        if w in outlet or w in STOPWORDS or w in _BARE_ATTRIBUTION or w in _SPEECH_VERBS \
                or w in _PARTICIPLES or w in _PRONOUNS or w in _HONORIFICS or _is_role_word(w):
            continue
        return True
    return False


# --- who speaks -------------------------------------------------------------------------


def _people(article: str) -> tuple[Counter[str], set[str]]:
    """Full names of the people the article mentions (titles left out), with how often,
    and the words of organisations' names."""
    flat = re.sub(r"\s+", " ", article)
    people: Counter[str] = Counter()
    org_words: set[str] = set()
    for match in _RUN.finditer(flat):
        run = match.group(0)
        before = flat[max(0, match.start() - 80):match.start()].split()[-2:]
        if len(before) == 2 and before[1] in ("of", "for") and _is_role_word(before[0]):
            toks = _tokens(run)  # "Governor of Ohio Jane Miller"
            run = " ".join(toks[-2:]) if len(toks) >= 3 else ""
        name = _strip_titles(run)
        if not name or _is_title(name):
            continue
        if _is_org(name):
            org_words.update(t for t in name.split() if t.casefold() not in _ORG_WORDS)
        elif len(name.split()) >= 2:
            people[name] += 1
    return people, org_words


# Words that say whether a person is a man or a woman, in front of their name.
_SEX_WORDS = {"mr": "m", "sir": "m", "lord": "m", "spokesman": "m", "chairman": "m",
              "congressman": "m", "businessman": "m", "mrs": "f", "ms": "f", "miss": "f",
              "dame": "f", "lady": "f", "baroness": "f", "spokeswoman": "f", "chairwoman": "f",
              "congresswoman": "f", "businesswoman": "f"}


_SEX_NAME = re.compile(rf"\b((?i:{'|'.join(_SEX_WORDS)}))\.?\s+"
                       r"((?:[A-Z][\w\-]*\s+)?[A-Z][\w\-]*)\b")


class _Resolver:
    """Surface names to full names: "Baird" -> "John Baird"; organisations -> None."""

    def __init__(self, article: str, strong: set[str]) -> None:
        self.people, self.org_words = _people(article)
        self.lower = {w.casefold() for w in re.findall(r"(?<![.!?]\s)\b[a-z][\w\-]*", article)}
        self.strong = strong  # single names the article attributes a quotation to
        self.flat = re.sub(r"\s+", " ", article)
        # Both read in one pass over the article, whatever the number of people in it.
        self._titles: dict[str, set[str]] = defaultdict(set)
        for match in _RUN.finditer(self.flat):
            name = _strip_titles(match.group(0))
            at = match.group(0).find(name) if name else -1
            if name and at >= 0:
                start = match.start() + at
                title = _title_before(self.flat[max(0, start - 200):start])
                if title:
                    self._titles[name].add(title.casefold())
        self._said_sex: dict[str, set[str]] = defaultdict(set)
        for match in _SEX_NAME.finditer(self.flat):
            toks = match.group(2).split()
            for key in (toks[-1], " ".join(toks)):
                self._said_sex[key].add(_SEX_WORDS[match.group(1).casefold()])

    def titles(self, person: str) -> set[str]:
        """The titles the article puts in front of a person's name, folded."""
        return self._titles.get(person, set())

    def sex(self, person: str) -> str | None:
        """"m" or "f" when the article says so ("Mr Brown", "Mrs Duffy", "spokeswoman
        Sujata Raisinghani"), else None (also when it says both)."""
        said = self._said_sex.get(person, set()) | self._said_sex.get(person.split()[-1], set())
        said |= {_SEX_WORDS[w] for t in self.titles(person) for w in t.split()
                 if w in _SEX_WORDS}
        return next(iter(said)) if len(said) == 1 else None

    def __call__(self, surface: str | None) -> str | None:
        if not surface or surface.casefold() in _PRONOUNS:
            return None
        name = _strip_titles(surface)
        if name and _is_title(name):
            # "The Home Secretary added": the one person the article gives that title.
            titled = {p for p in self.people if name.casefold() in self.titles(p)}
            return titled.pop() if len(titled) == 1 else None
        if not name or _is_org(name):
            return None
        toks = name.split()
        if len(toks) >= 2:
            return name
        if toks[0] in self.org_words:
            return None  # "Larkspur" of "Larkspur Robotics" is a company
        # "Lee" is "Lee Chi-beom", "Chen" is "Mei Chen": the longer name that holds it.
        holders = [p for p in self.people if toks[0] in p.split()]
        if holders:
            return max(holders, key=lambda p: (self.people[p], -len(p)))
        if surface in self.strong and name not in _NOT_NAMES and name.casefold() not in self.lower:
            return name
        return None


# A part of a cut sentence says something on its own only with a few words.
_MIN_PART_WORDS = 5


def _clause_cuts(text: str) -> list[int]:
    """Where a sentence may be cut with both parts whole: after "; ", after ": " before a
    quotation, at a lone dash (a pair of dashes sets off an aside, which is no clause)."""
    cuts = [m.end() for m in re.finditer(r";\s+", text)]
    cuts += [m.end() for m in re.finditer(r":\s+(?=[“\"])", text)]
    dashes = list(re.finditer(r"\s[—–-]{1,2}\s", text))
    if len(dashes) == 1:
        cuts.append(dashes[0].start())
    return sorted(cuts)


def _split_long(text: str, start: int) -> list[tuple[str, int]]:
    """Cut a sentence over the quote limit at clause boundaries only (``_clause_cuts``),
    each piece verbatim, within the limit and of at least a few words; [] when it cannot
    be cut so (a cut at a comma would split "However, ..." from its sentence). Pieces are
    as in the article (line breaks kept), with their offsets there.

    Two pieces are cut nearest the middle; a longer sentence is cut greedily, each piece
    as long as it may be, so that the work stays linear in the sentence's length."""
    if len(_one_line(text)) <= MAX_QUOTE:
        return [(text, start)]
    cuts = _clause_cuts(text)

    def fits(a: int, b: int) -> bool:
        piece = text[a:b].strip(" \n,;:—–-")
        return len(_one_line(piece)) <= MAX_QUOTE and _word_count(piece) >= _MIN_PART_WORDS

    halves = sorted((c for c in cuts if len(text) <= 4 * MAX_QUOTE and fits(0, c)
                     and fits(c, len(text))), key=lambda c: abs(c - len(text) / 2))
    chosen = halves[:1]
    if not chosen:
        at, n = 0, 0
        while not (len(text) - at <= 2 * MAX_QUOTE and fits(at, len(text))):
            best = None
            while n < len(cuts) and cuts[n] - at <= 2 * MAX_QUOTE:
                if cuts[n] > at and fits(at, cuts[n]):
                    best = n  # the farthest cut that still fits
                n += 1
            if best is None:
                return []
            chosen.append(cuts[best])
            at, n = cuts[best], best + 1
    out: list[tuple[str, int]] = []
    for a, b in zip([0, *chosen], [*chosen, len(text)], strict=True):
        out.append(_trim(text[a:b], start + a))
    return out


# Words that make a capitalised run a place or a people: "South Korea", "Eastern Europeans".
_PLACE_WORDS = {"north", "south", "east", "west", "eastern", "western", "northern", "southern",
                "central", "greater", "upper", "lower"}


# How many facts back, at most, a pronoun's person may be named (in this paragraph and
# the one before), and how many facts a paragraph may hold to have one voice: farther,
# and "he said" or an unattributed quotation is nobody's for certain. It also bounds the
# work per fact, whatever the length of a paragraph.
_PRONOUN_REACH = 40


def _mentions(fact: _Raw, resolve: _Resolver) -> list[str]:
    """The people a narrative fact names, in order, up to its speaker's pronoun."""
    text = _unquoted(fact.text)
    if fact.who and fact.who.casefold() in _PRONOUNS:
        at = re.search(rf"\b{fact.who}\b", text, re.I)
        text = text[:at.start()] if at else text
    out = []
    for match in _RUN.finditer(text):
        if any(t.casefold() in _PLACE_WORDS for t in match.group(0).split()):
            continue
        who = resolve(match.group(0)) or _maybe_person(match.group(0))
        if who:
            out.append(who)
    return out


def _maybe_person(run: str) -> str | None:
    """A name that may be a person's though the resolver reads it as a place or a firm
    ("Dev Lane", "Ann Hall"): one more candidate for "he said" makes it nobody's, which
    is safer than making it the wrong person's."""
    name = _strip_titles(run) or ""
    toks = name.split()
    if not 2 <= len(toks) <= 3 or not all(t.isalpha() and t.istitle() for t in toks):
        return None
    folded = [t.casefold() for t in toks]
    if toks[0] in _NOT_NAMES or name.casefold() in FOREIGN_PLACES \
            or any(t in FOREIGN_PLACES for t in folded) \
            or any(t in _ORG_WORDS for t in folded[:-1]) \
            or (folded[-1] in _ORG_WORDS and (len(toks) > 2 or folded[-1] not in _SURNAMES)):
        return None  # "Environment Canada", "Sky News", "Korean Cultural Centre"
    return name


# Words of firms and places that are also surnames: "Dev Lane", "Ann Hall".
_SURNAMES = {"hall", "park", "lane", "street", "house", "bay", "lake", "rivers", "bank",
             "court", "sound", "ground", "square", "league"}


def _unquoted(text: str) -> str:
    """Narration only: the text with what stands inside quotation marks blanked out."""
    return re.sub(r"“[^”]*(?:”|$)|\"[^\"]*(?:\"|$)", " ", text)


def split_article(article: str) -> list[Sentence]:
    """The article's quotable sentences, in order, each with its speaker where known."""
    return _split(article)[0]


def _split(article: str) -> tuple[list[Sentence], list[str]]:
    """Sentences, and notes on the sentences left out."""
    header, body = _parse_header(paragraphs(article))
    body = [p for n, p in enumerate(body) if not (n + 1 < len(body) and _is_heading(p.text))]
    raw, quotes = _raw_sentences(body, header.outlet)
    strong = {w for w in quotes.said_by.values() if w}
    resolve = _Resolver(article, strong)
    by_paragraph: dict[int, list[int]] = defaultdict(list)
    for i, f in enumerate(raw):
        by_paragraph[f.paragraph].append(i)
    # People the narration names (a name inside a quotation is no antecedent of "he said"),
    # up to the pronoun that says who speaks, if any ("He added as South Korea …").
    mentions = [[] if f.qid is not None else _mentions(f, resolve) for f in raw]
    speakers: list[str | None] = [None] * len(raw)

    def person(surface: str | None, i: int) -> str | None:
        if surface and surface.casefold() in _PRONOUNS:
            return antecedent(surface.casefold(), i)
        return resolve(surface)

    def antecedent(pronoun: str, i: int) -> str | None:
        """"he said": the one man (or person whose sex the article does not give) named
        in this paragraph up to here or in the one before; None when there are more, or
        for "they"."""
        if pronoun not in ("he", "she"):
            return None
        sex = "m" if pronoun == "he" else "f"
        here = raw[i].paragraph
        first = (by_paragraph.get(here - 1) or by_paragraph[here])[0]
        if i - first >= _PRONOUN_REACH:
            return None  # paragraphs too long to say who is meant
        found: set[str] = set()
        for j in range(first, i + 1):
            said = speakers[j]
            named = [*mentions[j], *([said] if j != i and said else [])]
            found.update(p for p in named if resolve.sex(p) in (None, sex))
        return found.pop() if len(found) == 1 else None

    by_quote: dict[int, str | None] = {}
    for paragraph in sorted(by_paragraph):
        here = by_paragraph[paragraph]
        for i in here:  # first what the article says outright, in order
            fact = raw[i]
            if fact.qid is not None:
                if fact.qid not in by_quote and fact.qid in quotes.said_by:
                    by_quote[fact.qid] = person(quotes.said_by[fact.qid], i)
                speakers[i] = by_quote.get(fact.qid)
            else:
                speakers[i] = person(fact.who, i)
        for i in here:  # then quotations that name nobody, from their surroundings
            qid = raw[i].qid
            if qid is None or qid in quotes.said_by:
                continue
            if qid not in by_quote:
                if qid in quotes.same_as:  # "“…,” later adding: “…”"
                    by_quote[qid] = by_quote.get(quotes.same_as[qid])
                else:
                    by_quote[qid] = _unattributed(qid, raw, speakers, quotes, resolve,
                                                  by_paragraph)
            speakers[i] = by_quote[qid]
    newlines = [m.start() for m in re.finditer("\n", article)]

    def line_of(at: int) -> int:
        return bisect.bisect_left(newlines, at) + 1

    out: list[Sentence] = []
    notes: list[str] = []
    prev_end = 0  # where the last sentence ends in the article
    for fact, speaker in zip(raw, speakers, strict=True):
        pieces = _split_long(fact.text, fact.start)
        if not pieces:
            text = _one_line(fact.text)
            notes.append(f"left out: article line {line_of(fact.start)} is {len(text)} "
                         f"characters, over the {MAX_QUOTE} limit, and has no clause boundary "
                         f"('; ', ': ' before a quotation, a lone dash) to cut it at: "
                         f"{text[:60]!r}")
        for raw_piece, at in pieces:
            piece = _one_line(raw_piece)
            # Glue a very short quoted sentence ("That hurts.") to the one before it,
            # when only spaces lie between them in the article.
            if out and fact.qid is not None and out[-1].quotation == fact.qid \
                    and _word_count(piece) < 5:
                prev = out[-1]
                if not article[prev_end:at].strip() \
                        and len(prev.text) + 1 + len(piece) <= MAX_QUOTE:
                    out[-1] = Sentence(f"{prev.text} {piece}", prev.line, prev.paragraph,
                                       prev.speaker, prev.quotation)
                    prev_end = at + len(raw_piece)
                    continue
            out.append(Sentence(piece, line_of(at), fact.paragraph, speaker, fact.qid))
            prev_end = at + len(raw_piece)
    return out, notes


def _one_line(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def _unattributed(qid: int, raw: list[_Raw], speakers: list[str | None], quotes: _Quotes,
                  resolve: _Resolver, by_paragraph: dict[int, list[int]]) -> str | None:
    """The speaker of a quotation that names none, from its paragraph or the one before;
    None when neither says it for certain."""
    paragraph = quotes.first_paragraph[qid]
    if len(by_paragraph.get(paragraph, ())) > _PRONOUN_REACH:
        return None  # a paragraph too long to have one voice
    here = [i for i in by_paragraph.get(paragraph, ()) if raw[i].qid != qid]
    # "“…,” Pryce told Northline Sport. “We came here to win …”": the paragraph's one voice.
    unnamed = [q for q in (raw[i].qid for i in here) if q is not None
               and q in quotes.said_by and quotes.said_by[q] is None]
    if not unnamed:
        voices = {speakers[i] for i in here} - {None}
        if len(voices) == 1 and any(raw[i].qid is not None or raw[i].who for i in here):
            return voices.pop()
    if quotes.opens.get(qid) != paragraph:
        return None
    # "Finch told the BBC:" closing the paragraph before.
    if paragraph - 1 in quotes.lead_in:
        return resolve(quotes.lead_in[paragraph - 1]) if quotes.lead_in[paragraph - 1] \
            else None
    # The paragraph before is one person's speech, whole ("Okafor issued a statement.",
    # "“…,” Reyes said."): a quotation opening the next paragraph goes on with it. Any
    # other paragraph in between, or another voice in it, and the quotation stays unsigned.
    before = by_paragraph.get(paragraph - 1, [])
    voices = {speakers[i] for i in before}
    if before and len(voices) == 1 and None not in voices:
        return speakers[before[-1]]
    return None


# --- speakers' roles -------------------------------------------------------------


def _role_ok(role: str) -> bool:
    return any(_is_role_word(t) for t in re.split(r"[\s’']+", role)) \
        and len(role.split()) <= 12


# A role after the name: "Mei Chen, Larkspur's co-founder and chief executive."
_ROLE_AFTER = re.compile(r", (?P<role>[^,.;“”\"]{3,80}?)[,.;]")
# A role before it: "South Korea’s ambassador to Malaysia, Lee Chi-beom said", "The chief
# executive of the Refugee Council, Enver Solomon, said" (at the start of a window of text).
_ROLE_BEFORE = re.compile(r"(?:[.!?”\"]\s|, |\bsaid |\bto )(?P<role>[^,.;:“”\"]{2,80}), $")
_ROLE_BEFORE_AT_START = re.compile(r"(?:^|[.!?”\"]\s|, |\bsaid |\bto )"
                                   r"(?P<role>[^,.;:“”\"]{2,80}), $")


def speaker_role(article: str, name: str) -> str | None:
    """The role the article gives a speaker, cut verbatim from it, or None. The first
    mention with a role wins."""
    return speaker_roles(article, [name])[name]


def speaker_roles(article: str, names: Iterable[str]) -> dict[str, str | None]:
    """``speaker_role`` for each of ``names``, reading the article once for all of them:
    each mention is looked at within a few words around it."""
    flat = re.sub(r"\s+", " ", article)
    found_for: dict[str, list[tuple[int, str]]] = {name: [] for name in names}
    wanted = sorted(found_for, key=len, reverse=True)  # "Lee Chi-beom" before "Lee"
    mentions = re.finditer(rf"\b(?:{'|'.join(re.escape(n) for n in wanted)})\b", flat) \
        if wanted else iter(())
    for mention in mentions:
        found = found_for[mention.group(0)]
        at = mention.start()
        after = _ROLE_AFTER.match(flat, mention.end())
        if after:
            role = after.group("role").strip()
            first = role.split()[0] if role else ""
            if role and first not in ("who", "which", "whose", "said", "told", "says",
                                      "aged") and not role.isdigit() and (
                    first[0].islower() or "'s " in role or "’s " in role
                    or _role_ok(role)):
                found.append((at, role))
        window = max(0, at - 100)
        before = (_ROLE_BEFORE_AT_START if window == 0 else _ROLE_BEFORE).search(
            flat[window:at])
        if before:
            role = re.sub(rf"^(?:[Aa]ccording\s+to\s+|(?:{_SPEECH})\s+)?(?:[Tt]he|[Aa]n?)\s+",
                          "", before.group("role").strip())
            if role and _role_ok(role) and any(w[0].islower() for w in role.split()):
                found.append((window + before.start("role"), role))
        # "Environment Minister John Baird", "Governor of Ohio Jane Miller",
        # "Harbourside manager Elena Marsh", "according to port manager Linh Tran"
        title = _title_before(flat[max(0, at - 200):at])
        if title:
            found.append((at - len(title), title))
    return {name: min(found)[1] if found else None for name, found in found_for.items()}


def _title_before(text: str) -> str | None:
    """The role words right in front of a name, verbatim, or None."""
    toks = re.findall(r"\S+", text[-120:])
    taken: list[str] = []
    for tok in reversed(toks):
        bare = tok.strip()
        if re.search(r"[,.;:!?”“\"()]$", bare) or re.match(r"^[“\"(]", bare) \
                or not re.search(r"\w", bare) or any(c.isdigit() for c in bare):
            break  # "2010 UK Prime Minister": the date line ends before the title
        low = bare.casefold()
        if low in ("of", "for") and taken and taken[-1][:1].isupper():
            taken.append(bare)  # "Governor of Ohio", "Minister for Housing"
            continue
        if low in STOPWORDS or low in _SPEECH_VERBS:
            break
        taken.append(bare)
    taken.reverse()
    # Leading words that describe the action, not the person: "sending goalkeeper X".
    while taken and not taken[0][:1].isupper() and not _is_role_word(taken[0]) \
            and (taken[0].endswith(("ing", "ed")) or len(taken) == 1):
        taken.pop(0)
    while taken and taken[0].casefold() in ("of", "for"):
        taken.pop(0)
    role = " ".join(taken)
    if not role or not _role_ok(role) or any(c.isdigit() for c in role):
        return None
    return role


# --- topics ------------------------------------------------------------------------

FACTS_PER_TOPIC = 4  # a draft topic's size; a curator merges or splits from there
KEYWORDS_PER_TOPIC = 12
# Words that say nothing about what a topic is about.
_WEAK = set(_SPEECH_VERBS) | {
    "year", "years", "week", "weeks", "time", "first", "last", "one", "two", "three", "four",
    "five", "six", "seven", "eight", "nine", "ten", "new", "today", "day", "days", "month",
    "months", "per", "cent", "percent", "since", "still", "around", "next", "told", "make",
    "made", "would", "could", "every", "even", "well", "long", "used", "went", "came", "come",
    "including", "compared", "between", "against", "without", "think", "though", "although",
    "able", "already", "while", "after", "before", "among", "least", "saying", "him", "her",
    "going", "way", "ever", "never", "them", "our", "us", "we", "they", "its", "their",
    "however", "also", "may", "might", "must", "shall", "should", "yet", "thing", "things",
    "lot", "part", "number", "people", "ones", "other", "others", "another", "much", "many",
    "whether", "say", "tell", "add", "state", "stated", "provide", "provided", "dont"}
# Units, amounts and times: "/hour" or "/centimetres" names no subject.
_UNITS = _wordset("""
hour hours minute minutes second seconds day days week weeks month months year years decade
decades century centuries centimetre centimetres centimeter centimeters metre metres meter meters
millimetre millimetres kilometre kilometres kilometer kilometers mile miles foot feet inch inches
kg kilogram kilograms gram grams tonne tonnes ton tons litre litres liter liters per cent percent
dollar dollars pound pounds euro euros ringgit yen won rupee rupees million millions billion
billions thousand thousands hundred hundreds dozen dozens times morning afternoon evening night
tonight today yesterday tomorrow weekend am pm degree degrees unit units item items
""")
# Common adjectives and other words that qualify a noun without naming a thing.
_ADJECTIVES = _wordset("""
old new young big small large little long short high low good bad great best better worse worst
early late full free hard easy clear main major minor key top huge real whole same other own
last next first second third fourth fifth wrong right serious sensitive various possible likely
able certain local national international global public private political economic social
cultural regional official special general current former recent previous further strong weak
wide narrow fast slow quick average single double total extra positive negative particular
entire senior junior available open closed ready sure true false safe unsafe secure poor rich
simple complex direct modern ancient deep far near close mere potential existing strategic
mutual various rainy wet dry hot cold warm cool dark light heavy busy empty whole half only
north south east west northern southern eastern western
lowest highest biggest largest smallest fastest oldest newest latest greatest second-lowest
important significant different difficult likely unlikely undeniable
such less more most few several both each every all any some enough rather quite very
""")
_ADJ_SUFFIX = re.compile(r"(?:ous|ful|less|able|ible|ive|ical|ish|ic|al|ary|ian|ese)$")
_DETERMINERS = {"the", "a", "an", "this", "that", "these", "those", "its", "their", "his", "her",
                "our", "my", "your", "every", "each", "any", "some", "no", "many", "several",
                "few", "both", "all", "another", "such", "more", "most"}
_VERB_CUES = {"to", "will", "would", "can", "could", "should", "must", "may", "might",
              "shall", "cannot", "not", "never", "they", "we", "i", "you", "he", "she", "it",
              "did", "does", "do", "don't", "didn't", "won't", "who", "which"}


@dataclass
class TopicDraft:
    command: str
    description: str
    keywords: list[str]
    sentences: list[Sentence]
    lines: tuple[int, int]


@dataclass
class Draft:
    name: str
    header: Header
    speakers: dict[str, str | None]
    generic_terms: list[str]
    topics: list[TopicDraft]
    notes: list[str] = field(default_factory=list)


def _plain(text: str) -> str:
    """Backquotes as apostrophes ("don`t" is one word, not "don")."""
    return text.replace("`", "’")


@lru_cache(maxsize=65536)  # topics read each sentence's stems several times
def _content_stems(text: str) -> tuple[str, ...]:
    return tuple(stem(w) for w in words(_plain(text))
                 if w not in STOPWORDS and w not in _WEAK and not w.isdigit() and len(w) > 2)


def _units(sentences: Sequence[Sentence]) -> list[list[Sentence]]:
    """Paragraphs, with a quotation spanning paragraphs kept in one unit."""
    units: list[list[Sentence]] = []
    for s in sentences:
        if units and (units[-1][-1].paragraph == s.paragraph or (
                s.quotation is not None and units[-1][-1].quotation == s.quotation)):
            units[-1].append(s)
        else:
            units.append([s])
    return units


def _cosine(a: Counter[str], b: Counter[str]) -> float:
    dot = sum(v * b[k] for k, v in a.items() if k in b)
    na = math.sqrt(sum(v * v for v in a.values()))
    nb = math.sqrt(sum(v * v for v in b.values()))
    return dot / (na * nb) if na and nb else 0.0


_CUT_WINDOW = 64


def _cut_places(sizes: Sequence[int], k: int) -> list[list[int]]:
    """Where each of the k - 1 cuts between k runs may fall (with 0 and n at the ends),
    ``sizes`` being the facts before each unit. The nth cut lies within _CUT_WINDOW units
    of where equal runs would end: any unit in an article of up to 2 * _CUT_WINDOW units,
    a bounded number in a longer one, so that the work grows with the article's length,
    not with its square."""
    n = len(sizes) - 1
    ideal = sizes[-1] / k
    places: list[list[int]] = [[0]]
    for nth in range(1, k):
        target = bisect.bisect_left(sizes, nth * ideal)
        places.append(list(range(max(1, target - _CUT_WINDOW),
                                 min(n - 1, target + _CUT_WINDOW) + 1)))
    places.append([n])
    return places


def _segment(units: list[list[Sentence]], common: set[str]) -> list[list[list[Sentence]]]:
    """Cut the units into runs of about FACTS_PER_TOPIC facts, where neighbours share the
    fewest words (TextTiling-like), by dynamic programming over the cut points. Words in
    many paragraphs (``common``) join every pair, so they do not count here."""
    n = len(units)
    total = sum(len(u) for u in units)
    k = max(1, min(n, 12, round(total / FACTS_PER_TOPIC)))
    if k == 1:
        return [units]
    bags = [Counter(s for sent in u for s in _content_stems(sent.text) if s not in common)
            for u in units]
    cut_cost = [0.0] * (n + 1)  # cost of a cut before unit i
    for i in range(1, n):
        left = bags[max(0, i - 2)] + bags[i - 1]
        right = bags[i] + (bags[i + 1] if i + 1 < n else Counter())
        cut_cost[i] = _cosine(left, right)
        a, b = units[i - 1][-1], units[i][0]
        if a.speaker and a.speaker == b.speaker:
            cut_cost[i] += 0.3  # one person speaking on is usually one subject
    sizes = [0]
    for u in units:
        sizes.append(sizes[-1] + len(u))
    ideal = total / k

    def run_cost(i: int, j: int) -> float:
        return 0.15 * (sizes[j] - sizes[i] - ideal) ** 2 / ideal

    places = _cut_places(sizes, k)
    best: list[dict[int, float]] = [{0: 0.0}]
    back: list[dict[int, int]] = [{}]
    for parts in range(1, k + 1):
        layer: dict[int, float] = {}
        links: dict[int, int] = {}
        for j in places[parts]:
            for i, base in best[parts - 1].items():
                if i >= j:
                    continue
                cost = base + run_cost(i, j) + (cut_cost[i] if i else 0.0)
                if cost < layer.get(j, float("inf")):
                    layer[j], links[j] = cost, i
        best.append(layer)
        back.append(links)
    if n not in best[k]:  # no way through the windows: equal runs
        cuts = sorted({*(p[len(p) // 2] for p in places[1:-1]), n})
    else:
        cuts = []
        j = n
        for parts in range(k, 0, -1):
            cuts.append(j)
            j = back[parts][j]
        cuts.reverse()
    runs, prev = [], 0
    for cut in cuts:
        runs.append(units[prev:cut])
        prev = cut
    return [r for r in runs if r]


def _surfaces(sentences: Iterable[Sentence]) -> dict[str, Counter[str]]:
    forms: dict[str, Counter[str]] = defaultdict(Counter)
    seen: dict[str, list[tuple[str, str]]] = {}  # a token's stems and forms, worked out once
    for s in sentences:
        for token in re.findall(r"[\w’'\-]+", _plain(s.text)):
            if token not in seen:
                raw = re.sub(r"['’]s$", "", token).strip("-’'")
                seen[token] = [(stem(w), raw if raw.casefold().replace("-", "") == w else w)
                               for w in words(raw)]
            for st, form in seen[token]:
                forms[st][form] += 1
    return forms


def _pick_form(forms: Counter[str]) -> str:
    best = forms.most_common()
    # Lower case unless the word is always capitalised (a name).
    lower = [f for f, _ in best if not f[:1].isupper()]
    return lower[0] if lower else best[0][0]


@dataclass
class _WordUse:
    """How the article uses each word stem: as a noun, a verb or a name."""

    noun: Counter[str] = field(default_factory=Counter)
    verb: Counter[str] = field(default_factory=Counter)
    named: Counter[str] = field(default_factory=Counter)  # capitalised inside a sentence
    lower: Counter[str] = field(default_factory=Counter)  # written in lower case

    def proper(self, st: str) -> bool:
        return bool(self.named[st]) and not self.lower[st]

    def nounish(self, st: str, form: str) -> bool:
        """Whether a word can name a subject: a name, or a noun that is not a unit, an
        adjective or a verb ("/provide", "/old", "/hour" name nothing)."""
        low = form.casefold()
        if form in _NOT_NAMES or form.capitalize() in _NOT_NAMES:
            return False  # "March", "Friday", "However"
        if self.proper(st):
            return True
        if "-" in form or any(c.isdigit() for c in form) or len(low) <= 3 or low.endswith("ly") \
                or low in _WEAK or low in _UNITS or low in _ADJECTIVES or low in STOPWORDS \
                or low in _ROLE_WORDS:
            return False
        noun, verb = self.noun[st], self.verb[st]
        if _ADJ_SUFFIX.search(low) or low.endswith(("ed", "ing")):
            return noun >= 2 and noun > verb
        return noun >= 1 and noun > verb


def _word_use(sentences: Sequence[Sentence]) -> _WordUse:
    use = _WordUse()
    stems: dict[str, str] = {}  # a token's stem, worked out once per article
    for s in sentences:
        toks = re.findall(r"[A-Za-z][\w’'\-]*|\d[\d,.]*|[^\w\s]", _plain(s.text))
        for i, tok in enumerate(toks):
            if not tok[0].isalpha():
                continue
            if tok not in stems:
                stems[tok] = stem("".join(words(tok)))
            st = stems[tok]
            if not st:
                continue
            if tok[0].isupper():
                if i > 0 and toks[i - 1] not in ".!?“\"”:" and toks[i - 1][0].isalpha():
                    use.named[st] += 1
            else:
                use.lower[st] += 1
            prev = toks[i - 1].casefold() if i else ""
            if prev in _VERB_CUES:
                use.verb[st] += 1
                continue
            for j in range(i - 1, max(-1, i - 4), -1):
                t = toks[j].casefold()
                if t in _DETERMINERS or t[:1].isdigit() or re.search(r"['’]s$", t) \
                        or (j == i - 1 and t in _PREPOSITIONS and t not in ("to", "and", "or")):
                    use.noun[st] += 1
                    break
                if not t[:1].isalpha() or t in STOPWORDS or t in _VERB_CUES or not (
                        toks[j][:1].isupper() or "-" in t or t in _ADJECTIVES
                        or _ADJ_SUFFIX.search(t) or t.endswith(("ed", "ing"))):
                    break  # only adjectives and names stand between a determiner and its noun
    return use


def _noun_form(st: str, forms: Counter[str], use: _WordUse) -> str | None:
    """The most used form of a word that can name a topic ("importance", not
    "important"), or None."""
    for form, _ in forms.most_common():
        if use.nounish(st, form):
            return form.casefold() if not use.proper(st) else form
    return None


def _command_name(word: str, used: set[str]) -> str | None:
    ascii_word = unicodedata.normalize("NFKD", word).encode("ascii", "ignore").decode()
    name = re.sub(r"[^a-z0-9_]+", "_", ascii_word.casefold()).strip("_")[:32]
    if not name or not COMMAND_RE.match(name) or name in BUILTIN_COMMANDS or name in used:
        return None
    return name


def _names_alone(sentences: Sequence[Sentence]) -> frozenset[str]:
    """Capitalised words used on their own, not as part of a longer name ("Baird", but
    not "Julie" of "Julie Couillard"): read once, for every speaker's ``_surname``."""
    text = " ".join(s.text for s in sentences)
    return frozenset(run[0] for run in (_tokens(m.group(0)) for m in _RUN.finditer(text))
                     if len(run) == 1)


def _surname(name: str, alone: frozenset[str]) -> str:
    """The word the article calls a person by: "Baird", or "Lee" for "Lee Chi-beom"."""
    toks = name.split()
    used = [t for t in toks if t in alone]
    return used[0] if len(used) == 1 else toks[-1]


def _subject_stems(sentences: Sequence[Sentence], title: str | None, use: _WordUse,
                   forms: dict[str, Counter[str]]) -> list[str]:
    """What the article is about: the nouns of its title (or first sentence), most
    frequent first."""
    head = title or (sentences[0].text if sentences else "")
    # A word inside the name of an organisation or a title ("Harbour" of "Harbour Office",
    # "Harbour Secretary Ana Vale") is that name's, not the article's subject.
    def outside(text: str) -> str:
        return re.sub(rf"{_NAME_TOKEN}(?:\s+{_NAME_TOKEN})+", lambda m: " " if _is_org(
            m.group(0)) or any(_is_role_word(t) for t in m.group(0).split()) else m.group(0),
                      text)

    df = Counter(st for s in sentences for st in set(_content_stems(outside(s.text))))
    cands = {stem(w) for w in words(_plain(head)) if w not in STOPWORDS}
    cands = {st for st in cands if st in forms and use.nounish(st, _pick_form(forms[st]))}
    if title is None:
        # A first sentence names places and parties in passing ("The governments of South
        # Korea and Malaysia are in discussions ..."): its common nouns say what it is about.
        return sorted(cands, key=lambda st: (use.proper(st), -df[st], st))
    # On a tie a name wins ("Tern" over "robot"): members type the product, the place.
    return sorted(cands, key=lambda st: (-df[st], not use.proper(st), st))


def suggest_topics(sentences: Sequence[Sentence], taken: Iterable[str] = (),
                   title: str | None = None) -> tuple[list[TopicDraft], list[str]]:
    """Group sentences into topics; return them and the pack's generic terms (none: the
    article's own frequent words are what it is about, evidence for its topics)."""
    units = _units(sentences)
    unit_bags = [set(s for sent in u for s in _content_stems(sent.text)) for u in units]
    unit_df: Counter[str] = Counter(s for bag in unit_bags for s in bag)
    common = {s for s, n in unit_df.items() if n >= max(3, len(units) / 4)}
    runs = _segment(units, common)
    forms = _surfaces(sentences)
    use = _word_use(sentences)
    # How many of a run's sentences use a word: a name said twice in one sentence
    # ("... System and Intelligence System") is not twice the evidence.
    bags = [Counter(s for u in run for sent in u for s in set(_content_stems(sent.text)))
            for run in runs]
    df: Counter[str] = Counter(s for bag in bags for s in bag)
    flats = [[s for u in run for s in u] for run in runs]
    ranked_all = []
    for bag, flat in zip(bags, flats, strict=True):
        # A word a sentence opens with is what that sentence is about ("Deliveries begin
        # in September, starting with customers in ... Australia").
        opening = {st for s in flat for st in _content_stems(" ".join(
            _SCENE.sub("", s.text).split()[:3]))}
        ranked = sorted((s for s in bag if s in forms),
                        key=lambda s: (-(bag[s] + 0.5 * (s in opening))
                                       * math.log(1 + len(runs) / df[s]), -len(s), s))
        ranked_all.append(ranked)
    used = set(taken)
    commands: list[str | None] = [None] * len(runs)
    # The article's subject names the topic that speaks of it most: /document, /asylum.
    for st in _subject_stems(sentences, title, use, forms)[:1]:
        at = next((i for i, flat in enumerate(flats)
                   if any(st in _content_stems(s.text) for s in flat)), 0)
        name = _command_name(_pick_form(forms[st]), used) if bags[at][st] else None
        if name:
            commands[at] = name
            used.add(name)
    # A person who carries one topic names it: /baird, /dewar.
    dominant = [_dominant(flat) for flat in flats]
    alone = _names_alone(sentences)
    carried = Counter(d for d in dominant if d)
    by_speaker: set[str] = set()
    for i, who in enumerate(dominant):
        if commands[i] is None and who and carried[who] == 1:
            name = _command_name(_surname(who, alone), used)
            if name:
                commands[i] = name
                used.add(name)
                by_speaker.add(name)
    # First names name nobody on their own: "/ollie" for Ollie Brandt.
    people = {s.speaker for s in sentences if s.speaker} | set(_people(
        " ".join(s.text for s in sentences))[0])
    given = {t for p in people for t in p.split()[:-1]}
    topics: list[TopicDraft] = []
    for i, (flat, ranked) in enumerate(zip(flats, ranked_all, strict=True)):
        command = commands[i]
        for s in ranked:
            if command is not None:
                break
            form = _noun_form(s, forms[s], use)
            if form and form not in given:
                command = _command_name(form, used)
        if command is None:
            command = _command_name(f"topic_{i + 1}", used) or f"t{i + 1}"
        used.add(command)
        own = {stem(w) for w in words(command.replace("_", " "))}
        # Words in most topics tell them apart from nothing, unless this topic is named so.
        spread = [s for s in ranked if df[s] * 2 <= len(runs) or s in own or len(runs) < 3]
        spread.sort(key=lambda s: not use.nounish(s, _pick_form(forms[s])))
        # People ask "what did Baird say": the topic's speakers are among its keywords,
        # by surname and full name, rather than a first name on its own.
        voices = list(dict.fromkeys(s.speaker for s in flat if s.speaker))
        name_parts = {stem(w) for v in voices for w in words(v)}
        keywords = [_pick_form(forms[s]) for s in spread if s not in name_parts]
        keywords = keywords[:KEYWORDS_PER_TOPIC]
        for voice in voices:
            for name in (_surname(voice, alone), voice):
                if name.casefold() not in {k.casefold() for k in keywords}:
                    keywords.append(name)
        who = dominant[i]
        description = _description(flat, command, who, command in by_speaker)
        topics.append(TopicDraft(command, description, keywords, flat,
                                 (flat[0].line, flat[-1].line)))
    return topics, []


def _dominant(sentences: Sequence[Sentence]) -> str | None:
    """The person who says at least half of a topic's facts, if one does."""
    speakers = Counter(s.speaker for s in sentences if s.speaker)
    if not speakers:
        return None
    name, n = speakers.most_common(1)[0]
    return name if n * 2 >= len(sentences) else None


# Openers that set a scene rather than say what the sentence is about.
_SCENE = re.compile(r"^(?:According to [^,]{1,80}(?:, [A-Z][\w\-]*(?: [A-Z][\w\-]*)*)?,\s+|"
                    r"(?:However|But|And|Meanwhile|Currently|Also|Still|Yet|Instead|"
                    r"Elaborating further|In addition|Separately),\s+|"
                    r"(?:In|On|At|During|Throughout|After|Before|Since|Until|Last|With|"
                    r"To|For)\b[^,]{0,60},\s+)")
# Words a phrase cannot end on.
_DANGLING = _DETERMINERS | _PREPOSITIONS | {
    "the", "a", "an", "to", "and", "or", "but", "that", "which", "who", "is", "are", "was",
    "were", "be", "been", "has", "have", "had", "as", "so", "than", "not", "it", "will",
    "would", "can", "could", "should", "may", "might", "must", "very", "such", "also", "up",
    "out", "off", "if", "when", "while", "because", "i", "we", "you", "he", "she", "they",
    "after", "before", "since", "until", "during", "among", "its", "their", "his", "her"}
_JOINTS = {"after", "before", "when", "while", "because", "since", "until", "where", "which",
           "who", "that", "with", "as", "whose", "although", "though", "unless"}
_SUBORDINATE = re.compile(r"^(?:If|When|Although|Though|While|Unless|Because|As|Since|Whether)\b")
_CLAUSE_END = re.compile(r",\s|;\s|\s[—–]\s|:\s|\s\(|\s(?:which|who|whose|because|but|while|"
                         r"although|when|where|that|if|by)\s")
_REPORTED = re.compile(r"^(?P<subj>[^“”\"]{0,120}?)\s(?:said|says|told\s+(?:[A-Z][\w.]*\s+)"
                       r"{1,3}|stated|added|warned|argued|insisted|explained|noted)\s+"
                       r"(?:that\s+)?(?P<content>[a-zA-Z].*)$")


def _clause(text: str, limit: int = 80, capital: bool = True) -> str:
    """A phrase from a sentence: its main clause, without scene-setting, under ``limit``."""
    text = _SCENE.sub("", text.strip())
    text = text.strip(" “”\"")
    toks = text.split()
    for match in _CLAUSE_END.finditer(text):
        before = text[:match.start()]
        need = 4 if match.group(0).strip() in ",;—–:(" else 8
        if len(before.split()) >= need:
            text = before
            break
    else:
        text = " ".join(toks)
    truncated = len(text) > limit
    if truncated:
        text = text[:limit].rsplit(" ", 1)[0]
    # No dangling words or quotation marks at the end, nor an adjective cut from its noun.
    cut = text.split()
    if truncated:
        # Back to where a subordinate part began: "... minister after it became" -> "... minister".
        joints = [n for n, w in enumerate(cut) if n >= 5 and w in _JOINTS]
        if joints:
            cut = cut[:joints[-1]]
    while len(cut) > 3 and (cut[-1].casefold().strip(",;:") in _DANGLING or (
            truncated and cut[-1].casefold() in _ADJECTIVES)):
        cut.pop()
    text = " ".join(cut).rstrip(" ,;:.—–-")
    if text.count("\"") % 2 or text.count("“") > text.count("”"):
        text = text[:max(text.rfind("\""), text.rfind("“"))].rstrip(" ,;:")
    return text[:1].upper() + text[1:] if capital else text


def _description(flat: Sequence[Sentence], command: str, speaker: str | None,
                 named_for_speaker: bool = False) -> str:
    """A phrase saying what a topic is about, from its own text: the sentence that names
    its command, cut to its main clause; a speaker's topic says who speaks, and what."""
    own = {stem(w) for w in words(command.replace("_", " "))}
    narrative = [s for s in flat if s.quotation is None]
    quoted = [s for s in flat if s.quotation is not None and s.speaker == speaker]
    if named_for_speaker and speaker and quoted:
        return f"{speaker}: “{_clause(quoted[0].text, 70)}”"[:MAX_DESCRIPTION]

    def names(s: Sentence) -> bool:
        return bool(own & {stem(w) for w in words(_plain(s.text))})

    def position(s: Sentence) -> int:
        stems = [stem(w) for w in words(_plain(_SCENE.sub("", s.text)))]
        return next((n for n, st in enumerate(stems) if st in own), len(stems))

    candidates = [s for s in narrative if names(s) and not _SUBORDINATE.match(s.text)] \
        or [s for s in flat if names(s)]
    order = {id(s): n for n, s in enumerate(flat)}
    key = min(candidates, key=lambda s: position(s) + 3 * order[id(s)]) if candidates \
        else (narrative or list(flat))[0]
    if key.speaker and (speaker is None or key.speaker == speaker):
        reported = _REPORTED.match(key.text)
        if key.quotation is not None:
            text = f"{key.speaker}: “{_clause(key.text, 70)}”"
        elif reported and _speaker_phrase(reported.group("subj") + " said"):
            text = f"{key.speaker}: {_clause(reported.group('content'), 70, capital=False)}"
        else:
            at = key.text.find(key.speaker)
            text = _clause(key.text[at:] if at > 0 else key.text)
    else:
        text = _clause(key.text)
    return text[:MAX_DESCRIPTION] if text else command


def draft(article: str, name: str, taken: Iterable[str] = ()) -> Draft:
    """Everything ``facts new`` writes, before it becomes YAML."""
    header = read_header(article)
    sentences, notes = _split(article)
    if not sentences:
        raise ConfigError("the article has no sentences to quote")
    sentences, more = _within_limits(sentences)
    topics, generic = suggest_topics(sentences, taken, header.title)
    names = list(dict.fromkeys(s.speaker for s in sentences if s.speaker))
    speakers = speaker_roles(article, names)
    return Draft(name, header, speakers, generic, topics, [*notes, *more])


def _within_limits(sentences: list[Sentence]) -> tuple[list[Sentence], list[str]]:
    """The first MAX_DRAFT_FACTS sentences, credited to at most MAX_DRAFT_SPEAKERS people
    (the first to speak; a later one's facts keep no speaker rather than a wrong one), and
    notes saying what was left out."""
    notes = []
    if len(sentences) > MAX_DRAFT_FACTS:
        rest = sentences[MAX_DRAFT_FACTS:]
        notes.append(f"left out: article lines {rest[0].line}-{rest[-1].line} ({len(rest):,} "
                     f"sentences): a pack holds at most {MAX_DRAFT_FACTS:,} facts; draft "
                     f"them from a shorter article")
        sentences = sentences[:MAX_DRAFT_FACTS]
    names = list(dict.fromkeys(s.speaker for s in sentences if s.speaker))
    if len(names) > MAX_DRAFT_SPEAKERS:
        kept = set(names[:MAX_DRAFT_SPEAKERS])
        dropped = sum(1 for s in sentences if s.speaker and s.speaker not in kept)
        notes.append(f"left out: the speaker of {dropped:,} facts ({len(names) - len(kept):,} "
                     f"people): a pack lists at most {MAX_DRAFT_SPEAKERS} speakers")
        sentences = [s if s.speaker in kept or not s.speaker else
                     dataclasses.replace(s, speaker=None) for s in sentences]
    return sentences, notes


def _fact_keywords(sentence: Sentence, alone: frozenset[str]) -> list[str]:
    """A speaker's fact is found by the speaker's surname and full name."""
    if not sentence.speaker:
        return []
    surname = _surname(sentence.speaker, alone)
    return [surname, sentence.speaker] if surname != sentence.speaker else [surname]


# --- YAML -----------------------------------------------------------------------------

_PLAIN = re.compile(r"^[A-Za-z][\w’'\-]*(?: [\w’'\-]+)*$")


def _scalar(text: str) -> str:
    """Plain when YAML would read it back unchanged, else a JSON (= YAML) string."""
    if _PLAIN.match(text) and text.casefold() not in {"yes", "no", "on", "off", "true", "false",
                                                       "null", "y", "n"}:
        return text
    return json.dumps(text, ensure_ascii=False)


def _flow(items: Iterable[str], indent: int = 4, width: int = 96) -> str:
    """A YAML flow list, wrapped so that a curator can read it."""
    lines = [""]
    for n, item in enumerate(items):
        piece = ("" if n == 0 else " ") + _scalar(item) + ","
        if len(lines[-1]) + len(piece) > width - indent and lines[-1]:
            lines.append(" " * (indent + 2) + piece.lstrip())
        else:
            lines[-1] += piece
    return "[" + "\n".join(lines).rstrip(",") + "]"


def render_yaml(d: Draft) -> str:
    h = d.header
    todo = f"{TODO}: not found in the article; replace with text that stands in it"
    lines = [
        f"# Draft pack written by `factbot facts new` for {d.name!r}.",
        "# Every quote below is cut verbatim from article.txt. To curate: rename the",
        "# commands, add aliases and keywords people would type, merge or split topics,",
        "# fill any TODO, then run `factbot facts check` on this folder.",
        "# A TODO value is a placeholder: the loader accepts it, the check warns,",
        "# and the bot leaves it out of citations.",
        f"name: {_scalar(d.name)}",
        "source:",
    ]
    if h.title:
        lines.append(f"  title: {_scalar(h.title)}")
    lines.append(f"  outlet: {_scalar(h.outlet or todo)}")
    lines.append(f"  dateline: {_scalar(h.dateline or todo)}")
    lines.append(f"  date: {_scalar(h.date or todo)}")
    if h.byline:
        lines.append(f"  byline: {_scalar(h.byline)}")
    if d.speakers:
        lines.append("speakers:")
        for speaker, role in d.speakers.items():
            lines.append(f"  {_scalar(speaker)}: {_scalar(role or f'{TODO}: role')}")
    if d.generic_terms:
        lines.append("# Words all over the article: understood, but they point to no topic.")
        lines.append(f"generic_terms: {_flow(d.generic_terms, 0)}")
    for note in d.notes:
        lines.append(f"# {note}")
    lines.append("topics:")
    alone = _names_alone([s for t in d.topics for s in t.sentences])
    for topic in d.topics:
        lines.append(f"  # article lines {topic.lines[0]}-{topic.lines[1]}")
        lines.append(f"  - command: {topic.command}")
        lines.append(f"    description: {_scalar(topic.description)}")
        lines.append(f"    keywords: {_flow(topic.keywords)}")
        lines.append("    facts:")
        seen: set[str] = set()
        for s in topic.sentences:
            key = normalise_quote(s.text)
            if key in seen:
                continue
            seen.add(key)
            lines.append(f"      - quote: {_scalar(s.text)}")
            if s.speaker:
                lines.append(f"        speaker: {_scalar(s.speaker)}")
                lines.append(f"        keywords: {_flow(_fact_keywords(s, alone), 8)}")
    return "\n".join(lines) + "\n"


# --- command line -------------------------------------------------------------------


def _taken_commands(root: Path, skip: Path) -> set[str]:
    """Commands and aliases of the packs already in the facts directory, to avoid them."""
    from factbot.packs import load_pack, pack_folders

    taken: set[str] = set()
    if not root.is_dir():
        return taken
    for folder in pack_folders(root):
        if folder.resolve() == skip.resolve():
            continue
        try:
            pack = load_pack(folder)
        except PackError:
            continue  # a broken neighbour is `facts check`'s business, not ours
        for topic in pack.topics:
            taken.add(topic.command)
            taken.update(alias_key(a) for a in topic.aliases)
    return taken


def _read_article(source: Path) -> tuple[bytes, str]:
    """The article's bytes and text, refused when it is no regular file, is over
    MAX_ARTICLE_BYTES or is not UTF-8. Opened without blocking and checked before it is
    read: a FIFO would wait for a writer forever, /dev/zero never ends."""
    try:
        fd = os.open(source, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise ConfigError(f"{source}: cannot read the article: not a regular file")
            with open(fd, "rb", closefd=False) as file:
                data = file.read(MAX_ARTICLE_BYTES + 1)
        finally:
            os.close(fd)
    except OSError as exc:
        raise ConfigError(f"{source}: cannot read the article ({exc.strerror})") from None
    if len(data) > MAX_ARTICLE_BYTES:
        raise ConfigError(f"{source}: the article is over {MAX_ARTICLE_BYTES:,} bytes, the "
                          f"limit for a pack; split it into several articles")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{source}: cannot read the article: not UTF-8 ({exc.reason} at "
                          f"byte {exc.start})") from None
    return data, text.replace("\r\n", "\n").replace("\r", "\n")  # as the loader reads it


def _kept(path: Path, data: bytes, force: bool) -> bool:
    """Whether ``path`` already holds ``data`` (the article drafted from its own folder),
    so that nothing needs writing; an error when something else is there, unless
    ``force``. A symbolic link is never written through, nor taken as the same file."""
    if not os.path.lexists(path):
        return False
    if path.is_symlink():
        if force:
            return False
        raise ConfigError(f"{path} is a symbolic link; factbot does not write through one "
                          f"(pass --force to replace the link with a file)")
    try:
        same = path.is_file() and path.stat().st_size == len(data) and path.read_bytes() == data
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read it ({exc.strerror})") from None
    if same or force:
        return same
    raise ConfigError(f"{path} already exists; pass --force to replace it, or choose "
                      f"another --name or --out")


def _write_new(folder_fd: int, folder: Path, name: str, data: bytes, force: bool) -> None:
    """Create ``folder/name`` with ``data``, never through a symbolic link: with
    ``force`` whatever is there (a file or a link, not what it points to) is removed
    first, and the file is created only if nothing stands in its place."""
    at = {"dir_fd": folder_fd} if os.open in os.supports_dir_fd else {}
    target = name if at else str(folder / name)
    if force:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(target, **at)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(target, flags, 0o644, **at)
    with open(fd, "wb") as file:
        file.write(data)


def new_main(args: argparse.Namespace, settings: Settings) -> int:
    """Write ``OUT/NAME/pack.yaml`` and a copy of the article; print what was drafted.

    Nothing in the pack folder is replaced without ``--force``, and nothing is written
    through a symbolic link (a linked pack folder, ``article.txt`` or ``pack.yaml``)."""
    source = Path(args.article)
    name = str(args.name)
    force = bool(getattr(args, "force", False))
    if not re.fullmatch(r"[a-z0-9][a-z0-9_\-]{0,63}", name):
        raise ConfigError(f"--name {name!r}: use lower-case letters, digits, '-' and '_'")
    data, article = _read_article(source)
    # Never into the live packs (an uncurated draft would answer at once), nor into an
    # installed package: the current directory unless --out says where.
    root = Path(args.out) if args.out else Path.cwd()
    folder = root / name
    if folder.is_symlink():
        raise ConfigError(f"{folder} is a symbolic link; factbot does not write through one")
    if os.path.lexists(folder / "pack.yaml") and not force:
        raise ConfigError(f"{folder / 'pack.yaml'} already exists; pass --force to replace "
                          f"it, or choose another --name or --out")
    keep_article = _kept(folder / "article.txt", data, force)
    if not words(article):
        raise ConfigError(f"{source}: the article has no sentences to quote")
    try:
        taken = _taken_commands(settings.facts, folder)
        if args.out:
            taken |= _taken_commands(root, folder)
        d = draft(article, name, taken)
    except ConfigError as exc:
        raise ConfigError(f"{source}: {exc}") from None
    try:
        folder.mkdir(parents=True, exist_ok=True)
        folder_fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0)
                            | getattr(os, "O_NOFOLLOW", 0))
    except OSError as exc:
        raise ConfigError(f"{folder}: cannot write the draft there ({exc.strerror})") from None
    files = [("pack.yaml", render_yaml(d).encode("utf-8"))]
    if not keep_article:
        files.insert(0, ("article.txt", data))
    try:
        for file_name, content in files:
            try:
                _write_new(folder_fd, folder, file_name, content, force)
            except OSError as exc:
                raise ConfigError(f"{folder / file_name}: cannot write it ({exc.strerror})") \
                    from None
    finally:
        os.close(folder_fd)
    facts = sum(len(t.sentences) for t in d.topics)
    print(f"wrote {folder / 'pack.yaml'}: {len(d.topics)} topics, {facts} facts, "
          f"{len(d.speakers)} speakers")
    for topic in d.topics:
        print(f"  /{topic.command:<16} {len(topic.sentences):>2} facts  {topic.description}")
    missing = [k for k in ("outlet", "dateline", "date") if getattr(d.header, k) is None]
    missing += [f"role of {s}" for s, r in d.speakers.items() if r is None]
    if missing:
        print(f"TODO: {', '.join(missing)} (not in the article; fill them in pack.yaml)")
    print(f"next: edit the draft, run `factbot facts check {folder}`, then try it with "
          f"`factbot --facts {folder} chat`")
    return 0
