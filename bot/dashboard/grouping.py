"""Unanswered questions grouped into rewordings of one question, and what to add to a pack.

Pure functions over plain data, so that the curator's view can be tested without a store,
a server or a browser. The words compared are factbot's own: folded and split as the
matcher splits them (factbot.text.words), stop words dropped, stemmed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from factbot.storage.base import question_key
from factbot.text import stem, words
from factbot.vocab import STOPWORDS

# Two wordings whose content words overlap this much (Jaccard) ask the same question:
# "is kimchi popular in malaysia" and "how popular is kimchi" share 2 of 3.
SAME_QUESTION = 0.5
# A group's few wordings, shown beside its example.
MAX_WORDINGS = 5
# A question of at most this many content words, none of them known, names a thing: an
# alias of the nearest topic rather than a keyword.
ALIAS_WORDS = 3


def content_words(text: str, ignore: frozenset[str] = frozenset()) -> frozenset[str]:
    """The stems of the words of ``text`` that say something: stop words dropped, and the
    stems in ``ignore`` (a pack's generic terms: "korea", "kuala lumpur")."""
    return frozenset(s for s in (stem(w) for w in words(text)
                                 if w not in STOPWORDS and not w.isdigit())
                     if s not in ignore)


def generic_stems(terms: Iterable[str]) -> frozenset[str]:
    """The stems of the words of a pack's generic terms, for ``content_words(ignore=)``."""
    return frozenset(stem(w) for t in terms for w in words(t))


def overlap(a: frozenset[str], b: frozenset[str]) -> float:
    """Jaccard: shared words over all words (0 when either has none)."""
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)


@dataclass(frozen=True, slots=True)
class Asked:
    """One unanswered question as the store keeps it; the user only as its hash."""

    text: str
    at: datetime
    platform: str = ""
    user_hash: str = ""


@dataclass
class Group:
    """Rewordings of one question, most asked first."""

    words: frozenset[str]  # the content words of its first (most asked) wording
    wordings: Counter[str] = field(default_factory=Counter)  # question_key -> times asked
    texts: dict[str, str] = field(default_factory=dict)  # question_key -> latest text
    platforms: Counter[str] = field(default_factory=Counter)
    askers: set[str] = field(default_factory=set)  # user hashes, only ever counted
    last_seen: datetime | None = None

    @property
    def count(self) -> int:
        return sum(self.wordings.values())

    @property
    def example(self) -> str:
        """The most asked wording, as last typed (ties: the first seen)."""
        key = max(self.wordings, key=lambda k: self.wordings[k])
        return self.texts[key]

    def top_wordings(self, limit: int = MAX_WORDINGS) -> list[tuple[str, int]]:
        return [(self.texts[k], n) for k, n in self.wordings.most_common(limit)]

    @property
    def people(self) -> int:
        return len(self.askers)


def group_questions(asked: Iterable[Asked], same: float = SAME_QUESTION,
                    ignore: frozenset[str] = frozenset()) -> list[Group]:
    """Group questions into rewordings: first those equal after folding and punctuation
    (the store's question_key), then those whose content words (less ``ignore``) overlap
    ``same`` or more with a group's first wording. Most asked groups first; ties: the most
    recent first.

    Deterministic: wordings are taken most asked first, then by their key.
    """
    by_key: dict[str, list[Asked]] = {}
    for a in asked:
        by_key.setdefault(question_key(a.text) or a.text.strip(), []).append(a)
    order = sorted(by_key, key=lambda k: (-len(by_key[k]), k))
    groups: list[Group] = []
    # Each group under each of its words: a wording is compared only with the groups it
    # shares a word with, not with all of them (5,000 questions would be 25 million pairs).
    by_word: dict[str, list[int]] = {}
    for key in order:
        rows = by_key[key]
        found = content_words(rows[0].text, ignore)
        # The most overlapping group (the first made, of equals); a wording with no content
        # words stays on its own.
        best: Group | None = None
        best_score = 0.0
        for n in sorted({n for w in found for n in by_word.get(w, ())}):
            score = overlap(found, groups[n].words)
            if score >= same and score > best_score:
                best, best_score = groups[n], score
        if best is None:
            best = Group(words=found)
            for w in found:
                by_word.setdefault(w, []).append(len(groups))
            groups.append(best)
        latest = max(rows, key=lambda r: r.at)
        best.wordings[key] += len(rows)
        best.texts[key] = latest.text
        for r in rows:
            if r.platform:
                best.platforms[r.platform] += 1
            if r.user_hash:
                best.askers.add(r.user_hash)
        if best.last_seen is None or latest.at > best.last_seen:
            best.last_seen = latest.at
    return sorted(groups, key=lambda g: (-g.count, -(g.last_seen.timestamp()
                                                       if g.last_seen else 0.0)))


@dataclass(frozen=True, slots=True)
class Suggestion:
    """What to add to a pack so that a group's question is answered, as YAML to copy."""

    kind: str  # "keyword", "alias" or "" (nothing to suggest: see ``reason``)
    topic: str | None  # the topic's command
    terms: tuple[str, ...]
    reason: str
    pack_file: str = ""

    @property
    def yaml(self) -> str:
        """The lines to merge into the topic in pack.yaml ("" when there is nothing)."""
        if not self.kind or self.topic is None:
            return ""
        listed = ", ".join(_yaml_item(t) for t in self.terms)
        key = "aliases" if self.kind == "alias" else "keywords"
        return f"- command: {self.topic}\n  {key}: [{listed}]  # add to the existing list\n"


def _yaml_item(term: str) -> str:
    """A flow-sequence item: quoted when plain YAML would read it as something else."""
    plain = term and all(ch.isalnum() or ch in " -'" for ch in term) \
        and not term[0].isdigit() and term.lower() not in {"yes", "no", "on", "off", "true",
                                                          "false", "null", "y", "n"}
    if plain and "'" not in term:
        return term
    return '"' + term.replace("\\", "\\\\").replace('"', '\\"') + '"'


def suggest(wordings: Sequence[tuple[str, int]], unknown: Sequence[tuple[str, ...]],
            nearest_topic: str | None, nearest_score: float, threshold: float,
            refused: str | None = None, pack_file: str = "") -> Suggestion:
    """A keyword or alias for a group of rewordings.

    ``wordings``: the group's wordings with their counts; ``unknown``: for each wording,
    the words the packs do not know (the matcher's analysis); ``nearest_topic``: the topic
    of the best candidate, with its score. The words nobody knows, most asked first, are
    what a pack lacks: a short question made only of them names the topic (an alias),
    else they are keywords. With no unknown word there is nothing to add: the reason says
    what stopped the answer instead.
    """
    counts: Counter[str] = Counter()
    first_seen: dict[str, int] = {}
    for (_text, n), missing in zip(wordings, unknown, strict=True):
        for w in missing:
            if w in STOPWORDS:
                continue
            counts[w] += n
            first_seen.setdefault(w, len(first_seen))
    terms = tuple(sorted(counts, key=lambda w: (-counts[w], first_seen[w])))[:3]
    if nearest_topic is None:
        return Suggestion("", None, terms, "no topic comes near: the article may not say "
                          "this; a new topic, or leave it", pack_file)
    if not terms:
        why = (f"a rule refused the nearest fact ({refused})" if refused
               else f"the nearest fact scores {nearest_score:.2f}, under the threshold "
                    f"{threshold:.2f}" if nearest_score < threshold
               else "two topics were too close to call")
        return Suggestion("", nearest_topic, (), f"every word is known; {why}", pack_file)
    text, _n = wordings[0]
    content = [w for w in words(text) if w not in STOPWORDS]
    if len(content) <= ALIAS_WORDS and content and all(w in counts for w in content):
        phrase = " ".join(content)
        return Suggestion("alias", nearest_topic, (phrase,),
                          f"the question names something the packs do not know; if it is "
                          f"/{nearest_topic}, make it an alias", pack_file)
    caveat = (f"; but a rule refused its nearest fact ({refused}): the article may not say "
              f"it" if refused else "")
    return Suggestion("keyword", nearest_topic, terms,
                      f"if /{nearest_topic} answers this, add {', '.join(terms)} to its "
                      f"keywords{caveat}", pack_file)
