"""Decide what a message asks for: a command, a topic, a fact, or nothing known.

The matcher scores; this module picks. A wrong quote is worse than no answer,
so anything below the threshold, or too close to call between two topics,
becomes "I don't know".
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.matcher import Candidate, Matcher
from bot.packs import BUILTIN_COMMANDS
from bot.text import fold, words

THRESHOLD = 0.40  # calibrated on tests/data/eval_korea_malaysia.jsonl (see README)
MARGIN = 0.02  # two topics closer than this are too close to call

BARE_BUILTINS = frozenset({"help", "start", "topics", "source"})
# "/name", "/name@bot", then arguments. "/usr/bin/env" or "!!!" is not a command.
_COMMAND = re.compile(r"^\s*/(\w+)(?:@(\w+))?(?:\s+(.*))?$", re.DOTALL)


@dataclass(frozen=True, slots=True)
class Command:
    name: str  # folded, without the slash or @botname
    args: str
    target: str | None  # the @botname it was addressed to, if any


@dataclass(frozen=True, slots=True)
class Decision:
    """What to answer. ``intent`` None means: say we do not know."""

    intent: str | None
    candidate: Candidate | None = None
    args: str = ""
    by_command: bool = False
    score: float = 0.0


def parse_command(text: str) -> Command | None:
    """Split ``/name@bot args``; None when the text is not a command."""
    match = _COMMAND.match(text)
    if match is None:
        return None
    name, target, args = match.group(1), match.group(2), (match.group(3) or "").strip()
    return Command(name=fold(name), args=args, target=fold(target) if target else None)


def decide(matcher: Matcher, text: str, threshold: float = THRESHOLD) -> Decision:
    """Turn one message into a decision."""
    bare = " ".join(words(text)) if len(text) < 32 else ""
    if bare in BARE_BUILTINS:  # "help" or "start" typed without the slash
        return Decision(bare, by_command=True, score=1.0)
    command = parse_command(text)
    if command is not None:
        return _decide_command(matcher, command, threshold)
    return decide_question(matcher, text, threshold)


def decide_question(matcher: Matcher, text: str, threshold: float = THRESHOLD) -> Decision:
    candidates = matcher.rank(text, limit=2)
    if not candidates or candidates[0].score < threshold:
        return Decision(None, candidates[0] if candidates else None,
                        score=candidates[0].score if candidates else 0.0)
    best = candidates[0]
    second = candidates[1] if len(candidates) > 1 else None
    # Two topics that would show the same quote are no dilemma.
    if second is not None and best.score - second.score < MARGIN \
            and _quote(best) != _quote(second):
        return Decision(None, best, score=best.score)
    return Decision(best.intent.name, best, score=best.score)


def _quote(candidate: Candidate) -> str | None:
    return candidate.fact.quote if candidate.fact else None


def _decide_command(matcher: Matcher, command: Command, threshold: float) -> Decision:
    if command.name in BUILTIN_COMMANDS:
        return Decision(command.name, args=command.args, by_command=True, score=1.0)
    found = matcher.resolve_command(command.name)
    if found is None:
        return Decision(None, args=command.args, by_command=True)
    intent, score = found
    return Decision(intent.name, args=command.args, by_command=True, score=score)
