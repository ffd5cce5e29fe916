"""LRU: a bounded mapping for per-chat and per-user caches.

Anything keyed by a chat or a user grows with the number of chats that ever wrote, so it is
held in an ``LRU`` with a stated size: reading an entry makes it the most recent, storing one
beyond ``maxsize`` drops the least recently used. ``evictions`` counts what was dropped, for
benchmarks. A membership test (``in``), ``peek`` and iterating do not refresh an entry.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import ItemsView, Iterator, KeysView, MutableMapping, ValuesView
from typing import TypeVar, overload

K = TypeVar("K")
V = TypeVar("V")
D = TypeVar("D")


class LRU(MutableMapping[K, V]):
    """A mapping of at most ``maxsize`` entries, least recently used dropped first.

    ``maxsize`` 0 keeps nothing: every store is dropped at once (a cache turned off).
    """

    __slots__ = ("_data", "_maxsize", "evictions")

    def __init__(self, maxsize: int) -> None:
        if maxsize < 0:
            raise ValueError(f"LRU maxsize must be 0 or more, not {maxsize}")
        self._maxsize = maxsize
        self._data: OrderedDict[K, V] = OrderedDict()
        self.evictions = 0  # entries dropped to stay within maxsize

    @property
    def maxsize(self) -> int:
        return self._maxsize

    def __getitem__(self, key: K) -> V:
        value = self._data[key]
        self._data.move_to_end(key)
        return value

    def __setitem__(self, key: K, value: V) -> None:
        data = self._data
        data[key] = value
        data.move_to_end(key)
        while len(data) > self._maxsize:
            data.popitem(last=False)
            self.evictions += 1

    def __delitem__(self, key: K) -> None:
        del self._data[key]

    def __contains__(self, key: object) -> bool:
        return key in self._data

    def __iter__(self) -> Iterator[K]:
        return iter(self._data)  # least recently used first

    def __len__(self) -> int:
        return len(self._data)

    def __repr__(self) -> str:
        return f"LRU(maxsize={self._maxsize}, {dict(self._data)!r})"

    # Overridden for speed: the mixins go through __getitem__ and catch KeyError.
    @overload
    def get(self, key: K) -> V | None: ...
    @overload
    def get(self, key: K, default: V | D) -> V | D: ...

    def get(self, key: K, default: object = None) -> object:
        """The value for ``key``, made the most recent; ``default`` when absent."""
        try:
            self._data.move_to_end(key)
        except KeyError:
            return default
        return self._data[key]

    # Views of the data itself: the mixins' views read through __getitem__, which would
    # reorder the entries while they are being iterated.
    def keys(self) -> KeysView[K]:
        return self._data.keys()

    def values(self) -> ValuesView[V]:
        return self._data.values()

    def items(self) -> ItemsView[K, V]:
        return self._data.items()

    def peek(self, key: K, default: V | None = None) -> V | None:
        """The value for ``key`` without refreshing it."""
        return self._data.get(key, default)

    def clear(self) -> None:
        self._data.clear()
