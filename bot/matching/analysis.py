"""What a person typed, in the index's terms: stems, phrases, foreign words made English,
typos corrected, the words the pack does not know, and what the question demands.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, NamedTuple

from factbot.matching.index import PLACE_WORDS, Index, close_initials, places_in
from factbot.matching.rules import Demands, demands_of
from factbot.text import _YEAR_RE, is_hangul, malay_stem, stem, word_tuple
from factbot.vocab import FOREIGN_PLACES, SHIFT_WORDS, STOPWORDS

MAX_TOKENS = 48  # the matcher reads this much of a message; a rant is not a question
MAX_CHARS = 600  # enough for MAX_TOKENS words; a longer message is not read further
MAX_WORD = 40  # a longer "word" is noise: unknown, and neither corrected nor cached

# "What did the ambassador say about X", "what does the article say about X", "Lee thinks":
# the frame points to X. These words, with a speaker's name or role, make a frame.
_SAY = """
say said says saying think thinks thought believe believes believed feel feels felt mention
mentioned mentions talk talked talks talking speak spoke speaks comment comments commented
view views opinion opinions stance position claim claims claimed argue argued argues tell
told tells describe described call called state stated add added highlight highlighted note
noted express expressed hope hopes hoped reckon reckons want wants wanted warn warned according
take reaction react reacted response respond responded kata
berkata cakap fikir pendapat pandangan sebut menyebut beritahu 말 말했 생각 의견 입장 발언
"""
SAY_WORDS = frozenset(_SAY.split())
_FRAME = """
article report story news piece text interview he she they him her them his official
officials envoy diplomat spokesperson spokesman spokeswoman artikel laporan berita dia
beliau 기사 그 그는
"""
FRAME_WORDS = frozenset(_FRAME.split())


# "what did the Prime Minister say", "according to the minister": who is said to speak.
_SAY_FRAME = re.compile(r"\b(?:did|does|do|has|have|would|will)\s+((?:[\w'-]+\s+){1,4}?)"
                        r"(?:say|said|think|feel|believe|mention|talk|tell|comment|speak|reveal)\b"
                        r"|\baccording to\s+((?:[\w'-]+\s*){1,4})")


# "Russell thinks…", "Lee said…": the speaker before the verb.
_SUBJECT_SAYS = re.compile(r"((?:[\w'-]+\s+){1,3}?)(?:thinks?|says?|said|believes?|feels?|told)\b")


# "Say sorry" is no "what did X say": it is one word.
_IDIOMS = re.compile(r"\b(?:say|says|said|saying) sorry\b|\bminta maaf\b")


# Time fillers of chat: "these days", "at the moment" ask about no time of their own.
_FILLER = re.compile(r"\b(?:these days|nowadays|at the moment|right now|as of now|"
                     r"for now|again|actually|exactly|currently|quick one|just one|"
                     r"how(?:'s| is| was) your day(?: going)?|have a (?:nice|good|great) day|"
                     r"good (?:morning|afternoon|evening|night))\b")


class Unit(NamedTuple):
    """A term of the question: a stem tuple, and how sure we are it is what was typed."""

    term: tuple[str, ...]
    scale: float = 1.0  # a corrected typo or a translated word counts a little less
    alternatives: tuple[tuple[str, ...], ...] = ()  # translations: any one may match


class Query(NamedTuple):  # one per message: a tuple is quicker to make than a dataclass
    """What the matcher understood of a message."""

    text: str
    units: tuple[Unit, ...]
    unknown: tuple[str, ...]  # content tokens nobody knows
    names: tuple[str, ...]  # speakers' name stems the question uses
    speakers: tuple[str, ...]  # of those, whom a frame says is speaking
    framed: bool  # "what did X say about …": names and frame words are no evidence
    demands: Demands
    places: frozenset[str]
    foreign: tuple[str, ...]
    shifts: tuple[str, ...]
    years: frozenset[str]
    said: frozenset[str]  # stems of every word as typed
    other_speaker: bool = False  # "what did the Prime Minister say": nobody the article quotes


def _fuzzy() -> tuple[Any, Any]:
    """rapidfuzz, imported on the first typo: most start-ups and messages never need it."""
    from rapidfuzz import process
    from rapidfuzz.distance import OSA

    return process, OSA


def nearest(word: str, known: list[str], cutoff: int) -> tuple[str, int] | None:
    """The closest known word within ``cutoff`` edits, transpositions counted once; None
    when two known words are equally close (a guess between two words is no answer)."""
    process, osa = _fuzzy()
    found = process.extract(word, known, scorer=osa.distance, score_cutoff=cutoff, limit=2)
    if not found or (len(found) > 1 and found[1][1] == found[0][1]
                     and found[1][0][:1] == found[0][0][:1]):
        return None
    return found[0][0], int(found[0][1])


class Analyser:
    """Turns text into a ``Query`` against one index; its caches die with the index."""

    def __init__(self, index: Index) -> None:
        self.index = index
        self._surface_list = sorted(w for w in index.surface if len(w) >= 4)
        own = {" ".join(word_tuple(n)) for p in index.packs for place, names in p.places.items()
               for n in (place, *names)}
        self._foreign = FOREIGN_PLACES - own
        self._foreign_heads = {f.split()[0] for f in self._foreign if " " in f}
        # Every token that could start a foreign place, "japans" ("japan's") included.
        self._foreign_any = self._foreign | self._foreign_heads | {f"{f}s" for f in self._foreign}
        self._foreign_hangul = tuple(sorted((f for f in self._foreign if not f.isascii()),
                                            key=len, reverse=True))
        self._name_stems = frozenset(index.speakers)
        # A stop word counts alone only where the pack names it ("who" for the ambassador).
        self._single_terms = frozenset(t[0] for t in (*index.prior, *index.keywords)
                                       if len(t) == 1)
        self._gloss: Callable[[str], tuple[tuple[str, ...], ...]]
        from functools import lru_cache

        self._resolved = lru_cache(maxsize=16384)(self._resolve)
        self._gloss = lru_cache(maxsize=16384)(self._glossed)

    def analyse(self, text: str, framing: bool = True) -> Query:
        text = text[:MAX_CHARS]
        raw = word_tuple(_IDIOMS.sub(" apologise ", _FILLER.sub(
            " ", close_initials(text).casefold())))[:MAX_TOKENS]
        typed = set(raw)
        raw_stems = [stem(w) if len(w) <= MAX_WORD else w for w in raw]
        said = frozenset(raw_stems)
        names = tuple(s for s in dict.fromkeys(raw_stems) if s in self._name_stems)
        speaker_words = self.index.speaker_words
        saying = bool(said & SAY_WORDS or typed & SAY_WORDS)
        frame_here = framing and saying and bool(
            names or typed & FRAME_WORDS or said & speaker_words
            or any(g[0] in speaker_words for w in raw for g in self._gloss(w))
            or any(self._resolved(w)[0] in speaker_words for w in raw
                   if len(w) <= MAX_WORD and w not in STOPWORDS))  # "spokeswomen"
        if frame_here and not names:
            # "what did the spokeswoman say": a role only one speaker has names them.
            for w in raw:
                typo = self._resolved(w)[0] if len(w) <= MAX_WORD else None
                for r in (stem(w), *(g[0] for g in self._gloss(w)), *((typo,) if typo else ())):
                    found = self.index.roles.get(r)
                    if found and len(found) == 1:
                        names = (*names, *found)
        stems: list[str | None] = []
        stops: list[bool] = []
        scales: list[float] = []
        glosses: list[tuple[tuple[str, ...], ...]] = []
        extra: list[Unit] = []
        unknown: list[str] = []
        for token, s0 in zip(raw, raw_stems, strict=True):
            if token in STOPWORDS or (len(token) == 1 and token.isdigit()):
                glosses.append(())
                stems.append(s0)
                stops.append(True)
                scales.append(1.0)
                continue
            gloss = self._gloss(token)
            glosses.append(gloss)
            if s0 in self._name_stems:
                # The speaker table takes names; a name alone may still be a topic's alias.
                stems.append(None if frame_here else s0)
                stops.append(True)
                scales.append(1.0)
                continue
            if frame_here and (token in SAY_WORDS or token in FRAME_WORDS
                               or s0 in speaker_words
                               or any(g[0] in speaker_words for g in gloss)
                               or self._resolved(token)[0] in speaker_words):
                stems.append(None)
                stops.append(True)
                scales.append(1.0)
                continue
            resolved, scale, more = (self._resolved(token) if len(token) <= MAX_WORD
                                     else (None, 1.0, ()))
            stems.append(resolved)
            stops.append(False)
            scales.append(scale)
            if resolved is None and not more:
                unknown.append(token)
            extra.extend(more)
        units = self._find_units(stems, stops, scales, glosses) + extra
        if len(units) > 1:  # "muka surat" and "surat" both say "page": count it once
            kept: dict[tuple[str, ...], Unit] = {}
            for unit in units:
                kept.setdefault(unit.term, unit)
            units = list(kept.values())
        if frame_here and not units and not unknown:
            # "who did the ambassador talk to": the question is about the speaker.
            return self.analyse(text, framing=False)
        # The place rules look for "in X", "di X" or a Korean particle: most messages have none.
        ascii_only = text.isascii()
        placed = not ascii_only or not typed.isdisjoint(PLACE_WORDS)
        # Of several names, the one the frame makes the speaker: "what does Russell think of
        # Brown's chances" keeps to Russell's words; Brown is what they are about.
        subject = self._frame_subject(text) if frame_here and len(names) > 1 else None
        speakers = tuple(n for n in names if n in subject) if subject else names
        return Query(text=text, units=tuple(units), unknown=tuple(unknown), names=names,
                     speakers=speakers or names, framed=frame_here, demands=demands_of(text),
                     places=places_in(text, self.index.places) if placed else frozenset(),
                     foreign=self._foreign_in(raw, typed, ascii_only),
                     shifts=tuple(typed & SHIFT_WORDS),
                     other_speaker=saying and not names and self._other_speaker(text),
                     years=frozenset(_YEAR_RE.findall(text)), said=said)

    def _glossed(self, token: str) -> tuple[tuple[str, ...], ...]:
        """English for a known Malay word too: "duta" is a pack keyword and "ambassador"."""
        if not token.isascii() or token in STOPWORDS:
            return ()
        gloss = self.index.glossary.get(token) or self.index.synonyms.get(token) \
            or self.index.glossary.get(malay_stem(token))
        return tuple((g,) for g in gloss) if gloss else ()

    def _frame_subject(self, text: str) -> set[str]:
        """The stems of who a "what did X say" or "X thinks" makes the speaker."""
        folded = text[:MAX_CHARS].casefold()
        match = _SAY_FRAME.search(folded) or _SUBJECT_SAYS.search(folded)
        if match is None:
            return set()
        said_by = next((g for g in match.groups() if g), "")
        return {stem(w) for w in word_tuple(said_by)}

    def _other_speaker(self, text: str) -> bool:
        """Whether a "what did X say" names an X the pack does not know at all."""
        match = _SAY_FRAME.search(text[:MAX_CHARS].casefold())
        if match is None:
            return False
        subject = [w for w in word_tuple(match.group(1) or match.group(2) or "")
                   if w not in STOPWORDS]
        return any(not self.index.known(stem(w)) and stem(w) not in self._name_stems
                   and w not in FRAME_WORDS and stem(w) not in self.index.glossary
                   for w in subject)

    def _resolve(self, token: str) -> tuple[str | None, float, tuple[Unit, ...]]:
        """A content word's stem, its weight, and extra units (Korean terms, translations)."""
        index = self.index
        if not token.isascii() and is_hangul(token):
            found = self._hangul_terms(token)
            translated = self._hangul_glossary(token)
            if not found and not translated:
                return None, 1.0, ()
            units = [Unit((k,)) for k in found]
            units += [Unit(t[:1], 0.8, tuple((s,) for s in t)) for t in translated]
            return None, 1.0, tuple(units)
        s = stem(token)
        if index.known(s):
            return s, 1.0, ()
        gloss = index.glossary.get(token) or index.synonyms.get(token)
        if gloss:
            return None, 1.0, (Unit(gloss[:1], 0.9, tuple((g,) for g in gloss)),)
        root = malay_stem(token)
        if root in index.malay:
            return index.malay[root], 0.9, ()
        if root in index.glossary:
            gloss = index.glossary[root]
            return None, 1.0, (Unit(gloss[:1], 0.85, tuple((g,) for g in gloss)),)
        if "-" not in token and len(token) >= 5 and token.isalpha() and token.isascii():
            near = nearest(token, self._surface_list, 1 if len(token) < 8 else 2)
            # A different first letter is rarely a typo and often another word.
            if near is not None and near[0][0] == token[0]:
                return index.surface[near[0]], 0.8, ()
        return None, 1.0, ()

    def _hangul_terms(self, token: str) -> list[str]:
        """Korean keywords in a word, longest first: particles stick to nouns ("한류는")."""
        hangul = self.index.hangul
        if token in hangul:
            return [token]
        found = sorted((k for k in hangul if len(k) >= 2 and k in token),
                       key=lambda k: (-len(k), k))
        kept: list[str] = []
        for k in found:
            if not any(k in longer for longer in kept):
                kept.append(k)
        return kept

    def _hangul_glossary(self, token: str) -> list[tuple[str, ...]]:
        found: list[tuple[str, ...]] = []
        taken: list[str] = []
        for key in self.index.glossary_hangul:
            if key in token and not any(key in t for t in taken) and (
                    len(key) >= 2 or token == key or token.startswith(key)):
                taken.append(key)
                found.append(self.index.glossary[key])
        return found

    def _find_units(self, stems: list[str | None], stops: list[bool],
                    scales: list[float], glosses: list[tuple[tuple[str, ...], ...]]
                    ) -> list[Unit]:
        """Longest known phrases first; every token is used once."""
        index = self.index
        units: list[Unit] = []
        i = 0
        count = len(stems)
        while i < count:
            head = stems[i]
            if head is None:
                i += 1
                continue
            longest = index.phrase_len.get((head, stems[i + 1] or "")) if i + 1 < count else None
            if longest:
                for n in range(min(longest, count - i), 1, -1):
                    window = stems[i:i + n]
                    if None not in window:
                        t = tuple(w or "" for w in window)
                        if t in index.prior or t in index.keywords or t in index.generic:
                            # The phrase in English counts in a sentence: "pertukaran budaya"
                            # as "cultural exchange", each word by its first translation.
                            english = tuple(glosses[k][0][0] if glosses[k] else t[k - i]
                                            for k in range(i, i + n))
                            units.append(Unit(t, min(scales[i:i + n]),
                                              (t, english) if english != t else ()))
                            i += n
                            break
                else:
                    longest = None
            if not longest:
                if not stops[i] or head in self._single_terms:
                    more = glosses[i]
                    units.append(Unit((head,), scales[i], ((head,), *more) if more else ()))
                i += 1
        return units

    def _foreign_in(self, tokens: tuple[str, ...], typed: set[str], ascii_only: bool
                    ) -> tuple[str, ...]:
        if ascii_only and typed.isdisjoint(self._foreign_any):
            return ()  # most messages name no country: one set test
        found: list[str] = []
        for i, token in enumerate(tokens):
            if token in self._foreign_heads and i + 1 < len(tokens) \
                    and f"{token} {tokens[i + 1]}" in self._foreign:
                found.append(f"{token} {tokens[i + 1]}")
            elif token in self._foreign:
                found.append(token)
            elif token.endswith("s") and token[:-1] in self._foreign:  # "japan's" -> "japans"
                found.append(token[:-1])
            elif not token.isascii():
                found += [f for f in self._foreign_hangul if token.startswith(f)][:1]
        return tuple(found)
