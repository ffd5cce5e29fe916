"""The loaded packs as one immutable snapshot: packs, topics and their matcher.

A reload builds a new Catalogue and swaps it in one step, so a reader sees the old
packs or the new ones, never a mix.
"""

from __future__ import annotations

from collections.abc import Sequence

from factbot.matcher import Matcher
from factbot.matching.index import Index
from factbot.packs import FactPack, Topic
from factbot.storage.base import ChatSettings


class Catalogue:
    __slots__ = ("matcher", "packs", "topics")

    def __init__(self, packs: Sequence[FactPack], index: Index | None = None) -> None:
        self.packs = tuple(packs)
        self.matcher = Matcher(self.packs, index)
        self.topics: dict[str, tuple[FactPack, Topic]] = {
            t.command: (p, t) for p in self.packs for t in p.topics}

    def topic(self, name: str) -> tuple[FactPack, Topic] | None:
        return self.topics.get(name)

    def enabled(self, settings: ChatSettings) -> set[str] | None:
        """The chat's topics when it turned some off; None means all of them."""
        if not settings.disabled:
            return None
        return set(self.topics) - settings.disabled
