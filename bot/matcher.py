"""Does a message match? Score every fact and built-in; never decide or render.

The front of ``bot.matching``: callers build a ``Matcher`` from packs and ask it to
rank a text, resolve a command or complete a prefix. Deciding which candidate to
answer, if any, is ``bot.router``'s job; saying it is ``bot.render``'s.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from factbot.matching.analysis import Analyser, Query
from factbot.matching.commands import Commands
from factbot.matching.index import Index, Intent, build_index
from factbot.matching.scoring import Candidate, score_docs
from factbot.packs import FactPack, Topic

__all__ = ["Candidate", "Intent", "Matcher", "Ranking"]


@dataclass(frozen=True, slots=True)
class Ranking:
    """Every candidate for a text, best first, with those the rules refused."""

    query: Query
    candidates: tuple[Candidate, ...]

    @property
    def allowed(self) -> list[Candidate]:
        return [c for c in self.candidates if c.refused is None]


class Matcher:
    """Scores messages against every fact of the loaded packs."""

    def __init__(self, packs: Sequence[FactPack], index: Index | None = None) -> None:
        """``index``: these packs' index, built before (factbot.packcache)."""
        self.packs = tuple(packs)
        self.index = build_index(self.packs) if index is None else index
        self.intents = list(self.index.intents)
        self._analyser = Analyser(self.index)
        self._commands = Commands(self.index)

    def resolve_command(self, command: str) -> tuple[Intent, float] | None:
        return self._commands.resolve(command)

    def complete(self, prefix: str, limit: int = 25) -> list[Topic]:
        return self._commands.complete(prefix, limit)

    def analyse(self, text: str) -> Query:
        return self._analyser.analyse(text)

    def assess(self, text: str) -> Ranking:
        """Every candidate, refused ones included: the router weighs both."""
        query = self._analyser.analyse(text)
        return Ranking(query, tuple(score_docs(self.index, query)))

    def rank(self, text: str, limit: int = 5) -> list[Candidate]:
        """The candidates the rules allow for ``text``, best first, at most ``limit``."""
        query = self._analyser.analyse(text)
        return [c for c in score_docs(self.index, query, limit) if c.refused is None][:limit]

    def rank_facts(self, topic: Topic, text: str) -> list[tuple[float, int]]:
        """Score the facts of one topic for ``text`` (command arguments)."""
        quotes = {f.quote: n for n, f in enumerate(topic.facts)}
        out: list[tuple[float, int]] = []
        query = self._analyser.analyse(text)
        for candidate in score_docs(self.index, query, limit=len(self.index.docs) + 8):
            if candidate.fact is not None and candidate.fact.quote in quotes \
                    and candidate.sentence > 0:
                out.append((candidate.sentence, quotes[candidate.fact.quote]))
        return sorted(out, key=lambda x: (-x[0], x[1]))
