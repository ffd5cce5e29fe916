"""The storage interface the core depends on."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ChatKey:
    platform: str
    chat_id: str


class BaseStore(ABC):
    """Async state store. Implementations: MemoryStore (tests), SqliteStore (default)."""

    async def open(self) -> None:
        """Acquire resources; a no-op by default."""

    async def close(self) -> None:
        """Flush and release resources; a no-op by default."""

    @abstractmethod
    async def next_rotation(self, chat: ChatKey, topic: str, count: int) -> int:
        """Return the index of the fact to show now and advance the chat's position."""

    @abstractmethod
    async def record_usage(self, platform: str, topic: str) -> None:
        """Count one answer on ``topic``."""

    @abstractmethod
    async def record_unmatched(self, platform: str, text: str, user_hash: str) -> None:
        """Keep a question the packs could not answer, for curators."""
