"""The loaded packs as one immutable snapshot: packs, topics and their matcher.

A reload builds a new Catalogue and swaps it in one step, so a reader sees the old
packs or the new ones, never a mix.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from factbot.lru import LRU
from factbot.matcher import Matcher
from factbot.matching.index import Index
from factbot.packs import FactPack, Topic
from factbot.storage.base import ChatSettings

if TYPE_CHECKING:  # the router imports the matcher this module builds on
    from factbot.router import Decision


# A decision depends only on the text and the packs. bench/matcher.py: a repeated
# "/hallyu" is answered several times faster from here than through the matcher.
DECISION_CACHE = 4096  # distinct recent messages whose decision is kept


class Catalogue:
    __slots__ = ("decisions", "matcher", "packs", "topics")

    def __init__(self, packs: Sequence[FactPack], index: Index | None = None) -> None:
        self.packs = tuple(packs)
        self.matcher = Matcher(self.packs, index)
        # Decisions made on these packs: a new set of packs starts a new cache.
        self.decisions: LRU[str, Decision] = LRU(DECISION_CACHE)
        self.topics: dict[str, tuple[FactPack, Topic]] = {
            t.command: (p, t) for p in self.packs for t in p.topics}

    def topic(self, name: str) -> tuple[FactPack, Topic] | None:
        return self.topics.get(name)

    def enabled(self, settings: ChatSettings) -> set[str] | None:
        """The chat's topics when it turned some off; None means all of them."""
        if not settings.disabled:
            return None
        return set(self.topics) - settings.disabled
