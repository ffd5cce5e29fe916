"""An in-memory store: for tests, and the fallback when no database is wanted."""

from __future__ import annotations

from collections import Counter

from bot.storage.base import BaseStore, ChatKey


class MemoryStore(BaseStore):
    def __init__(self) -> None:
        self.rotation: dict[tuple[ChatKey, str], int] = {}
        self.usage: Counter[tuple[str, str]] = Counter()
        self.unmatched: list[tuple[str, str, str]] = []

    async def next_rotation(self, chat: ChatKey, topic: str, count: int) -> int:
        position = self.rotation.get((chat, topic), 0) % max(count, 1)
        self.rotation[(chat, topic)] = position + 1
        return position

    async def record_usage(self, platform: str, topic: str) -> None:
        self.usage[(platform, topic)] += 1

    async def record_unmatched(self, platform: str, text: str, user_hash: str) -> None:
        self.unmatched.append((platform, text, user_hash))
