"""State behind a small async interface: rotation, settings, usage, unmatched questions."""

from bot.storage.base import BaseStore, ChatKey
from bot.storage.memory import MemoryStore

__all__ = ["BaseStore", "ChatKey", "MemoryStore"]
