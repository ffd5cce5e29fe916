"""Measure answer quality on a labelled set: top-1, rejection, and wrong facts shown.

A line of a set is ``{"text": ..., "topic": ..., "answers": [...], "category": ...}``:

- ``topic``: the command the question is about, or null when the article does not
  answer it. Sets written for a draft may leave it out and label ``answers`` only.
- ``answers``: verbatim parts of the article, one per sentence that answers the
  question. A fact shown is right when it holds one of them (or lies inside one).
  Null or missing: any fact of ``topic`` is right. ``[]``: nothing answers it.
- ``category``: free text (paraphrase, specific, malay, near-miss, …), for the report.

Three figures a set: on-topic top-1, off-topic rejection, and the share of the facts
shown that were wrong (an off-topic question answered with a fact counts as wrong).
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from factbot.commands import by_name
from factbot.core import FactBot
from factbot.errors import ConfigError
from factbot.messages import IncomingMessage, ReplyKind
from factbot.text import words

# Why a line went wrong; `factbot eval --errors` groups its misses by these.
WRONG_FACT = "wrong fact of the right topic"
WRONG_TOPIC = "wrong topic"
REFUSED = "refused although answerable"
OFF_TOPIC_ANSWERED = "off-topic answered"
OTHER = "other reply"
CLASSES = (WRONG_FACT, WRONG_TOPIC, REFUSED, OFF_TOPIC_ANSWERED, OTHER)


@dataclass(frozen=True, slots=True)
class Case:
    text: str
    topic: str | None
    answers: tuple[str, ...] | None = None  # None: any fact of the topic
    category: str = ""

    @property
    def answerable(self) -> bool:
        return self.topic is not None or bool(self.answers)


@dataclass
class Report:
    on_total: int = 0
    on_correct: int = 0
    off_total: int = 0
    off_correct: int = 0
    shown: int = 0  # facts shown, on- and off-topic
    shown_wrong: int = 0
    misses: list[str] = field(default_factory=list)
    classes: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    # category -> [lines, right]
    by_category: dict[str, list[int]] = field(default_factory=dict)

    @property
    def accuracy(self) -> float:
        return self.on_correct / self.on_total if self.on_total else 1.0

    @property
    def rejection(self) -> float:
        return self.off_correct / self.off_total if self.off_total else 1.0

    @property
    def wrong_share(self) -> float:
        return self.shown_wrong / self.shown if self.shown else 0.0

    def summary(self, name: str) -> str:
        return (f"{name}: on-topic top-1 accuracy {self.accuracy:.1%} "
                f"({self.on_correct}/{self.on_total}), off-topic rejection {self.rejection:.1%} "
                f"({self.off_correct}/{self.off_total}), wrong facts shown "
                f"{self.wrong_share:.1%} ({self.shown_wrong}/{self.shown})")

    def category_lines(self) -> list[str]:
        return [f"  {name or '-'}: {right}/{total}"
                for name, (total, right) in sorted(self.by_category.items())]

    def error_lines(self) -> list[str]:
        out: list[str] = []
        for name in CLASSES:
            misses = self.classes.get(name, [])
            if misses:
                out.append(f"  {name} ({len(misses)}):")
                out += [f"    {m}" for m in misses]
        return out


def load_cases(path: Path) -> list[Case]:
    cases: list[Case] = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the evaluation set ({exc.strerror})") from None
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            answers = row.get("answers")
            if answers is not None and (not isinstance(answers, list)
                                        or not all(isinstance(a, str) for a in answers)):
                raise TypeError
            topic = row.get("topic")
            if "topic" not in row and answers is None:
                raise KeyError("topic")
            if topic is not None and not isinstance(topic, str):
                raise TypeError
            cases.append(Case(text=str(row["text"]), topic=topic,
                              answers=None if answers is None else tuple(answers),
                              category=str(row.get("category") or "")))
        except (ValueError, KeyError, TypeError, AttributeError):
            raise ConfigError(f"{path}:{number}: expected {{\"text\": ..., \"topic\": ..., "
                              f"\"answers\": [...]}}") from None
    return cases


def holds(quote: str, answer: str) -> bool:
    """Whether a shown quote holds an answer span, or lies inside it (words, folded)."""
    q, a = " ".join(words(quote)), " ".join(words(answer))
    return bool(q and a) and (f" {a} " in f" {q} " or f" {q} " in f" {a} ")


def _topic_quotes(bot: FactBot, topic: str | None) -> set[str]:
    found = bot.topic(topic) if topic else None
    return {f.quote for f in found[1].facts} if found else set()


async def _run(bot: FactBot, cases: list[Case]) -> Report:
    report = Report()
    for n, case in enumerate(cases):
        # A fresh chat per case: the answer must not depend on what came before.
        reply = await bot.handle(IncomingMessage(text=case.text, chat_id=f"eval-{n}"))
        assert reply is not None
        got = reply.topic or reply.kind.value
        fact = reply.kind is ReplyKind.FACT and reply.quote is not None
        verdict: str | None = None
        if fact:
            report.shown += 1
        if not case.answerable:
            report.off_total += 1
            ok = reply.kind is ReplyKind.FALLBACK
            if fact:
                verdict = OFF_TOPIC_ANSWERED
            elif not ok:
                verdict = OTHER
        elif case.topic is not None and (builtin := by_name().get(case.topic)) is not None:
            # A built-in command counts as answered when the reply is of its kind.
            report.on_total += 1
            ok = reply.kind is builtin.kind
            verdict = None if ok else (REFUSED if reply.kind is ReplyKind.FALLBACK else OTHER)
        else:
            report.on_total += 1
            quote = reply.quote or ""
            in_topic = reply.topic == case.topic or quote in _topic_quotes(bot, case.topic)
            if not fact:
                ok = False
                verdict = REFUSED if reply.kind is ReplyKind.FALLBACK else OTHER
            elif case.answers is not None:
                ok = any(holds(quote, a) for a in case.answers)
                verdict = None if ok else (WRONG_FACT if case.topic is None or in_topic
                                           else WRONG_TOPIC)
            else:
                ok = in_topic
                verdict = None if ok else WRONG_TOPIC
        if fact and verdict is not None:
            report.shown_wrong += 1
        tally = report.by_category.setdefault(case.category, [0, 0])
        tally[0] += 1
        if ok:
            tally[1] += 1
            if case.answerable:
                report.on_correct += 1
            else:
                report.off_correct += 1
        else:
            shown = f" «{(reply.quote or '')[:70]}»" if fact else ""
            line = (f"{case.text!r}: expected {case.topic}, got {got} "
                    f"({reply.score:.2f}){shown}")
            report.misses.append(line)
            report.classes[verdict or OTHER].append(line)
    return report


def evaluate(bot: FactBot, cases: list[Case]) -> Report:
    return asyncio.run(_run(bot, cases))


def class_counts(report: Report) -> Counter[str]:
    return Counter({name: len(lines) for name, lines in report.classes.items()})
