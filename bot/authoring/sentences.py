"""An article's quotable sentences and quotations, and who says each one.

``split_article`` cuts the body's paragraphs into whole sentences. Quotation marks are
tracked across paragraphs (news style reopens a quotation on every paragraph and closes it
once), so a quotation spanning paragraphs is one quotation with one speaker. A quotation's
speaker is the one an attribution or a lead-in names (even when the quotation opens the
next paragraph), the one person speaking in the same paragraph, or the one person whose
speech fills the paragraph just before a quotation that opens its own paragraph. A
quotation none of these names gets no speaker: the draft never falls back to whoever
spoke last. Attribution clauses are not facts, and a sentence over the quote limit is cut
only at a clause boundary.

``facts check`` reads articles with ``split_article`` too.
"""

from __future__ import annotations

import bisect
import re
from collections import defaultdict
from dataclasses import dataclass, field

from factbot.authoring.article import Paragraph, _is_heading, _parse_header, paragraphs
from factbot.authoring.speakers import (
    _PRONOUNS,
    _RUN,
    _SPEECH,
    _SUBORDINATE_LEAD,
    _attribution_only,
    _describes_someone,
    _maybe_person,
    _participle_only,
    _Resolver,
    _says_more,
    _speaker_phrase,
    _speaks,
)
from factbot.packs import MAX_QUOTE
from factbot.text import words

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


# --- sentences over the quote limit ----------------------------------------------

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


# --- who says each sentence -------------------------------------------------------

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
