"""Which topic a command names (aliases, stems, small typos) and autocomplete."""

from __future__ import annotations

from factbot import commands
from factbot.matching.analysis import _fuzzy, nearest
from factbot.matching.index import Index, Intent
from factbot.packs import Topic, alias_key
from factbot.text import stem


class Commands:
    def __init__(self, index: Index) -> None:
        self.index = index
        names: dict[str, int] = {}
        for n, intent in enumerate(index.intents):
            names[intent.name] = n
        for n, intent in enumerate(index.intents):
            if intent.topic is not None:
                for alias in intent.topic.aliases:
                    names.setdefault(alias_key(alias), n)
        self._names = names
        self._list = sorted(names)
        self._stems = {stem(name): i for name, i in sorted(names.items()) if name.isascii()}

    def resolve(self, command: str) -> tuple[Intent, float] | None:
        """The intent a command names, allowing aliases and small typos."""
        key = alias_key(command)
        if not key or key in commands.names():
            return None
        n = self._names.get(key)
        if n is None:  # "/cooperate" for /cooperation
            n = self._stems.get(stem(key))
        if n is not None:
            return self.index.intents[n], 1.0
        if len(key) < 4:
            return None
        found = nearest(key, self._list, 1 if len(key) < 7 else 2)
        if found is None:
            return None
        name, distance = found
        return self.index.intents[self._names[name]], 1.0 - 0.1 * distance

    def complete(self, prefix: str, limit: int = 25) -> list[Topic]:
        """Topics for an autocomplete box: by name, alias or keyword, fuzzy."""
        key = alias_key(prefix)
        topics = [i.topic for i in self.index.intents if i.topic is not None]
        if not key:
            return topics[:limit]
        scored: list[tuple[float, int, Topic]] = []
        for n, topic in enumerate(topics):
            names = [topic.command, *map(alias_key, topic.aliases),
                     *map(alias_key, topic.keywords)]
            best = 0.0
            for name in names:
                if name.startswith(key):
                    best = max(best, 2.0 if name == topic.command else 1.5)
                elif key in name:
                    best = max(best, 1.0)
                else:
                    d = _fuzzy()[1].normalized_similarity(key, name[: len(key) + 1])
                    if d >= 0.7:
                        best = max(best, d)
            if best:
                scored.append((best, n, topic))
        scored.sort(key=lambda x: (-x[0], x[1]))
        return [t for _, _, t in scored[:limit]]
