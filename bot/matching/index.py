"""The matcher's index: every fact's sentence, keywords and topics, built once per set of
packs, without side effects, and never changed after.

A fact is the unit of retrieval. Its own sentence is its evidence: each content word,
stemmed, with the parts of hyphenated words ("third-largest" → third, largest) and
neighbours closed up ("health care" → healthcare). Its curated keywords add to that.
A topic's command, aliases and keywords are a prior that points to the topic's facts.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from factbot import commands
from factbot.matching.glossary import ENGLISH, KOREAN, MALAY
from factbot.matching.rules import Shape, names_instances, shape_of
from factbot.packs import Fact, FactPack, Topic
from factbot.text import _DIGIT_GROUP, fold, is_hangul, malay_stem, stem, word_tuple, words
from factbot.vocab import LIGHT_WORDS, STOPWORDS

# Weights of the topic prior (per term) and of a built-in's phrases.
ALIAS = 2.0
KEYWORD = 0.8
PRIOR_CAP = 2.0  # a topic's names together never outweigh a strong sentence match
BUILTIN_PHRASE = 3.0
BUILTIN_WORD = 1.6
FACT_KEYWORD = 0.8  # times the keyword's rarity

# Where a fact sets itself: "in Malaysia", "of Korea", "di Malaysia", "한국에서".
PLACE_WORDS = frozenset({"in", "inside", "within", "to", "at", "di", "ke", "dalam"})
FACT_PLACE_WORDS = PLACE_WORDS | {"of", "from"}
HANGUL_PLACE_PARTICLES = ("에서", "에", "으로", "로")
_YEAR = re.compile(r"\b(?:1[6-9]|20)\d\d\b")


@dataclass(frozen=True, slots=True)
class Intent:
    name: str
    topic: Topic | None  # None for a built-in command


@dataclass(frozen=True, slots=True)
class Doc:
    """One distinct quote, wherever it is listed."""

    fact: Fact
    pack: int
    intents: tuple[int, ...]  # the topics listing this quote
    shape: Shape
    speaker: str | None
    places: frozenset[str]
    years: frozenset[str]
    centrality: float  # how well it stands for its topic: the tie-break, not file order
    stems: frozenset[str]  # the sentence's own evidence
    names_person: bool  # the sentence names a speaker in full ("Lee Chi-beom said…")
    instances: bool  # it names things: a list, a number, a proper name


@dataclass(frozen=True, slots=True)
class Index:
    packs: tuple[FactPack, ...]
    intents: tuple[Intent, ...]
    docs: tuple[Doc, ...]
    words: dict[str, tuple[tuple[int, float], ...]]  # stem -> (doc, rarity)
    keywords: dict[tuple[str, ...], tuple[tuple[int, float], ...]]  # curated, per doc
    prior: dict[tuple[str, ...], tuple[tuple[int, float], ...]]  # term -> (intent, weight)
    generic: frozenset[tuple[str, ...]]
    surface: dict[str, str]  # known word as typed -> stem, for typo correction
    malay: dict[str, str]  # Malay root of a known word -> its stem
    hangul: frozenset[str]  # Korean terms, found inside words
    weights: dict[tuple[str, ...], float]  # how much a term says at most, anywhere
    glossary: dict[str, tuple[str, ...]]  # Malay/Korean word -> English stems
    synonyms: dict[str, tuple[str, ...]]  # English word -> stems a sentence may say instead
    glossary_hangul: tuple[str, ...]  # Korean glossary keys, longest first
    phrase_len: dict[tuple[str, str], int]  # first two stems -> longest phrase
    phrase_stems: frozenset[str]
    speakers: dict[str, frozenset[int]]  # name stem -> docs by or about that person
    spoken_by: dict[str, frozenset[int]]  # name stem -> docs the pack credits to them
    speaker_words: frozenset[str]  # stems of speakers' names and roles
    roles: dict[str, frozenset[str]]  # a role word ("spokeswoman") -> whose surname it is
    places: dict[tuple[str, ...], str]  # stemmed place name -> place
    pack_words: tuple[frozenset[str], ...]
    intent_pack: tuple[int | None, ...]
    intent_docs: tuple[tuple[int, ...], ...]
    intent_places: tuple[frozenset[str], ...]
    intent_requires: tuple[tuple[tuple[str, ...], ...], ...]
    intent_knows: tuple[frozenset[str], ...]  # every stem a topic's texts use

    def known(self, s: str) -> bool:
        return s in self.words or (s,) in self.keywords or (s,) in self.prior \
            or (s,) in self.generic or s in self.phrase_stems or s in self.speaker_words


def term(text: str) -> tuple[str, ...]:
    return tuple(stem(w) for w in word_tuple(text))


_INITIALS = re.compile(r"\b(?:[^\W\d_]\.){2,}", re.UNICODE)


def close_initials(text: str) -> str:
    """"A.I." is one word, "ai"; two letters apart ("is it a i think") are not."""
    return _INITIALS.sub(lambda m: m.group(0).replace(".", ""), text)


def sentence_counts(text: str) -> Counter[str]:
    """A sentence's evidence and how often it says each: content stems, hyphen parts, and
    neighbours closed up ("new areas… the areas")."""
    folded = _DIGIT_GROUP.sub("", fold(text))
    raw = [w for w in re.split(r"[^\w'\-]+", folded) if w and w != "_"]
    out: Counter[str] = Counter()
    previous: str | None = None
    for token in raw:
        token = token.strip("'-")
        if not token:
            continue
        joined = token.replace("-", "").replace("'", "")
        parts = [p for p in re.split(r"[-']", token) if p]
        if joined in STOPWORDS or (joined.isdigit() and len(joined) == 1):
            previous = None
            continue
        out[stem(joined)] += 1
        if len(parts) > 1:
            out.update(stem(p) for p in parts if p not in STOPWORDS and len(p) > 1)
        if previous is not None and joined.isascii() and joined.isalpha():
            out[stem(previous + joined)] += 1
        previous = joined if joined.isascii() and joined.isalpha() else None
    return out


def places_in(text: str, places: dict[tuple[str, ...], str],
              place_words: frozenset[str] = PLACE_WORDS) -> frozenset[str]:
    """The places a text sets itself in: "in Malaysia", "di Korea", "한국에서"."""
    if not places:
        return frozenset()
    tokens = word_tuple(text[:600])[:48]
    found: set[str] = set()
    for i, token in enumerate(tokens):
        if token in place_words:
            after = [stem(w) for w in tokens[i + 1:i + 4] if w != "the"][:2]
            for n in (2, 1):
                place = places.get(tuple(after[:n])) if len(after) >= n else None
                if place:
                    found.add(place)
                    break
        elif not token.isascii():
            for particle in HANGUL_PLACE_PARTICLES:
                if token.endswith(particle) and len(token) > len(particle):
                    place = places.get((token[:-len(particle)],))
                    if place:
                        found.add(place)
                    break
    return frozenset(found)


class _Builder:
    """Collects the tables; ``build`` freezes them into an ``Index``."""

    def __init__(self, packs: Sequence[FactPack]) -> None:
        self.packs = tuple(packs)
        self.intents = [Intent(t.command, t) for p in packs for t in p.topics]
        # Built-in commands can be asked for in words too ("what topics do you know?"):
        # their phrases come from the command table.
        self.phrases = commands.phrases()
        self.intents += [Intent(name, None) for name in self.phrases]
        self.prior: dict[tuple[str, ...], dict[int, float]] = defaultdict(dict)
        self.keywords: dict[tuple[str, ...], dict[int, float]] = defaultdict(dict)
        self.surface: dict[str, str] = {}
        self.malay: dict[str, str] = {}
        self.hangul: set[str] = set()
        self.places: dict[tuple[str, ...], str] = {}
        for pack in packs:
            for place, names in pack.places.items():
                for name in (place, *names):
                    self.places[term(name)] = place

    def add_surface(self, text: str) -> None:
        parts = [p for p in re.split(r"[^\w]+", fold(text)) if p and not p.isdigit()]
        for w in (*word_tuple(text), *parts):
            if is_hangul(w):
                self.hangul.add(w)
            elif w not in STOPWORDS:
                self.surface.setdefault(w, stem(w))
                root = malay_stem(w)
                if len(root) >= 4:
                    self.malay.setdefault(root, stem(w))

    def variants(self, text: str) -> list[tuple[str, ...]]:
        """A term and, for a phrase of content words, its closed-up form."""
        self.add_surface(text)
        text = close_initials(text)
        t = term(text)
        if len(t) < 2:
            return [t] if t else []
        parts = word_tuple(text)
        if any(w in STOPWORDS for w in parts) or not "".join(parts).isascii():
            return [t]
        joined = "".join(parts)
        self.surface.setdefault(joined, stem(joined))
        return [t, (stem(joined),)]

    def add_prior(self, intent: int, text: str, weight: float) -> None:
        for t in self.variants(text):
            table = self.prior[t]
            table[intent] = max(table.get(intent, 0.0), weight)

    def build(self) -> Index:
        # One doc per distinct quote: the same sentence in two topics is one answer.
        doc_of: dict[str, int] = {}
        doc_facts: list[Fact] = []
        doc_pack: list[int] = []
        doc_intents: list[list[int]] = []
        for index, intent in enumerate(self.intents):
            topic = intent.topic
            if topic is None:
                self._builtin(index, intent.name)
                continue
            self.add_prior(index, topic.command, ALIAS)
            for alias in topic.aliases:
                self.add_prior(index, alias, ALIAS)
            for keyword in topic.keywords:
                self.add_prior(index, keyword, KEYWORD)
            pack_no = next(n for n, p in enumerate(self.packs) if topic in p.topics)
            for fact in topic.facts:
                key = fact.quote
                if key not in doc_of:
                    doc_of[key] = len(doc_facts)
                    doc_facts.append(fact)
                    doc_pack.append(pack_no)
                    doc_intents.append([])
                doc_intents[doc_of[key]].append(index)
        # A shared prior term says less about each topic.
        prior = {t: tuple((i, w / math.sqrt(len(table))) for i, w in sorted(table.items()))
                 for t, table in self.prior.items()}
        speaker_words: set[str] = set()
        name_stems: dict[int, set[str]] = defaultdict(set)  # doc -> speaker name stems
        roles: dict[str, set[str]] = defaultdict(set)  # role word -> the speakers' surnames
        generic_terms = self._generic()
        for pack in self.packs:
            for name, role in pack.speakers.items():
                speaker_words.update(stem(w) for w in words(name))
                surname = stem(words(name)[-1]) if words(name) else ""
                for w in words(role):
                    if w not in STOPWORDS and (stem(w),) not in generic_terms:
                        speaker_words.add(stem(w))
                        roles[stem(w)].add(surname)
        doc_words: list[set[str]] = []
        doc_counts: list[Counter[str]] = []
        for n, fact in enumerate(doc_facts):
            counts = sentence_counts(fact.quote)
            doc_counts.append(counts)
            stems = set(counts)
            self.add_surface(fact.quote)
            pack = self.packs[doc_pack[n]]
            own_names = set()
            for name in pack.speakers:
                parts = [stem(w) for w in words(name)]
                if fact.speaker == name or any(p in stems for p in parts[-1:]):
                    own_names.update(parts)
            name_stems[n] = own_names
            # A name is evidence through the speaker table only: "what did Lee say about
            # X" must find X, not every sentence that starts "Lee said".
            doc_words.append(stems - {s for p in self.packs for nm in p.speakers
                                      for s in (stem(w) for w in words(nm))})
            for keyword in fact.keywords:
                # "why", "when", "today": the answer's shape says that now, not a keyword.
                if all(w in STOPWORDS for w in word_tuple(keyword)):
                    continue
                for t in self.variants(keyword):
                    self.keywords[t][n] = 1.0
        count = len(doc_facts)
        df: dict[str, int] = defaultdict(int)
        for stems in doc_words:
            for s in stems:
                df[s] += 1
        light = {stem(w) for w in LIGHT_WORDS}
        rarity = {s: math.log((count + 1) / (d + 0.5)) * (0.5 if s in light else 1.0)
                  for s, d in df.items()}
        generic = self._generic()
        word_table: dict[str, list[tuple[int, float]]] = defaultdict(list)
        for n, stems in enumerate(doc_words):
            for s in sorted(stems):
                if (s,) not in generic:
                    # Said twice, a word says a little more about the sentence (as in BM25).
                    tf = min(1.3, 1.0 + 0.15 * (doc_counts[n][s] - 1))
                    word_table[s].append((n, max(rarity[s], 0.05) * tf))
        kw_table = {t: tuple((n, FACT_KEYWORD * self._rarity(t, rarity, count, len(table)))
                             for n in sorted(table))
                    for t, table in self.keywords.items() if t not in generic}
        spoken_by: dict[str, set[int]] = defaultdict(set)
        for n, fact in enumerate(doc_facts):
            if fact.speaker is not None:
                for w in words(fact.speaker):
                    spoken_by[stem(w)].add(n)
        speakers: dict[str, set[int]] = defaultdict(set)
        for n, names in name_stems.items():
            for s in names:
                speakers[s].add(n)
        place_names = frozenset(" ".join(words(name)) for p in self.packs
                                for place, names in p.places.items() for name in (place, *names))
        ignore = frozenset(w for p in self.packs for name in (*p.speakers, *p.places,
                                                             *(x for v in p.places.values()
                                                               for x in v))
                           for w in re.split(r"[\s\-]+", fold(name)) if w)
        docs = []
        for n, fact in enumerate(doc_facts):
            pack = self.packs[doc_pack[n]]
            topics = [self.intents[i].topic for i in doc_intents[n]]
            docs.append(Doc(
                fact=fact, pack=doc_pack[n], intents=tuple(doc_intents[n]),
                shape=shape_of(fact.quote, fact.speaker, place_names),
                speaker=fact.speaker,
                places=places_in(f"{fact.quote} {pack.speaker_line(fact.speaker) or ''}",
                                 self.places, FACT_PLACE_WORDS),
                years=frozenset(_YEAR.findall(fact.quote)),
                centrality=max((_centrality(doc_words[n], t) for t in topics if t), default=0),
                stems=frozenset(doc_words[n]),
                names_person=any(fold(name) in fold(fact.quote) for name in pack.speakers),
                instances=names_instances(fact.quote, ignore)))
        glossary = {k: tuple(stem(w) for w in v.split())
                    for k, v in (*MALAY.items(), *KOREAN.items())}
        # By the word as typed: stems collide ("diplomatic" is no "diplomat").
        synonyms = {k: tuple(stem(w) for w in v.split()) for k, v in ENGLISH.items()}
        weights: dict[tuple[str, ...], float] = defaultdict(float)
        for s, postings in word_table.items():
            weights[(s,)] = max(w for _, w in postings)
        for table in (kw_table, prior):
            for t, postings2 in table.items():
                weights[t] = max(weights[t], *(w for _, w in postings2))
        weights = {t: min(w, 2.5) for t, w in weights.items()}
        phrases = [t for t in (*prior, *kw_table, *generic) if len(t) > 1]
        phrase_len: dict[tuple[str, str], int] = {}
        for t in phrases:
            phrase_len[(t[0], t[1])] = max(len(t), phrase_len.get((t[0], t[1]), 0))
        intent_docs: list[list[int]] = [[] for _ in self.intents]
        for n, owners in enumerate(doc_intents):
            for i in owners:
                intent_docs[i].append(n)
        pack_of = {id(t): n for n, p in enumerate(self.packs) for t in p.topics}
        intent_pack = tuple(pack_of[id(i.topic)] if i.topic is not None else None
                            for i in self.intents)
        pack_words: list[set[str]] = [set() for _ in self.packs]
        for n, stems in enumerate(doc_words):
            pack_words[doc_pack[n]].update(stems)
        for prior_term, table_of in self.prior.items():
            for i in table_of:
                owner = intent_pack[i]
                if owner is not None:
                    pack_words[owner].update(prior_term)
        for kw_term, kw_docs in self.keywords.items():
            for n in kw_docs:
                pack_words[doc_pack[n]].update(kw_term)
        for n, pack in enumerate(self.packs):
            for g in pack.generic_terms:
                pack_words[n].update(term(g))
        return Index(
            packs=self.packs, intents=tuple(self.intents), docs=tuple(docs),
            words={s: tuple(v) for s, v in word_table.items()}, keywords=kw_table,
            prior=prior, generic=frozenset(generic), surface=dict(self.surface),
            malay=dict(self.malay), hangul=frozenset(self.hangul), glossary=glossary,
            synonyms=synonyms, weights=weights,
            glossary_hangul=tuple(sorted((k for k in glossary if is_hangul(k)),
                                         key=lambda k: (-len(k), k))),
            phrase_len=phrase_len, phrase_stems=frozenset(w for t in phrases for w in t),
            speakers={s: frozenset(v) for s, v in speakers.items()},
            spoken_by={s: frozenset(v) for s, v in spoken_by.items()},
            speaker_words=frozenset(speaker_words), places=dict(self.places),
            roles={r: frozenset(v) for r, v in roles.items()},
            pack_words=tuple(frozenset(w) for w in pack_words), intent_pack=intent_pack,
            intent_docs=tuple(tuple(d) for d in intent_docs),
            intent_places=tuple(self._intent_places(i, intent_docs[i], docs)
                                for i in range(len(self.intents))),
            intent_requires=tuple(tuple(x for x in map(term, i.topic.requires) if x)
                                  if i.topic else () for i in self.intents),
            intent_knows=tuple(self._knows(i, intent_docs[i], doc_words)
                               for i in range(len(self.intents))))

    def _generic(self) -> set[tuple[str, ...]]:
        out: set[tuple[str, ...]] = set()
        for pack in self.packs:
            for g in pack.generic_terms:
                self.add_surface(g)
                out.add(term(g))
        return out

    @staticmethod
    def _rarity(t: tuple[str, ...], rarity: dict[str, float], count: int, docs: int) -> float:
        """A curated keyword weighs as much as its rarest word in the sentences, at least
        as much as its own rarity among the keywords."""
        own = math.log((count + 1) / (docs + 0.5))
        return max([own, *(rarity.get(s, 0.0) for s in t)])

    def _intent_places(self, intent: int, docs: list[int], built: list[Doc]) -> frozenset[str]:
        return frozenset().union(*(built[n].places for n in docs)) if docs else frozenset()

    def _knows(self, intent: int, docs: list[int], doc_words: list[set[str]]) -> frozenset[str]:
        known: set[str] = set()
        for n in docs:
            known |= doc_words[n]
        for t, table in self.prior.items():
            if intent in table:
                known.update(t)
        return frozenset(known)

    def _builtin(self, index: int, name: str) -> None:
        phrases = list(self.phrases[name])
        if name == "source":  # "is this from Bernama?"
            phrases += [p.source.outlet for p in self.packs]
        for phrase in phrases:
            weight = BUILTIN_PHRASE if len(words(phrase)) > 1 else BUILTIN_WORD
            if name == "fact":  # a wish for any fact must not outweigh a topic named with it
                weight = BUILTIN_WORD
            self.add_prior(index, phrase, weight)


def _centrality(stems: set[str], topic: Topic) -> float:
    names = set(term(topic.description)) | {s for a in (*topic.aliases, *topic.keywords,
                                                        topic.command) for s in term(a)}
    return len(stems & names) / math.sqrt(len(stems) + 1)


def build_index(packs: Iterable[FactPack]) -> Index:
    return _Builder(list(packs)).build()
