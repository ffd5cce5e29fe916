"""Measure matching quality on a labelled set: on-topic top-1 accuracy and off-topic rejection."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from pathlib import Path

from bot.core import FactBot
from bot.errors import ConfigError
from bot.messages import IncomingMessage, ReplyKind

# A built-in command counts as answered when the reply is of its kind.
_BUILTIN_KIND = {"topics": ReplyKind.TOPICS, "help": ReplyKind.HELP, "start": ReplyKind.HELP,
                 "source": ReplyKind.SOURCE}


@dataclass(frozen=True, slots=True)
class Case:
    text: str
    topic: str | None


@dataclass
class Report:
    on_total: int = 0
    on_correct: int = 0
    off_total: int = 0
    off_correct: int = 0
    misses: list[str] = field(default_factory=list)

    @property
    def accuracy(self) -> float:
        return self.on_correct / self.on_total if self.on_total else 1.0

    @property
    def rejection(self) -> float:
        return self.off_correct / self.off_total if self.off_total else 1.0

    def summary(self, name: str) -> str:
        return (f"{name}: on-topic top-1 accuracy {self.accuracy:.1%} "
                f"({self.on_correct}/{self.on_total}), off-topic rejection {self.rejection:.1%} "
                f"({self.off_correct}/{self.off_total})")


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
            cases.append(Case(text=str(row["text"]), topic=row["topic"]))
        except (ValueError, KeyError, TypeError):
            raise ConfigError(f"{path}:{number}: expected {{\"text\": ..., \"topic\": ...}}"
                              ) from None
    return cases


async def _run(bot: FactBot, cases: list[Case]) -> Report:
    report = Report()
    for n, case in enumerate(cases):
        # A fresh chat per case: the answer must not depend on what came before.
        reply = await bot.handle(IncomingMessage(text=case.text, chat_id=f"eval-{n}"))
        assert reply is not None
        if case.topic is None:
            report.off_total += 1
            ok = reply.kind is ReplyKind.FALLBACK
            got = reply.topic or reply.kind.value
        elif case.topic in _BUILTIN_KIND:
            report.on_total += 1
            ok = reply.kind is _BUILTIN_KIND[case.topic]
            got = reply.topic or reply.kind.value
        else:
            report.on_total += 1
            ok = reply.kind is ReplyKind.FACT and reply.topic == case.topic
            got = reply.topic or reply.kind.value
        if ok:
            if case.topic is None:
                report.off_correct += 1
            else:
                report.on_correct += 1
        else:
            report.misses.append(f"{case.text!r}: expected {case.topic}, got {got} "
                                 f"({reply.score:.2f})")
    return report


def evaluate(bot: FactBot, cases: list[Case]) -> Report:
    return asyncio.run(_run(bot, cases))
