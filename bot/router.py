"""Decide what a message asks for: a command, a topic, a fact, or nothing known.

The matcher scores; this module picks. A wrong quote is worse than no answer,
so anything below the threshold, or too close to call between two topics,
becomes "I don't know".
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from factbot import commands
from factbot.matcher import Candidate, Matcher
from factbot.text import fold, words

THRESHOLD = 0.40  # calibrated on tests/data/eval_korea_malaysia.jsonl (see README)
MARGIN = 0.02  # two answers from two topics closer than this are too close to call
# A refused sentence this far ahead of the best allowed one means the article does not say.
REFUSED_LEAD = 0.08

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
    if bare in commands.bare_names():  # "help" or "start" typed without the slash
        return Decision(bare, by_command=True, score=1.0)
    command = parse_command(text)
    if command is not None:
        return _decide_command(matcher, command, threshold)
    return decide_question(matcher, text, threshold)


def decide_question(matcher: Matcher, text: str, threshold: float = THRESHOLD) -> Decision:
    ranking = matcher.assess(text)
    allowed = ranking.allowed
    top = ranking.candidates[0] if ranking.candidates else None
    if not allowed or allowed[0].score < threshold:
        return Decision(None, top, score=top.score if top else 0.0)
    best = allowed[0]
    # Two sentences of one topic equally likely: the one that says more of the question.
    for other in allowed[1:]:
        if other.intent == best.intent and best.score - other.score < MARGIN \
                and other.sentence > best.sentence * 1.5:
            best = other
    # The sentence that matches best cannot answer what is asked ("when" without a date,
    # "the largest" against "the third-largest"): the article does not say.
    # Another speaker's words are no answer to "what did X say", however close they come.
    if top is not None and top.refused and top.refused != "another speaker" \
            and top.score - best.score > REFUSED_LEAD and top.intent.topic is not None:
        return Decision(None, top, score=best.score)
    for other in allowed[1:]:
        if _quote(other) == _quote(best) or other.intent == best.intent:
            continue
        if ranking.query.names and best.fact and other.fact \
                and best.fact.speaker is not None and best.fact.speaker == other.fact.speaker:
            continue  # "what did Dewar say": any of Dewar's words answers it
        # Two different quotes from different topics, too close to call.
        if best.score - other.score < MARGIN:
            return Decision(None, best, score=best.score)
        break
    return Decision(best.intent.name, best, score=best.score)


def _quote(candidate: Candidate) -> str | None:
    return candidate.fact.quote if candidate.fact else None


def _decide_command(matcher: Matcher, command: Command, threshold: float) -> Decision:
    if command.name in commands.names():
        return Decision(command.name, args=command.args, by_command=True, score=1.0)
    found = matcher.resolve_command(command.name)
    if found is None:
        return Decision(None, args=command.args, by_command=True)
    intent, score = found
    return Decision(intent.name, args=command.args, by_command=True, score=score)
