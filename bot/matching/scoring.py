"""Score every fact for a question: its own sentence first, its keywords, then its topics.

score = evidence / (evidence + SATURATION + what the fact leaves unexplained)

- evidence: the rarity of each question word the sentence holds, curated keywords a
  little less, plus the topic prior (capped, so it can break a tie but never outweigh
  what a sentence says), plus the speaker when the question names them;
- unexplained: the question's known words the fact does not hold, and words nobody knows
  (fewer of those count when the known words make a strong match).

Facts whose sentence cannot answer what is asked ("when" without a date or a condition,
"the largest" against "the third-largest") are left out.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from factbot.matching.analysis import Query, Unit
from factbot.matching.index import PRIOR_CAP, Doc, Index, Intent
from factbot.matching.rules import WHO, WHY, unmet
from factbot.packs import Fact
from factbot.text import stem

SATURATION = 2.0
UNCOVERED = 0.45  # per unit of rarity a question word has that the fact does not hold
UNCOVERED_MAX = 1.2  # one missing word costs at most this
UNKNOWN = 1.6  # a word nobody knows
UNKNOWN_HANGUL = 0.4  # Korean glues endings on: an unknown Korean word says less
SPEAKER = 1.2  # a named speaker, times how rare their facts are
SPEAKER_ALONE = 2.2  # "what did Dewar say": the speaker is the whole question
NO_REASON = 0.75  # a "why" question and a sentence that gives no reason
SHAPE = 0.6  # a sentence of the shape asked for: a number for "how many", a date for "when"
ALTERNATIVE = 0.75  # a synonym's or a second translation's match, against the word's own
OWN_WORDS = 0.4  # "what did X say": X's own words before a sentence that reports them
NAMED = 1.6  # "who is the ambassador": the sentence that names him


@dataclass(slots=True)  # not frozen: made for every fact of every message, and never changed
class Candidate:
    """One scored answer: an intent and, for topics, the fact to show."""

    intent: Intent
    fact: Fact | None
    score: float  # 0..1, comparable with the router's threshold
    evidence: tuple[str, ...]
    sentence: float = 0.0  # the part of the evidence the fact's own sentence gave
    central: float = 0.0  # how well the fact stands for its topic: breaks ties
    refused: str | None = None  # the rule that refused it, if any


def score_docs(index: Index, query: Query, limit: int = 4) -> list[Candidate]:
    """The facts and built-ins with the most evidence, best first, refused ones too."""
    sentence: dict[int, float] = defaultdict(float)
    keyword: dict[int, float] = defaultdict(float)
    covered: dict[int, set[int]] = defaultdict(set)
    prior: dict[int, float] = defaultdict(float)
    prior_units: dict[int, set[int]] = defaultdict(set)
    labels: dict[int, list[str]] = defaultdict(list)
    weights: list[float] = []
    for u, unit in enumerate(query.units):
        weights.append(0.0 if unit.term in index.generic else index.weights.get(unit.term, 0.0))
        if unit.term in index.generic:
            continue
        _match(index, unit, u, sentence, keyword, covered, labels)
        for term in (unit.term, *unit.alternatives):
            for owner, w in index.prior.get(term, ()):
                if u not in prior_units[owner]:
                    prior[owner] += unit.scale * w
                    prior_units[owner].add(u)
    speaker: dict[int, float] = defaultdict(float)
    # "What did Dewar say?" and nothing else: the question is about the speaker.
    alone = bool(query.names) and not query.unknown and all(
        len(u.term) == 1 and u.term[0] in query.names for u in query.units)
    for name in query.names:
        docs = index.speakers.get(name, frozenset())
        if docs:
            rarity = min(1.0, (len(index.docs) + 1) / (len(docs) + 0.5) / 4)
            for n in docs:
                speaker[n] = max(speaker[n], SPEAKER_ALONE if alone else SPEAKER * rarity)
    if not query.framed:
        # "Who leads the Liberal Democrats?": a role word points to what its holder said,
        # which the reply signs with that role.
        for unit in query.units:
            for surname in index.roles.get(unit.term[0], ()) if len(unit.term) == 1 else ():
                docs = index.speakers.get(surname, frozenset())
                rarity = min(1.0, (len(index.docs) + 1) / (len(docs) + 0.5) / 4)
                for n in docs:
                    if index.docs[n].speaker is not None:
                        speaker[n] = max(speaker[n], SPEAKER * rarity)
    unknown = sum(UNKNOWN_HANGUL if not w.isascii() else UNKNOWN for w in query.unknown)
    seen = set(sentence) | set(keyword) | set(speaker)
    # Facts with no word of their own come in through their topic's names: only the topics
    # named most strongly, since a weaker prior alone can win nothing.
    topics = [(p, i) for i, p in prior.items() if index.intents[i].topic is not None]
    if topics:
        strongest = max(topics)[0]
        for p, intent_no in topics:
            if p >= strongest * 0.5:
                seen.update(index.intent_docs[intent_no])
    cost = [min(UNCOVERED_MAX, UNCOVERED * w) for w in weights]
    total_cost = sum(cost)
    multi = len(index.packs) > 1
    kind = query.demands.kind
    rows: list[tuple[float, float, float, str, str, int, int]] = []
    for n in seen:
        doc = index.docs[n]
        owner = max(doc.intents, key=lambda i: (prior.get(i, 0.0), -i)) \
            if len(doc.intents) > 1 else doc.intents[0]
        p = min(prior.get(owner, 0.0), PRIOR_CAP)
        own = sentence.get(n, 0.0) + keyword.get(n, 0.0)
        evidence = own + p + speaker.get(n, 0.0)
        if evidence <= 0:
            continue
        if kind is not None and (own or (p and kind != WHO)) and doc.shape.answers(kind) \
                and (kind != WHY or doc.shape.reason):
            evidence += SHAPE
        if kind == WHO and doc.names_person and own:
            evidence += NAMED
        if query.framed and doc.fact.quoted and n in speaker:
            evidence += OWN_WORDS
        explained = covered[n] | prior_units[owner] if n in covered else prior_units[owner]
        if multi:
            # A word only another pack knows is as unknown to this fact as a word nobody knows.
            own_words = index.pack_words[doc.pack]
            missing = sum(UNKNOWN if not set(query.units[u].term) <= own_words else c
                          for u, c in enumerate(cost) if u not in explained)
        else:
            missing = total_cost - sum(cost[u] for u in explained)
        # A strong sentence match forgives a word or two nobody knows.
        forgiving = unknown / (1.0 + max(0.0, own - 4.0) / 3.0)
        score = evidence / (evidence + SATURATION + missing + forgiving)
        if kind == WHY and not doc.shape.reason:
            score *= NO_REASON
        rows.append((-score, -own, -doc.centrality, index.intents[owner].name, doc.fact.quote,
                     n, owner))
    for intent_no, p in prior.items():
        intent = index.intents[intent_no]
        if intent.topic is not None:
            continue
        # A built-in answers the whole message or nothing: "what else did Lee say" is no /topics.
        missing = sum(max(1.0, w) for u, w in enumerate(weights)
                      if u not in prior_units[intent_no])
        score = p / (p + SATURATION + missing + unknown)
        rows.append((-score, 0.0, 0.0, intent.name, "", -1, intent_no))
    rows.sort()
    candidates: list[Candidate] = []
    # Only the best few become candidates; the rules run on those alone, until ``limit``
    # of them are allowed (refused ones are kept: the router weighs them too).
    allowed = 0
    for neg, neg_own, neg_central, _, _, n, owner in rows[:limit * 3]:
        if allowed >= limit:
            break
        if n < 0:
            candidates.append(Candidate(intent=index.intents[owner], fact=None, score=-neg,
                                        evidence=()))
            allowed += 1
            continue
        doc = index.docs[n]
        refused = unmet(query.demands, doc.shape) or _which(index, query, doc) \
            or _elsewhere(index, query, n, owner)
        candidates.append(Candidate(intent=index.intents[owner], fact=doc.fact, score=-neg,
                                    evidence=tuple(labels.get(n, ())), sentence=-neg_own,
                                    central=-neg_central, refused=refused))
        allowed += refused is None
    return candidates


def _match(index: Index, unit: Unit, u: int, sentence: dict[int, float],
           keyword: dict[int, float], covered: dict[int, set[int]],
           labels: dict[int, list[str]]) -> None:
    """Add what one question term says about each fact's sentence and keywords."""
    terms = (unit.term, *unit.alternatives) if unit.alternatives else (unit.term,)
    label = " ".join(unit.term)
    got: dict[int, float] = {}
    for k, term in enumerate(terms):
        # A synonym or a second translation says a little less than the word itself.
        factor = 1.0 if k == 0 or term == unit.term else ALTERNATIVE
        if len(term) == 1:
            for n, w in index.words.get(term[0], ()):
                got[n] = max(got.get(n, 0.0), w * factor)
        else:
            # A phrase's parts count in a sentence that says them: "health care".
            parts: dict[int, float] = defaultdict(float)
            hits: dict[int, int] = defaultdict(int)
            content = [p for p in term if (p,) not in index.generic] or list(term)
            for part in content:
                best: dict[int, float] = {}
                for form in (part, *index.synonyms.get(part, ())):
                    for n, w in index.words.get(form, ()):
                        best[n] = max(best.get(n, 0.0), w)
                for n, w in best.items():
                    parts[n] += w
                    hits[n] += 1
            for n, w in parts.items():
                share = hits[n] / len(content)
                if share >= 0.5:
                    got[n] = max(got.get(n, 0.0), w * share * factor)
    for n, w in got.items():
        sentence[n] += unit.scale * w
        covered[n].add(u)
        labels[n].append(label)
    for term in terms:
        for n, w in index.keywords.get(term, ()):
            if n not in got:
                keyword[n] += unit.scale * w
                covered[n].add(u)
                labels[n].append(f"{label} (keyword)")
                got[n] = w


def _which(index: Index, query: Query, doc: Doc) -> str | None:
    """"Which superpowers…": the sentence must name the kind of thing, and name instances."""
    which = query.demands.which
    if which is None:
        return None
    # The kind of thing asked for, or a word for it, must be known at all.
    forms = (stem(which), *index.synonyms.get(which, ()))
    if not doc.instances or not any(index.known(f) for f in forms):
        return "asks which"
    return None


def _elsewhere(index: Index, query: Query, n: int, intent: int) -> str | None:
    """A fact set in another place or year, or a question about another time or country."""
    doc = index.docs[n]
    if query.other_speaker:
        return "another speaker"
    if query.framed and query.speakers and not any(
            n in index.spoken_by.get(name, ()) for name in query.speakers):
        return "another speaker"  # "what did Baird say": only Baird's words, or nothing
    where = doc.places or index.intent_places[intent]
    if query.places and where and not query.places & where:
        return "another place"
    knows = index.intent_knows[intent]
    for word in query.foreign:
        if not all(stem(p) in knows for p in word.split()):  # "singapore" is "singapor"
            return "another country"
    for word in query.shifts:  # "the ambassador before Lee": the sentence must say so too
        if stem(word) not in doc.stems:
            return "another time"
    if query.years and not query.years <= doc.years:
        return "another year"
    needed = index.intent_requires[intent]
    if needed:
        said = query.said.union(*(u.term for u in query.units))
        if not any(set(t) <= said for t in needed):
            return "a required word is missing"
    return None
