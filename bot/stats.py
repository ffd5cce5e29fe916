"""Usage statistics: what people ask most, and what the packs could not answer."""

from __future__ import annotations

import json
from typing import Any

from factbot.storage.base import BaseStore, TopicCount, UnmatchedCount
from factbot.text import escape_invisible


async def collect(store: BaseStore, limit: int = 10) -> tuple[list[TopicCount], int,
                                                       list[UnmatchedCount]]:
    return (await store.top_topics(limit), await store.unmatched_total(),
            await store.top_unmatched(limit))


def as_json(topics: list[TopicCount], total: int, questions: list[UnmatchedCount]
            ) -> dict[str, Any]:
    return {
        "topics": [{"topic": t.topic, "count": t.count, "by_platform": dict(t.by_platform)}
                   for t in topics],
        "unmatched_total": total,
        "unmatched": [{"text": q.text, "count": q.count, "last_seen": q.last_seen.isoformat()}
                      for q in questions],
    }


def as_text(topics: list[TopicCount], total: int, questions: list[UnmatchedCount]) -> str:
    """The report for a terminal: questions people typed cannot move its cursor or turn its
    text around (control and bidi characters are shown escaped)."""
    lines = ["Top topics:"]
    if not topics:
        lines.append("  (none asked yet)")
    for t in topics:
        platforms = ", ".join(f"{p} {n}" for p, n in t.by_platform)
        lines.append(f"  /{t.topic:<16} {t.count:>6}  ({platforms})")
    lines.append(f"Unanswered questions kept: {total}")
    if questions:
        lines.append("Most frequent (add aliases or keywords for these):")
    for q in questions:
        # repr-style escaping: a question may hold control characters or newlines.
        text = json.dumps(q.text, ensure_ascii=False)
        lines.append(f"  {q.count:>5}x  {text}  (last {q.last_seen:%Y-%m-%d})")
    return escape_invisible("\n".join(lines))
