"""Usage statistics: what people ask most, what the packs could not answer, and what
members marked "Not what I asked"."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from factbot.storage.base import BaseStore, TopicCount, UnmatchedCount, WrongCount
from factbot.text import escape_invisible


@dataclass(frozen=True, slots=True)
class Report:
    topics: list[TopicCount]
    unmatched_total: int
    unmatched: list[UnmatchedCount]
    wrong_total: int = 0
    wrong: tuple[WrongCount, ...] = ()  # grouped by the fact that was shown


async def collect(store: BaseStore, limit: int = 10) -> Report:
    return Report(await store.top_topics(limit), await store.unmatched_total(),
                  await store.top_unmatched(limit), await store.wrong_total(),
                  tuple(await store.wrong_answers(limit)))


def as_json(report: Report) -> dict[str, Any]:
    return {
        "topics": [{"topic": t.topic, "count": t.count, "by_platform": dict(t.by_platform)}
                   for t in report.topics],
        "unmatched_total": report.unmatched_total,
        "unmatched": [{"text": q.text, "count": q.count, "last_seen": q.last_seen.isoformat()}
                      for q in report.unmatched],
        "wrong_total": report.wrong_total,
        "wrong": [{"topic": w.topic, "quote": w.quote, "count": w.count,
                   "questions": list(w.questions), "last_seen": w.last_seen.isoformat()}
                  for w in report.wrong],
    }


def as_text(report: Report) -> str:
    """The report for a terminal: questions people typed cannot move its cursor or turn its
    text around (control and bidi characters are shown escaped)."""
    topics, total, questions = report.topics, report.unmatched_total, report.unmatched
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
    lines.append(f"Answers marked \"Not what I asked\": {report.wrong_total}")
    if report.wrong:
        lines.append("By the fact shown (check its topic's keywords, or the fact itself):")
    for w in report.wrong:
        quote = w.quote if len(w.quote) <= 70 else w.quote[:69] + "…"
        lines.append(f"  {w.count:>5}x  /{w.topic}: {json.dumps(quote, ensure_ascii=False)}"
                     f"  (last {w.last_seen:%Y-%m-%d})")
        lines += [f"          asked: {json.dumps(q, ensure_ascii=False)}" for q in w.questions]
    return escape_invisible("\n".join(lines))
