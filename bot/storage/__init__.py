"""State behind a small async interface: rotation, settings, usage, unmatched questions."""

from factbot.storage.base import BaseStore, ChatKey
from factbot.storage.memory import MemoryStore

__all__ = ["BaseStore", "ChatKey", "MemoryStore"]
