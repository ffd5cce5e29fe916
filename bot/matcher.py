"""Does a message match? Score every intent and fact; never decide or render.

An *intent* is a topic of a pack or one of the built-in commands. The matcher
turns what a person typed into stems (Latin scripts), contained keywords
(Hangul) and corrected typos, finds the pack's aliases and keywords among them
and returns scored candidates, best first. Deciding which one to answer, if
any, is ``bot.router``'s job; saying it is ``bot.render``'s.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from bot.packs import BUILTIN_COMMANDS, Fact, FactPack, Topic, alias_key
from bot.text import is_hangul, malay_stem, stem, word_tuple, words
from bot.vocab import FOREIGN_PLACES, SHIFT_WORDS, STOPWORDS

# Weights of the kinds of evidence, per topic. Aliases are names of the topic.
ALIAS = 3.0
KEYWORD = 1.6
FACT_KEYWORD = 1.0
FACT_WORD = 0.5
FUZZY = 0.8  # a corrected typo counts a little less than the word itself
UNKNOWN = 0.9  # each word the pack does not know makes a match less likely
# Korean glues endings to words, so an unknown Korean word says less about the topic.
UNKNOWN_HANGUL = 0.5
MAX_TOKENS = 48  # the matcher reads this much of a message; a rant is not a question
MAX_CHARS = 600  # enough for MAX_TOKENS words; a longer message is not read further
MAX_WORD = 40  # a longer "word" is noise: unknown, and neither corrected nor cached

# Built-in commands can be asked for in words too ("what topics do you know?").
BUILTIN_PHRASES: dict[str, tuple[str, ...]] = {
    "topics": ("topics", "topic", "subjects", "subject", "menu", "list", "what can you",
               "what can i ask", "what do you know", "what do you know about", "what else",
               "what can you do", "what do you cover", "what can you answer",
               "can you answer", "what kind of things", "senarai", "topik", "boleh tanya apa",
               "nak tanya apa", "주제", "목록", "물어볼 수", "뭘 물어", "뭐 물어", "무엇을 물어"),
    "help": ("help", "how to use", "how do i use", "how does this work", "how does this bot work",
             "how do you work", "commands", "command", "usage", "instructions", "guide",
             "bantuan", "tolong", "cara guna", "macam mana nak guna", "macam mana guna",
             "camne nak guna", "nak guna", "cara pakai", "도움말", "도움", "사용법",
             "어떻게 써", "어떻게 사용"),
    "source": ("source", "sources", "article", "where from", "where is this from",
               "where does this come from", "cite", "citation", "reference", "news", "original",
               "quotes", "quote", "these quotes", "published", "publisher", "story",
               "where did you get", "where do you get", "where do u get", "who wrote",
               "dari mana", "info dari mana", "sumber", "rujukan", "artikel", "berita",
               "출처", "기사", "원문", "뉴스"),
    "start": ("start", "begin", "get started", "mula", "시작"),
    # "Any fact will do": the next fact of the chat's round over every topic.
    "fact": ("random fact", "a fact", "any fact", "fun fact", "surprise me", "another fact",
             "tell me something", "fakta", "fakta menarik", "fakta rawak", "재미있는 사실",
             "아무거나"),
}
BUILTIN_FREE_TEXT = ("topics", "help", "source", "start", "fact")
# Words that put what follows in a place: "in Korea", "di Malaysia", "ke Seoul".
PLACE_WORDS = frozenset({"in", "inside", "within", "to", "at", "di", "ke", "dalam"})
# A fact also touches a place it names with "of" or "from" ("aspects of Korea"); a
# question does not ("the ambassador of Korea" is still about Malaysia's ambassador).
FACT_PLACE_WORDS = PLACE_WORDS | {"of", "from"}
# A question that asks "when" needs a fact that says when.
WHEN_WORDS = frozenset({"when", "bila", "bilakah", "언제"})
_YEAR = re.compile(r"\b(?:19|20)\d\d\b")
_TIME = re.compile(r"\b(?:(?:19|20)\d\d|jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|"
                   r"june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|"
                   r"dec(?:ember)?|today|currently|now|this year|\d+(?:st|nd|rd|th) year)\b",
                   re.IGNORECASE)
# Korean marks a place with a particle on the noun: "한국에", "말레이시아에서".
HANGUL_PLACE_PARTICLES = ("에서", "에", "으로", "로")


def _fuzzy() -> tuple[Any, Any]:
    """rapidfuzz, imported on the first typo: most start-ups and messages never need it."""
    from rapidfuzz import process
    from rapidfuzz.distance import OSA

    return process, OSA


def _nearest(word: str, known: list[str]) -> tuple[str, int] | None:
    """The closest known word within 1 edit (2 for a long word), transpositions counted once."""
    process, osa = _fuzzy()
    found = process.extractOne(word, known, scorer=osa.distance,
                               score_cutoff=1 if len(word) < 7 else 2)
    return None if found is None else (found[0], int(found[1]))


@dataclass(frozen=True, slots=True)
class Intent:
    name: str
    topic: Topic | None  # None for a built-in command


@dataclass(frozen=True, slots=True)
class Candidate:
    """One scored answer: an intent and, for topics, the best fact in it."""

    intent: Intent
    fact: Fact | None
    score: float  # 0..1, comparable with the router's threshold
    evidence: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Analysis:
    """What the matcher understood of a message."""

    units: tuple[tuple[str, ...], ...]  # matched terms, as stem tuples
    fuzzy: frozenset[tuple[str, ...]]
    content: int  # tokens that are not stop words
    unknown: tuple[str, ...]  # content tokens the pack does not know at all
    places: frozenset[str] = frozenset()  # where the question is set ("in Korea")
    foreign: tuple[str, ...] = ()  # places the pack is not about ("Japan")
    shifts: tuple[str, ...] = ()  # "before", "next": another time than the article's
    years: frozenset[str] = frozenset()
    asks_when: bool = False
    known: tuple[str, ...] = ()  # stems of the content words the packs know
    said: frozenset[str] = frozenset()  # stems of every word as typed, before phrases join


def _term(text: str) -> tuple[str, ...]:
    return tuple(stem(w) for w in word_tuple(text))


class Matcher:
    """Scores messages against every topic of the loaded packs."""

    def __init__(self, packs: Sequence[FactPack]) -> None:
        self.packs = tuple(packs)
        self.intents: list[Intent] = [Intent(t.command, t) for p in packs for t in p.topics]
        self.intents += [Intent(name, None) for name in BUILTIN_FREE_TEXT]
        self._by_name = {i.name: i for i in self.intents}
        # term -> intent index -> weight
        self._terms: dict[tuple[str, ...], dict[int, float]] = defaultdict(dict)
        # term -> (intent index, fact index) -> weight
        self._fact_terms: dict[tuple[str, ...], dict[tuple[int, int], float]] = defaultdict(dict)
        self._generic: set[tuple[str, ...]] = set()
        self._commands: dict[str, int] = {}  # folded command or alias key -> intent
        self._surface: dict[str, str] = {}  # known word -> its stem, for typo correction
        self._hangul: set[str] = set()  # Korean terms, matched inside words (particles)
        self._malay: dict[str, str] = {}  # Malay root of a known word -> its stem
        self._places: dict[tuple[str, ...], str] = {}
        for pack in packs:
            for place, names in pack.places.items():
                for name in (place, *names):
                    self._places[tuple(stem(w) for w in words(name))] = place
        own = {" ".join(words(n)) for p in packs for place, names in p.places.items()
               for n in (place, *names)}
        self._foreign = FOREIGN_PLACES - own
        self._foreign_heads = {f.split()[0] for f in self._foreign if " " in f}
        self._foreign_hangul = tuple(sorted((f for f in self._foreign if not f.isascii()),
                                            key=len, reverse=True))
        self._topic_places: dict[int, frozenset[str]] = {}
        self._topic_years: dict[int, frozenset[str]] = {}
        self._topic_has_time: dict[int, bool] = {}
        self._topic_requires: dict[int, tuple[tuple[str, ...], ...]] = {}
        for index, intent in enumerate(self.intents):
            self._index_intent(index, intent)
        for pack in packs:
            for term in pack.generic_terms:
                self._add_surface(term)
                self._generic.add(_term(term))
        self._surface_list = sorted(w for w in self._surface if len(w) >= 4)
        # Every stem of a phrase is known, so that "how do i use" is not read as a typo.
        phrases = [t for t in (*self._terms, *self._fact_terms, *self._generic) if len(t) > 1]
        self._phrase_stems = {w for t in phrases for w in t}
        self._phrase_len: dict[tuple[str, str], int] = {}
        for t in phrases:
            pair = (t[0], t[1])
            self._phrase_len[pair] = max(len(t), self._phrase_len.get(pair, 0))
        self._pack_words = self._words_by_pack()
        # A term shared by several topics says less about each of them: weights are divided
        # by the square root of how many topics use the term, once, here.
        self._topic_weights = {
            term: tuple((i, w / math.sqrt(len(table))) for i, w in table.items())
            for term, table in self._terms.items()}
        self._fact_spread = {term: math.sqrt(len({k[0] for k in facts}))
                             for term, facts in self._fact_terms.items()}
        # Caches of this matcher's own: a reload's new matcher does not keep the old one alive.
        self._resolved = lru_cache(maxsize=16384)(self._resolve)
        self._corrected = lru_cache(maxsize=8192)(self._correct)
        self._command_list = sorted(self._commands)
        self._command_stems = {stem(name): i for name, i in sorted(self._commands.items())
                               if name.isascii()}

    # --- index ---------------------------------------------------------------

    def _words_by_pack(self) -> list[frozenset[str]]:
        """The stems each pack knows: with several packs, a word only another pack knows
        is an unknown word for this pack's topics ("recommend a movie" is no /hallyu)."""
        pack_of = {id(t): n for n, p in enumerate(self.packs) for t in p.topics}
        known: list[set[str]] = [set() for _ in self.packs]
        for n, pack in enumerate(self.packs):
            for generic in pack.generic_terms:
                known[n].update(_term(generic))
        for term, table in self._terms.items():
            for index in table:
                topic = self.intents[index].topic
                if topic is not None:
                    known[pack_of[id(topic)]].update(term)
        for term, facts in self._fact_terms.items():
            for index, _ in facts:
                topic = self.intents[index].topic
                if topic is not None:
                    known[pack_of[id(topic)]].update(term)
        self._intent_pack = [pack_of[id(i.topic)] if i.topic is not None else None
                             for i in self.intents]
        return [frozenset(k) for k in known]

    def _add_surface(self, text: str) -> None:
        for w in word_tuple(text):
            if is_hangul(w):
                self._hangul.add(w)
            elif w not in STOPWORDS:
                self._surface[w] = stem(w)
                root = malay_stem(w)
                if len(root) >= 4:
                    self._malay.setdefault(root, stem(w))

    def _variants(self, text: str) -> list[tuple[str, ...]]:
        """A term and, for a phrase, its closed-up form: "supply chain" and "supplychain"."""
        self._add_surface(text)
        term = _term(text)
        if len(term) < 2:
            return [term] if term else []
        parts = word_tuple(text)
        # Only content words close up: "who wrote" must not become a word of its own.
        if any(w in STOPWORDS for w in parts) or not "".join(parts).isascii():
            return [term]
        joined = "".join(parts)
        self._surface[joined] = stem(joined)
        return [term, (stem(joined),)]

    def _add(self, index: int, text: str, weight: float) -> None:
        for term in self._variants(text):
            table = self._terms[term]
            table[index] = max(table.get(index, 0.0), weight)

    def _add_fact(self, index: int, fact_no: int, text: str, weight: float) -> None:
        for term in self._variants(text):
            table = self._fact_terms[term]
            table[(index, fact_no)] = max(table.get((index, fact_no), 0.0), weight)

    def _index_intent(self, index: int, intent: Intent) -> None:
        self._commands[intent.name] = index
        topic = intent.topic
        if topic is None:
            phrases = list(BUILTIN_PHRASES[intent.name])
            if intent.name == "source":  # "is this from Bernama?"
                phrases += [p.source.outlet for p in self.packs]
            # A wish for any fact must not outweigh a topic named with it ("a fact on k-pop").
            weight = KEYWORD if intent.name == "fact" else ALIAS
            for phrase in phrases:
                self._add(index, phrase, weight if len(words(phrase)) > 1 else KEYWORD)
            return
        self._add(index, topic.command, ALIAS)
        for alias in topic.aliases:
            self._add(index, alias, ALIAS)
            self._commands.setdefault(alias_key(alias), index)
        for keyword in topic.keywords:
            self._add(index, keyword, KEYWORD)
        pack = next(p for p in self.packs if topic in p.topics)
        texts = [f.quote for f in topic.facts] + [pack.speaker_line(f.speaker) or ""
                                                   for f in topic.facts]
        self._topic_places[index] = frozenset().union(
            *(self.places_in(t, FACT_PLACE_WORDS) for t in texts))
        said = " ".join([*texts, *topic.keywords, *topic.aliases,
                         *(k for f in topic.facts for k in f.keywords)])
        self._topic_years[index] = frozenset(_YEAR.findall(said))
        self._topic_requires[index] = tuple(t for t in map(_term, topic.requires) if t)
        self._topic_has_time[index] = any(_TIME.search(f.quote) for f in topic.facts)
        for fact_no, fact in enumerate(topic.facts):
            for keyword in fact.keywords:
                self._add_fact(index, fact_no, keyword, FACT_KEYWORD)
            for word in words(fact.quote):
                # Single digits say nothing; "13000" or "62" may be the question.
                if word not in STOPWORDS and (not word.isdigit() or len(word) > 1):
                    self._add_fact(index, fact_no, word, FACT_WORD)

    # --- commands ---------------------------------------------------------------

    def intent(self, name: str) -> Intent | None:
        return self._by_name.get(name)

    def resolve_command(self, command: str) -> tuple[Intent, float] | None:
        """Find the intent a command names, allowing aliases and small typos."""
        key = alias_key(command)
        if not key:
            return None
        if key in BUILTIN_COMMANDS:
            return None
        index = self._commands.get(key)
        if index is None:  # "/cooperate" for /cooperation
            index = self._command_stems.get(stem(key))
        if index is not None:
            return self.intents[index], 1.0
        if len(key) < 4:
            return None
        found = _nearest(key, self._command_list)
        if found is None:
            return None
        name, distance = found
        return self.intents[self._commands[name]], 1.0 - 0.1 * distance

    # --- free text --------------------------------------------------------------

    def _correct(self, word: str) -> str | None:
        """The known word a typo most likely meant, or None."""
        if len(word) < 5 or not word.isalpha():
            return None
        found = _nearest(word, self._surface_list)
        # A different first letter is rarely a typo and often another word.
        return found[0] if found is not None and found[0][0] == word[0] else None

    def _known_stem(self, s: str) -> bool:
        return (s,) in self._terms or (s,) in self._fact_terms or (s,) in self._generic

    def places_in(self, text: str, place_words: frozenset[str] = PLACE_WORDS) -> frozenset[str]:
        """The places a text sets itself in: "in Malaysia", "di Korea", "한국에서"."""
        if not self._places:
            return frozenset()
        tokens = word_tuple(text[:MAX_CHARS])[:MAX_TOKENS]
        found: set[str] = set()
        for i, token in enumerate(tokens):
            if token in place_words:
                after = [stem(w) for w in tokens[i + 1:i + 4] if w != "the"][:2]
                for n in (2, 1):
                    place = self._places.get(tuple(after[:n])) if len(after) >= n else None
                    if place:
                        found.add(place)
                        break
            elif not token.isascii():
                for particle in HANGUL_PLACE_PARTICLES:
                    if token.endswith(particle) and len(token) > len(particle):
                        place = self._places.get((token[:-len(particle)],))
                        if place:
                            found.add(place)
                        break
        return frozenset(found)

    def analyse(self, text: str) -> Analysis:
        raw = list(word_tuple(text[:MAX_CHARS])[:MAX_TOKENS])
        # Join split compounds the pack knows as one word: "k pop", "health care".
        tokens: list[str] = []
        i = 0
        while i < len(raw):
            if i + 1 < len(raw) and raw[i] + raw[i + 1] in self._surface:
                tokens.append(raw[i] + raw[i + 1])
                i += 2
            else:
                tokens.append(raw[i])
                i += 1
        stems: list[str | None] = []
        stops: list[bool] = []
        fuzzy: set[tuple[str, ...]] = set()
        unknown: list[str] = []
        known: list[str] = []
        content = 0
        extra: list[tuple[str, ...]] = []
        for token in tokens:
            # A lone digit ("Tern 2", "top 3") is too small to say the question is off-topic.
            if token in STOPWORDS or (len(token) == 1 and token.isdigit()):
                stems.append(stem(token))
                stops.append(True)
                continue
            content += 1
            stops.append(False)
            resolved, is_fuzzy, more = (self._resolved(token) if len(token) <= MAX_WORD
                                        else (None, False, ()))
            stems.append(resolved)
            if resolved is None:
                unknown.append(token)
            else:
                known.append(resolved)
                if is_fuzzy:
                    fuzzy.add((resolved,))
            extra.extend(more)
        units = self._find_units(stems, stops) + extra
        words_said = frozenset(raw)
        return Analysis(units=tuple(units), fuzzy=frozenset(fuzzy), content=content,
                        unknown=tuple(unknown), places=self.places_in(text),
                        foreign=self._foreign_in(raw), years=frozenset(_YEAR.findall(text)),
                        shifts=tuple(words_said & SHIFT_WORDS), known=tuple(known),
                        said=frozenset(stem(w) for w in words_said if len(w) <= MAX_WORD),
                        asks_when=bool(words_said & WHEN_WORDS)
                        or any(w.startswith("언제") for w in words_said if not w.isascii()))

    def _foreign_in(self, tokens: list[str]) -> tuple[str, ...]:
        found: list[str] = []
        for i, token in enumerate(tokens):
            if token in self._foreign_heads and i + 1 < len(tokens) \
                    and f"{token} {tokens[i + 1]}" in self._foreign:
                found.append(f"{token} {tokens[i + 1]}")
            elif token in self._foreign:
                found.append(token)
            elif not token.isascii():
                found += [f for f in self._foreign_hangul if token.startswith(f)][:1]
        return tuple(found)

    def _topic_knows(self, index: int, name: str) -> bool:
        """Whether a topic's own words include ``name`` ("china" in "US-China tensions")."""
        term = tuple(stem(w) for w in words(name))
        table = self._terms.get(term)
        if table and index in table:
            return True
        facts = self._fact_terms.get(term, {})
        return any(i == index for i, _ in facts)

    def _fits(self, index: int, analysis: Analysis) -> bool:
        """Refuse a topic whose facts are set elsewhere, in another year, or say no 'when'."""
        if self.intents[index].topic is None:
            return True
        where = self._topic_places.get(index)
        if analysis.places and where and not analysis.places & where:
            return False  # "Malaysians living in Korea" against facts set in Malaysia
        if any(not self._topic_knows(index, f) for f in analysis.foreign + analysis.shifts):
            return False  # "Japan's trade partners", "the ambassador before Lee"
        if analysis.years and not analysis.years <= self._topic_years[index]:
            return False  # "trade in 2023"
        needed = self._topic_requires.get(index)
        if needed:
            said = analysis.said.union(*analysis.units)
            if not any(set(term) <= said for term in needed):
                return False  # "how many people live in Malaysia": whose community?
        return not (analysis.asks_when and not self._topic_has_time[index])

    def _resolve(self, token: str) -> tuple[str | None, bool, tuple[tuple[str, ...], ...]]:
        """A content word's stem, whether it was a corrected typo, and extra Korean terms."""
        if not token.isascii() and is_hangul(token):
            found = self._hangul_terms(token)
            if not found:
                return None, False, ()
            return found[0], False, tuple((k,) for k in found[1:])
        s = stem(token)
        if self._known_stem(s) or s in self._phrase_stems:
            return s, False, ()
        root = self._malay.get(malay_stem(token))
        if root is not None:
            return root, False, ()
        corrected = self._corrected(token)
        if corrected is None:
            return None, False, ()
        return self._surface[corrected], True, ()

    def _hangul_terms(self, token: str) -> list[str]:
        """Korean keywords in a word, longest first: particles stick to nouns ("한류는")."""
        if token in self._hangul:
            return [token]
        found = [k for k in self._hangul if len(k) >= 2 and k in token]
        found.sort(key=lambda k: (-len(k), k))
        # Drop keywords that only occur inside a longer one already found.
        kept: list[str] = []
        for k in found:
            if not any(k in longer for longer in kept):
                kept.append(k)
        return kept

    def _is_term(self, term: tuple[str, ...]) -> bool:
        return term in self._terms or term in self._fact_terms or term in self._generic

    def _find_units(self, stems: list[str | None], stops: list[bool]) -> list[tuple[str, ...]]:
        """Longest known phrases first; every token is used once.

        A stop word counts alone only where the pack names it ("who" for the
        ambassador); inside a phrase ("how many") it always may.
        """
        units: list[tuple[str, ...]] = []
        i = 0
        count = len(stems)
        while i < count:
            head = stems[i]
            if head is None:
                i += 1
                continue
            # Only a known first pair can start a phrase: skip the window search otherwise.
            longest = self._phrase_len.get((head, stems[i + 1] or "")) if i + 1 < count else None
            if longest:
                for n in range(min(longest, count - i), 1, -1):
                    window = stems[i:i + n]
                    if None not in window:
                        term = tuple(w or "" for w in window)
                        if self._is_term(term):
                            units.append(term)
                            i += n
                            break
                else:
                    longest = None
            if not longest:
                if not stops[i] or (head,) in self._terms or (head,) in self._fact_terms:
                    units.append((head,))
                i += 1
        return units

    def rank(self, text: str, limit: int = 5) -> list[Candidate]:
        """Score every intent for ``text``; best first, at most ``limit``."""
        analysis = self.analyse(text)
        return self.rank_analysis(analysis, limit)

    def rank_analysis(self, analysis: Analysis, limit: int = 5) -> list[Candidate]:
        topic_score: dict[int, float] = defaultdict(float)
        fact_score: dict[tuple[int, int], float] = defaultdict(float)
        evidence: dict[int, list[str]] = defaultdict(list)
        for unit in analysis.units:
            if unit in self._generic:
                continue
            scale = FUZZY if unit in analysis.fuzzy else 1.0
            label = " ".join(unit)
            table = self._topic_weights.get(unit)
            if table:
                for index, weight in table:
                    topic_score[index] += scale * weight
                    evidence[index].append(label)
            facts = self._fact_terms.get(unit)
            if facts:
                spread = self._fact_spread[unit]
                for key, weight in facts.items():
                    fact_score[key] += scale * weight / spread
                    if key[0] not in topic_score or not table:
                        evidence[key[0]].append(label)
        best_fact: dict[int, tuple[float, int]] = {}
        for (index, fact_no), score in fact_score.items():
            prior = best_fact.get(index)
            if prior is None or score > prior[0]:
                best_fact[index] = (score, fact_no)
        penalty = sum(UNKNOWN if w.isascii() else UNKNOWN_HANGUL for w in analysis.unknown)
        candidates: list[Candidate] = []
        for index in set(topic_score) | set(best_fact):
            intent = self.intents[index]
            if not self._fits(index, analysis):
                continue
            fscore, fact_no = best_fact.get(index, (0.0, 0))
            raw = topic_score.get(index, 0.0) + fscore - penalty
            pack = self._intent_pack[index]
            if pack is not None and len(self.packs) > 1:
                own = self._pack_words[pack]
                raw -= UNKNOWN * sum(1 for w in analysis.known if w not in own)
            if raw <= 0:
                continue
            fact = intent.topic.facts[fact_no] if intent.topic else None
            candidates.append(Candidate(intent=intent, fact=fact, score=raw / (raw + 2.0),
                                        evidence=tuple(evidence[index])))
        candidates.sort(key=lambda c: (-c.score, c.intent.name))
        return candidates[:limit]

    def rank_facts(self, topic: Topic, text: str) -> list[tuple[float, int]]:
        """Score the facts of one topic for ``text`` (command arguments)."""
        index = self._commands[topic.command]
        analysis = self.analyse(text)
        scores: dict[int, float] = defaultdict(float)
        for unit in analysis.units:
            for (i, fact_no), weight in self._fact_terms.get(unit, {}).items():
                if i == index:
                    scores[fact_no] += weight
        return sorted(((s, f) for f, s in scores.items()), key=lambda x: (-x[0], x[1]))

    def complete(self, prefix: str, limit: int = 25) -> list[Topic]:
        """Topics for an autocomplete box: by name, alias or keyword, fuzzy."""
        key = alias_key(prefix)
        topics = [i.topic for i in self.intents if i.topic is not None]
        if not key:
            return topics[:limit]
        scored: list[tuple[float, int, Topic]] = []
        for n, topic in enumerate(topics):
            names = [topic.command, *map(alias_key, topic.aliases),
                     *map(alias_key, topic.keywords)]
            best = 0.0
            for name in names:
                if name.startswith(key):
                    best = max(best, 2.0 if name == topic.command else 1.5)
                elif key in name:
                    best = max(best, 1.0)
                else:
                    d = _fuzzy()[1].normalized_similarity(key, name[: len(key) + 1])
                    if d >= 0.7:
                        best = max(best, d)
            if best:
                scored.append((best, n, topic))
        scored.sort(key=lambda x: (-x[0], x[1]))
        return [t for _, _, t in scored[:limit]]

