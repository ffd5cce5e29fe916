"""Draft a fact pack from an article: ``factbot facts new ARTICLE.txt --name NAME``.

The draft is built only from text cut out of the article, so every quote is
verbatim by construction. Steps:

1. ``read_header``: title, byline, dateline, date and outlet, where the article
   has them. A part it lacks becomes a ``TODO`` placeholder, never a guess
   (the loader accepts placeholders; ``facts check`` warns about them).
2. ``split_article``: paragraphs into sentences. Quotation marks are tracked
   across paragraphs (news style reopens a quotation on every paragraph and
   closes it once), so a quotation spanning paragraphs stays one quotation
   and all its sentences get the speaker its attribution names ("said Lee",
   "he added", "Lee told Bernama"). Attribution clauses are not facts.
3. ``suggest_topics``: paragraphs (a quotation counts as one) are cut into
   runs of related text where neighbouring paragraphs share the fewest words,
   and each run gets a command name, a description and keywords from the
   words that set it apart from the other runs.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import shutil
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bot.errors import ConfigError, PackError
from bot.packs import BUILTIN_COMMANDS, COMMAND_RE, MAX_DESCRIPTION, MAX_QUOTE, TODO, alias_key
from bot.settings import Settings
from bot.text import normalise_quote, stem, words
from bot.vocab import STOPWORDS

# --- header -------------------------------------------------------------------

_MONTHS = (r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|"
           r"Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?")
# "KUALA LUMPUR, Oct 2 —", "PORTHAVEN, March 14 (Northline Sport) —",
# "LONDON, May 3, 2024 (Reuters) -"
_DATELINE = re.compile(
    r"^(?P<place>[A-Z][A-Z'’.\- ]*[A-Z](?:,\s+[A-Z][A-Za-z.]+)?),\s+"
    rf"(?P<date>{_MONTHS}\s+\d{{1,2}}(?:,\s+\d{{4}})?)\s*"
    r"(?:\((?P<outlet>[^()\n]{2,60})\)\s*)?[—–-]{1,2}\s+")
_BYLINE = re.compile(r"^By\s+(?P<name>[A-Z][^,|\n]{2,60}?)\s*(?:[,|]\s*(?P<outlet>[^\n]{2,60}))?$")
# A closing "— Bernama" after the last sentence names the outlet.
_SIGN_OFF = re.compile(r"\s+[—–-]{1,2}\s*(?P<outlet>[A-Z][\w&.' ]{1,40}?)\s*$")


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
    out: list[Paragraph] = []
    for match in re.finditer(r"[^\n]*\S[^\n]*(?:\n[^\n]*\S[^\n]*)*", article):
        out.append(Paragraph(match.group(0).rstrip(), match.start()))
    return out


def _parse_header(paras: list[Paragraph]) -> tuple[Header, list[Paragraph]]:
    """Split the header off the body: the body starts after the dateline, if any."""
    title = byline = dateline = date = outlet = None
    body_at = 0
    for i, para in enumerate(paras[:4]):
        text = para.text.strip()
        by = _BYLINE.match(text)
        if by and "\n" not in text:
            byline = by.group("name").strip()
            outlet = outlet or (by.group("outlet") or "").strip() or None
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
    body = paras[body_at:]
    if body:
        last = body[-1]
        sign = _SIGN_OFF.search(last.text)
        if sign and sign.group("outlet").strip() and len(words(sign.group("outlet"))) <= 4:
            outlet = outlet or sign.group("outlet").strip()
            body = [*body[:-1], Paragraph(last.text[:sign.start()], last.start)]
    return Header(title, byline, dateline, date, outlet), body


def read_header(article: str) -> Header:
    return _parse_header(paragraphs(article))[0]


# --- sentences and quotations ------------------------------------------------------

_OPEN = "“\""
_CLOSE = "”\""
_ABBREV = {"mr", "mrs", "ms", "dr", "prof", "st", "jr", "sr", "no", "vs", "inc", "ltd", "co",
           "corp", "gen", "gov", "sen", "rep", "jan", "feb", "mar", "apr", "jun", "jul", "aug",
           "sep", "sept", "oct", "nov", "dec", "mt", "ft", "approx", "etc", "e.g", "i.e", "u.s"}
_SPEECH = (r"said|says|added|told|highlighted|stressed|noted|explained|insisted|admitted|"
           r"expressed|warned|asked|recalled|continued")
_NAME_TOKEN = r"[A-Z][\w\-]*(?:['’][A-Za-z]+)?"
_NAME = rf"{_NAME_TOKEN}(?:\s+(?:(?:de|van|der|von|bin|binti|al)\s+)?{_NAME_TOKEN}){{0,3}}"
_PRONOUN = r"[Hh]e|[Ss]he|[Tt]hey"
# The clause that follows or precedes a quotation: ", Lee told Bernama ...", ", said Lee."
_ATTR_AFTER = re.compile(rf"^\W*(?:(?P<pre>[^“”\"]{{0,80}}?)\s)?(?P<who>{_NAME}|{_PRONOUN})\s+"
                         rf"(?:{_SPEECH})\b")
_ATTR_INV = re.compile(rf"^\W*(?:{_SPEECH})\s+(?P<who>{_NAME}|{_PRONOUN})\b")
_REPORTED = re.compile(rf"^(?P<subj>.{{0,160}}?)\s(?:{_SPEECH})\b")
_RUN = re.compile(_NAME)
_ORG_WORDS = {"robotics", "logistics", "fc", "united", "rovers", "city", "sport", "sports",
              "wire", "group", "inc", "ltd", "bank", "ministry", "government", "club", "company",
              "corp", "corporation", "holdings", "fund", "airlines", "university", "council",
              "association", "news", "times", "post", "press", "agency", "board", "athletic",
              "albion", "school", "institute", "foundation", "party", "league", "division"}
_PRONOUNS = {"he", "she", "they"}


@dataclass(frozen=True, slots=True)
class Sentence:
    """One quotable piece of the article: a narrative sentence or a quoted one."""

    text: str  # verbatim; one line; quotation marks and attribution cut off
    line: int  # where it starts in the article
    paragraph: int
    speaker: str | None = None  # full name as the article spells it
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


def _quote_spans(paras: list[Paragraph]) -> list[list[_Piece]]:
    """Quoted and unquoted stretches of every paragraph; quotations may span paragraphs."""
    out: list[list[_Piece]] = []
    open_qid: int | None = None
    next_qid = 0
    for para in paras:
        text = para.text
        pieces: list[_Piece] = []
        i = 0
        if open_qid is not None and text[:1] in _OPEN:
            i = 1  # news style: a continued quotation reopens with a mark
        else:
            open_qid = None
        start = i
        for j in range(i, len(text)):
            ch = text[j]
            if open_qid is None and ch in _OPEN:
                pieces.append(_Piece(text[start:j], para.start + start, False, None))
                open_qid, next_qid, start = next_qid, next_qid + 1, j + 1
            elif open_qid is not None and ch in _CLOSE:
                pieces.append(_Piece(text[start:j], para.start + start, True, open_qid))
                open_qid, start = None, j + 1
        pieces.append(_Piece(text[start:], para.start + start, open_qid is not None, open_qid))
        out.append([p for p in pieces if p.text.strip()])
    return out


def _sentence_ends(text: str) -> list[int]:
    """Offsets where sentences end in a paragraph."""
    ends: list[int] = []
    for match in re.finditer(r"[.!?][”\"’)]*(?=\s+[“\"A-Z0-9])", text):
        before = re.search(r"([\w.]+)[.!?]$", text[:match.start() + 1])
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


def _raw_sentences(paras: list[Paragraph]) -> tuple[list[_Raw], dict[int, str]]:
    """Facts before speaker resolution, and the attribution found for each quotation."""
    spans = _quote_spans(paras)
    facts: list[_Raw] = []
    attribution: dict[int, str] = {}
    for index, (para, pieces) in enumerate(zip(paras, spans, strict=True)):
        offset = 0
        for end in _sentence_ends(para.text):
            s_start, s_end = para.start + offset, para.start + end
            offset = end
            parts = []
            for p in pieces:
                a, b = max(p.start, s_start), min(p.start + len(p.text), s_end)
                if b > a:
                    parts.append(_Piece(p.text[a - p.start:b - p.start], a, p.quoted, p.qid))
            sentence_text = para.text[s_start - para.start:s_end - para.start]
            facts.extend(_classify(parts, sentence_text, s_start, index, attribution))
    return facts, attribution


def _classify(parts: list[_Piece], sentence: str, start: int, paragraph: int,
              attribution: dict[int, str]) -> list[_Raw]:
    """Cut one sentence into facts: quoted pieces, lead-ins, or the whole narrative sentence."""
    whole = _trim(sentence, start)
    if not any(p.quoted and words(p.text) for p in parts):
        return [_Raw(whole[0], whole[1], paragraph, None)] if words(whole[0]) else []
    roles: list[tuple[_Piece, str, str | None]] = []  # piece, role, who
    for n, part in enumerate(parts):
        if part.quoted or not words(part.text):
            roles.append((part, "quote" if part.quoted else "empty", None))
            continue
        text = _trim(part.text, part.start)[0]
        near_quote = any(p.quoted for p in parts[max(0, n - 1):n + 2])
        attr = _ATTR_INV.match(text) or _ATTR_AFTER.match(text)
        if part.text.rstrip().endswith(":") and _word_count(text) >= 4:
            roles.append((part, "lead", _reported_subject(text)))
        elif attr and near_quote and _word_count(text) <= 25:
            roles.append((part, "attribution", attr.group("who")))
        else:
            # Narrative text around short quotations: keep the sentence whole.
            return [_Raw(whole[0], whole[1], paragraph, None)]
    out: list[_Raw] = []
    lead_who: str | None = None
    for n, (part, role, who) in enumerate(roles):
        if role == "quote":
            text, at = _trim(part.text, part.start)
            if words(text):
                out.append(_Raw(text, at, paragraph, part.qid))
            if lead_who and part.qid is not None:
                attribution.setdefault(part.qid, lead_who)
                lead_who = None
        elif role == "lead":
            text, at = _trim(part.text, part.start)
            out.append(_Raw(text, at, paragraph, None, who))
            lead_who = who
        elif role == "attribution" and who:
            prev_q = next((p.qid for p, r, _ in reversed(roles[:n]) if r == "quote"), None)
            next_q = next((p.qid for p, r, _ in roles[n + 1:] if r == "quote"), None)
            qid = prev_q if prev_q is not None else next_q
            if qid is not None:
                attribution.setdefault(qid, who)
    return out


# Capitalised words that start sentences but name nobody.
_NOT_NAMES = {"The", "A", "An", "This", "That", "These", "Those", "It", "Its", "In", "On", "At",
              "With", "From", "For", "After", "Before", "When", "While", "Throughout", "To",
              "January", "February", "March", "April", "May", "June", "July", "August",
              "September", "October", "November", "December", "Monday", "Tuesday", "Wednesday",
              "Thursday", "Friday", "Saturday", "Sunday", "Founded", "Currently", "But", "And"}


def _runs(text: str) -> list[str]:
    """Capitalised name runs in text, possessives cut off and sentence openers dropped."""
    out = []
    for match in _RUN.finditer(text):
        tokens = re.sub(r"['’]s\b", "", match.group(0)).split()
        while tokens and tokens[0] in _NOT_NAMES:
            tokens.pop(0)
        if tokens:
            out.append(" ".join(tokens))
    return out


def _reported_subject(text: str) -> str | None:
    """Who a narrative sentence reports: "Marsh said ...", "He added ...", "X, who ..., said"."""
    match = _REPORTED.match(text)
    if match is None:
        return None
    subj = match.group("subj").strip()
    last = subj.split()[-1] if subj.split() else ""
    if last.casefold() in _PRONOUNS:
        return last
    trailing = re.search(rf"({_NAME})$", subj)
    if trailing:
        runs = _runs(trailing.group(1))
        if runs:
            return runs[-1]
    runs = _runs(subj)
    return runs[0] if runs else None


def _name_runs(article: str) -> Counter[str]:
    runs: Counter[str] = Counter()
    for run in _runs(article):
        if len(run.split()) >= 2:
            runs[run] += 1
    return runs


def _is_org(name: str) -> bool:
    return any(t.casefold() in _ORG_WORDS for t in name.split())


def _resolver(article: str, surfaces: Iterable[str], strong: set[str]
              ) -> dict[str, str | None]:
    """Map each surface name to a person's full name, or None for organisations."""
    runs = _name_runs(article)
    out: dict[str, str | None] = {}
    for surface in surfaces:
        if surface.casefold() in _PRONOUNS:
            continue
        if _is_org(surface):
            out[surface] = None
        elif len(surface.split()) >= 2:
            out[surface] = surface
        else:
            # "Lee" is "Lee Chi-beom", "Chen" is "Mei Chen": the longer run that holds it.
            people = [r for r in runs if surface in r.split()]
            if any(_is_org(r) for r in people):
                out[surface] = None  # "Larkspur" of "Larkspur Robotics" is a company
            elif people:
                out[surface] = max(people, key=lambda r: (runs[r], -len(r)))
            else:
                out[surface] = surface if surface in strong else None
    return out


def _split_long(text: str, start: int) -> list[tuple[str, int]]:
    """Cut a sentence over the quote limit at clause boundaries, each piece verbatim."""
    if len(text) <= MAX_QUOTE:
        return [(text, start)]
    out: list[tuple[str, int]] = []
    rest, at = text, start
    while len(rest) > MAX_QUOTE:
        cuts = [m.end() for m in re.finditer(r"[;,—–]\s", rest[:MAX_QUOTE])]
        cut = cuts[-1] if cuts else rest.rfind(" ", 0, MAX_QUOTE) + 1
        if cut <= 0:
            cut = MAX_QUOTE
        piece, piece_at = _trim(rest[:cut], at)
        out.append((piece, piece_at))
        rest, at = rest[cut:], at + cut
    piece, piece_at = _trim(rest, at)
    if words(piece):
        out.append((piece, piece_at))
    return out


def split_article(article: str) -> list[Sentence]:
    """The article's quotable sentences, in order, each with its speaker where known."""
    _, body = _parse_header(paragraphs(article))
    raw, attribution = _raw_sentences(body)
    for fact in raw:
        if fact.qid is None and fact.who is None:
            fact.who = _reported_subject(fact.text)
    strong = {w for w in attribution.values() if w}
    openers = {id(f): runs[0] for f in raw if f.qid is None
               for runs in [_runs(" ".join(f.text.split()[:4]))] if runs}
    names = _resolver(article, strong | {f.who for f in raw if f.who} | set(openers.values()),
                      strong)
    speakers = {names.get(w) for w in strong | {f.who for f in raw if f.who}} - {None}
    out: list[Sentence] = []
    context: str | None = None  # the last person who spoke: "he said" means them
    for fact in raw:
        who = attribution.get(fact.qid) if fact.qid is not None else fact.who
        speaker: str | None = None
        if who and who.casefold() in _PRONOUNS:
            speaker = context
        elif who:
            speaker = names.get(who)
        elif fact.qid is not None:
            speaker = context  # an unattributed quotation continues the last speaker
        if speaker:
            context = speaker
        elif names.get(openers.get(id(fact), "")) in speakers:
            context = names[openers[id(fact)]]  # "Chen declined ..." then "she said"
        text = re.sub(r"\s+", " ", fact.text)
        for piece, at in _split_long(text, fact.start):
            # Glue a very short quoted sentence ("That hurts.") to the one before it,
            # when only spaces lie between them in the article.
            if out and fact.qid is not None and out[-1].quotation == fact.qid \
                    and _word_count(piece) < 5:
                prev = out[-1]
                between = article[_offset_of(article, prev):at]
                if not between.strip() and len(prev.text) + 1 + len(piece) <= MAX_QUOTE:
                    out[-1] = Sentence(f"{prev.text} {piece}", prev.line, prev.paragraph,
                                       prev.speaker, prev.quotation)
                    continue
            out.append(Sentence(piece, article.count("\n", 0, at) + 1, fact.paragraph,
                                speaker, fact.qid))
    return out


def _offset_of(article: str, sentence: Sentence) -> int:
    """Where a sentence ends in the article (it is verbatim, modulo whitespace)."""
    line_start = sum(len(line) + 1 for line in article.split("\n")[:sentence.line - 1])
    pattern = r"\s+".join(re.escape(w) for w in sentence.text.split())
    found = re.compile(pattern).search(article, line_start)
    return found.end() if found else line_start


# --- speakers' roles -------------------------------------------------------------


def speaker_role(article: str, name: str) -> str | None:
    """The role the article gives a speaker, cut verbatim from it, or None."""
    flat = re.sub(r"\s+", " ", article)
    esc = re.escape(name)
    # "Mei Chen, Larkspur's co-founder and chief executive."
    for match in re.finditer(rf"{esc}, (?P<role>[^,.;“”\"]{{3,80}}?)[,.]", flat):
        role = match.group("role").strip()
        first = role.split()[0]
        if first in ("who", "which", "whose", "said", "told") or not role:
            continue
        if first[0].islower() or "'s " in role or "’s " in role:
            return role
    # "South Korea’s ambassador to Malaysia, Lee Chi-beom said"
    for match in re.finditer(rf"(?:^|[.!?”\"]\s|\n)(?P<role>[A-Z][^,.;“”\"]{{2,80}}), {esc}\b",
                             article):
        role = match.group("role").strip()
        if any(w[0].islower() for w in role.split()) and len(role.split()) <= 10:
            return role
    # "Harbourside manager Elena Marsh said", "Chief technology officer Arjun Nair said"
    for match in re.finditer(rf"(?:^|[.!?,”\"]\s|\n)(?P<role>(?:[A-Z][\w\-]*\s)?(?:[a-z][\w\-]*\s)"
                             rf"{{1,4}}){esc}\b", article):
        role = match.group("role").strip()
        if role.split()[-1] not in STOPWORDS:
            return role
    return None


# --- topics ------------------------------------------------------------------------

FACTS_PER_TOPIC = 4  # a draft topic's size; a curator merges or splits from there
KEYWORDS_PER_TOPIC = 12
# Words a topic should not be named after: they say nothing about what it is about.
_WEAK = set(_SPEECH.split("|")) | {
    "year", "years", "week", "weeks", "time", "first", "last", "one", "two", "three", "four",
    "five", "six", "seven", "eight", "nine", "ten", "new", "today", "day", "days", "month",
    "months", "per", "cent", "percent", "since", "still", "around", "next", "told", "make",
    "made", "would", "could", "every", "even", "well", "long", "used", "went", "came", "come",
    "including", "compared", "between", "against", "without", "think", "though", "although",
    "able", "already", "while", "after", "before", "among", "least", "saying", "him", "her",
    "going", "way", "ever", "never", "them", "our", "us", "we", "they", "its", "their"}


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


def _content_stems(text: str) -> list[str]:
    return [stem(w) for w in words(text)
            if w not in STOPWORDS and w not in _WEAK and not w.isdigit() and len(w) > 2]


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


def _segment(units: list[list[Sentence]], generic: set[str]) -> list[list[list[Sentence]]]:
    """Cut the units into runs of about FACTS_PER_TOPIC facts, where neighbours share the
    fewest words (TextTiling-like), by dynamic programming over the cut points."""
    n = len(units)
    total = sum(len(u) for u in units)
    k = max(1, min(n, 12, round(total / FACTS_PER_TOPIC)))
    if k == 1:
        return [units]
    bags = [Counter(s for sent in u for s in _content_stems(sent.text) if s not in generic)
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

    inf = float("inf")
    best = [[inf] * (n + 1) for _ in range(k + 1)]
    back = [[0] * (n + 1) for _ in range(k + 1)]
    best[0][0] = 0.0
    for parts in range(1, k + 1):
        for j in range(parts, n + 1):
            for i in range(parts - 1, j):
                if best[parts - 1][i] == inf:
                    continue
                cost = best[parts - 1][i] + run_cost(i, j) + (cut_cost[i] if i else 0.0)
                if cost < best[parts][j]:
                    best[parts][j], back[parts][j] = cost, i
    cuts: list[int] = []
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
    for s in sentences:
        for raw in re.findall(r"[\w’'\-]+", s.text):
            raw = re.sub(r"['’]s$", "", raw).strip("-’'")
            for w in words(raw):
                forms[stem(w)][raw if raw.casefold().replace("-", "") == w else w] += 1
    return forms


def _pick_form(forms: Counter[str]) -> str:
    best = forms.most_common()
    # Lower case unless the word is always capitalised (a name).
    lower = [f for f, _ in best if not f[:1].isupper()]
    return lower[0] if lower else best[0][0]


def _command_name(word: str, used: set[str]) -> str | None:
    name = re.sub(r"[^a-z0-9_]+", "_", word.casefold()).strip("_")[:32]
    if not name or not COMMAND_RE.match(name) or name in BUILTIN_COMMANDS or name in used:
        return None
    return name


def suggest_topics(sentences: Sequence[Sentence], taken: Iterable[str] = ()
                   ) -> tuple[list[TopicDraft], list[str]]:
    """Group sentences into topics; return them and the pack's generic terms."""
    units = _units(sentences)
    unit_bags = [set(s for sent in u for s in _content_stems(sent.text)) for u in units]
    unit_df: Counter[str] = Counter(s for bag in unit_bags for s in bag)
    # Words in a third or more of the paragraphs say which article, not which topic.
    generic = {s for s, n in unit_df.items() if n >= max(3, len(units) / 4)}
    runs = _segment(units, generic)
    forms = _surfaces(sentences)
    bags = [Counter(s for u in run for sent in u for s in _content_stems(sent.text)
                    if s not in generic) for run in runs]
    df: Counter[str] = Counter(s for bag in bags for s in bag)
    used = set(taken)
    topics: list[TopicDraft] = []
    for run, bag in zip(runs, bags, strict=True):
        flat = [s for u in run for s in u]
        ranked = sorted(bag, key=lambda s: (-bag[s] * math.log(1 + len(runs) / df[s]),
                                            -len(s), s))
        ranked = [s for s in ranked if s in forms]
        command = None
        for s in ranked:
            form = _pick_form(forms[s])
            if any(c.isdigit() for c in form) or form.endswith("ly") or form in _NOT_NAMES:
                continue  # "18-year-old", "particularly", "March" name no subject
            command = _command_name(form, used)
            if command is not None:
                break
        if command is None:
            command = _command_name(f"topic_{len(topics) + 1}", used) or f"t{len(topics) + 1}"
        used.add(command)
        keywords = [_pick_form(forms[s]) for s in ranked[:KEYWORDS_PER_TOPIC]]
        # People ask "what did Mei Chen say": a topic's main speaker is one of its keywords.
        speakers = Counter(s.speaker for s in flat if s.speaker)
        keywords += [name for name, n in speakers.most_common() if n * 2 >= len(flat)]
        topics.append(TopicDraft(command, _description(keywords, flat), keywords, flat,
                                 (flat[0].line, flat[-1].line)))
    generic_terms = {_pick_form(forms[s]).casefold() for s in generic if s in forms}
    # A generic name with a number ("Tern 2", "Galaxy S24") is generic as a whole; else the
    # number alone would read as a word the pack does not know.
    text = " ".join(s.text for s in sentences)
    for name, n in Counter(re.findall(r"\b([A-Z][\w\-]+ [A-Z]?\d{1,4})\b", text)).items():
        if n >= 3 and stem(words(name)[0]) in generic:
            generic_terms.add(name.casefold())
    return topics, sorted(generic_terms)


def _description(keywords: list[str], sentences: list[Sentence]) -> str:
    heads = keywords[:3] or ["facts"]
    heads[0] = heads[0][:1].upper() + heads[0][1:]
    text = heads[0] if len(heads) == 1 else ", ".join(heads[:-1]) + f" and {heads[-1]}"
    speakers = Counter(s.speaker for s in sentences if s.speaker)
    if speakers:
        name, n = speakers.most_common(1)[0]
        if n * 2 >= len(sentences) and len(text) + len(name) + 3 <= MAX_DESCRIPTION:
            text += f" — {name}"
    return text[:MAX_DESCRIPTION]


def draft(article: str, name: str, taken: Iterable[str] = ()) -> Draft:
    """Everything ``facts new`` writes, before it becomes YAML."""
    header = read_header(article)
    sentences = split_article(article)
    if not sentences:
        raise ConfigError("the article has no sentences to quote")
    topics, generic = suggest_topics(sentences, taken)
    speakers: dict[str, str | None] = {}
    for s in sentences:
        if s.speaker and s.speaker not in speakers:
            speakers[s.speaker] = speaker_role(article, s.speaker)
    return Draft(name, header, speakers, generic, topics)


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
    lines.append("topics:")
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
    return "\n".join(lines) + "\n"


# --- command line -------------------------------------------------------------------


def _taken_commands(root: Path, skip: Path) -> set[str]:
    """Commands and aliases of the packs already in the facts directory, to avoid them."""
    from bot.packs import load_pack, pack_folders

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


def new_main(args: argparse.Namespace, settings: Settings) -> int:
    """Write ``OUT/NAME/pack.yaml`` and a copy of the article; print what was drafted."""
    source = Path(args.article)
    name = str(args.name)
    if not re.fullmatch(r"[a-z0-9][a-z0-9_\-]{0,63}", name):
        raise ConfigError(f"--name {name!r}: use lower-case letters, digits, '-' and '_'")
    try:
        article = source.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{source}: cannot read the article ({exc})") from None
    root = Path(args.out) if args.out else settings.facts
    folder = root / name
    if (folder / "pack.yaml").exists():
        raise ConfigError(f"{folder / 'pack.yaml'} already exists; choose another --name "
                          f"or --out")
    if not words(article):
        raise ConfigError(f"{source}: the article has no sentences to quote")
    d = draft(article, name, _taken_commands(root, folder))
    try:
        folder.mkdir(parents=True, exist_ok=True)
        if not (folder / "article.txt").exists() or \
                (folder / "article.txt").resolve() != source.resolve():
            shutil.copyfile(source, folder / "article.txt")
        (folder / "pack.yaml").write_text(render_yaml(d), encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{folder}: cannot write the draft ({exc.strerror})") from None
    facts = sum(len(t.sentences) for t in d.topics)
    print(f"wrote {folder / 'pack.yaml'}: {len(d.topics)} topics, {facts} facts, "
          f"{len(d.speakers)} speakers")
    for topic in d.topics:
        print(f"  /{topic.command:<16} {len(topic.sentences):>2} facts  {topic.description}")
    missing = [k for k in ("outlet", "dateline", "date") if getattr(d.header, k) is None]
    missing += [f"role of {s}" for s, r in d.speakers.items() if r is None]
    if missing:
        print(f"TODO: {', '.join(missing)} (not in the article; fill them in pack.yaml)")
    print(f"next: edit the draft, then run `factbot facts check {folder}`")
    return 0
