"""What each page shows, from the store and the loaded packs: plain data for the templates.

The web layer (app.py) only calls these and renders; the matching is factbot's own (the
same FactBot.decide, Matcher.assess and check_dir the bot and ``facts check`` use).
"""

from __future__ import annotations

import asyncio
import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from markupsafe import Markup

from factbot.dashboard.charts import line_chart, stacked_bars
from factbot.dashboard.grouping import (
    SAME_QUESTION,
    Asked,
    Suggestion,
    generic_stems,
    group_questions,
    suggest,
)
from factbot.router import MARGIN, REFUSED_LEAD
from factbot.storage.base import BaseStore, EvalRun

if TYPE_CHECKING:
    from factbot.checks import CheckReport
    from factbot.core import FactBot
    from factbot.matcher import Candidate
    from factbot.settings import Settings

PERIODS = (7, 30, 90)  # the Overview's and Unanswered page's choices, in days
PACK_QUESTIONS = "questions.jsonl"  # as `factbot eval` reads it (cli.PACK_QUESTIONS)
MAX_GROUPS = 40  # unanswered groups shown, most asked first
NEAREST = 3  # candidates shown for a group or a tried question


# --- the loaded packs ----------------------------------------------------------------------


@dataclass
class Loaded:
    """One load of the packs: the bot that decides, the check report, its evaluations."""

    bot: FactBot
    report: CheckReport
    at: datetime
    evals: list[EvalRun] = field(default_factory=list)
    facts: Path = Path()  # the facts directory they came from


def pack_digest(folder: Path) -> str:
    """A short fingerprint of a pack's files: which version of the pack was evaluated."""
    h = hashlib.sha256()
    for name in ("pack.yaml", "article.txt", PACK_QUESTIONS):
        path = folder / name
        h.update(name.encode() + b"\0")
        if path.is_file():
            h.update(path.read_bytes())
    return h.hexdigest()[:12]


def load(settings: Settings, now: datetime | None = None) -> Loaded:
    """Load the packs as the bot does, check them as ``facts check`` does and evaluate each
    pack's own labelled questions as ``factbot eval`` does. Blocking (a thread's work):
    evaluation runs its own event loop. A pack that does not load raises PackError."""
    from factbot.app import build_bot
    from factbot.checks import check_dir
    from factbot.evaluate import evaluate, load_cases
    from factbot.storage import MemoryStore

    at = now or datetime.now(UTC)
    bot = build_bot(settings, MemoryStore(), cooldown=False)
    report = check_dir(settings.facts)
    runs: list[EvalRun] = []
    for pack in bot.packs:
        file = pack.path.parent / PACK_QUESTIONS
        if not file.is_file():
            continue
        # A bot of its own: evaluation's rotation state stays out of the one that decides.
        result = evaluate(build_bot(settings, MemoryStore(), packs=bot.packs, cooldown=False),
                          load_cases(file))
        runs.append(EvalRun(pack=pack.name, at=at, questions=result.on_total + result.off_total,
                            top1=result.accuracy, rejection=result.rejection,
                            wrong=result.wrong_share, digest=pack_digest(pack.path.parent)))
    return Loaded(bot=bot, report=report, at=at, evals=runs, facts=settings.facts)


# --- Overview ------------------------------------------------------------------------------

OUTCOME_NAMES = {"fact": "answered", "fallback": "“I don't know”", "wrong": "“Not what I asked”"}
OUTCOME_COLOURS = {"fact": "#009E73", "fallback": "#E69F00", "wrong": "#D55E00"}


def days_between(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


async def overview(store: BaseStore, days: int, today: date) -> dict[str, Any]:
    since = today - timedelta(days=days - 1)
    rows = await store.activity(since)
    span = days_between(since, today)
    labels = [d.strftime("%b %d") for d in span]
    at = {d: i for i, d in enumerate(span)}
    platforms = sorted({r.platform for r in rows})
    asked: dict[str, list[float]] = {p: [0.0] * len(span) for p in platforms}
    outcomes: dict[str, list[float]] = {o: [0.0] * len(span) for o in OUTCOME_NAMES}
    for r in rows:
        if r.day not in at:
            continue
        if r.outcome in ("fact", "fallback"):  # a question asked; a vote is not one
            asked[r.platform][at[r.day]] += r.count
        if r.outcome in outcomes:
            outcomes[r.outcome][at[r.day]] += r.count
    wrong_total = await store.wrong_total()
    shown = [o for o in OUTCOME_NAMES if o != "wrong" or wrong_total or any(outcomes[o])]
    totals = {o: int(sum(outcomes[o])) for o in OUTCOME_NAMES}
    questions = totals["fact"] + totals["fallback"]
    return {
        "days": days,
        "questions": questions,
        "totals": totals,
        "answered_share": totals["fact"] / questions if questions else None,
        "platforms": platforms,
        "asked_chart": line_chart(labels, [(p, asked[p]) for p in platforms],
                                  f"Questions per day by platform, last {days} days")
        if platforms else None,
        "outcome_chart": stacked_bars(labels, [(OUTCOME_NAMES[o], outcomes[o]) for o in shown],
                                      f"Answered against unanswered, last {days} days",
                                      colours=[OUTCOME_COLOURS[o] for o in shown])
        if rows else None,
        "top_topics": await store.top_topics(10),
        "top_facts": await store.top_facts(10),
        "wrong": await store.wrong_answers(5),
        "wrong_total": wrong_total,
        "unmatched_total": await store.unmatched_total(),
    }


# --- candidates, as the matcher scored them ------------------------------------------------


@dataclass(frozen=True, slots=True)
class Near:
    """A candidate as the pages show it."""

    topic: str  # the topic's command, or the built-in's name
    quote: str | None
    score: float
    refused: str | None
    evidence: tuple[str, ...]
    sentence: float


def near(candidate: Candidate) -> Near:
    intent = candidate.intent
    topic = intent.topic.command if intent.topic is not None else intent.name
    return Near(topic=topic, quote=candidate.fact.quote if candidate.fact else None,
                score=candidate.score, refused=candidate.refused,
                evidence=candidate.evidence, sentence=candidate.sentence)


# --- Unanswered questions ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class GroupView:
    count: int
    people: int
    example: str
    wordings: list[tuple[str, int]]
    platforms: list[tuple[str, int]]
    last_seen: datetime | None
    nearest: list[Near]  # the best candidates, refused ones included
    topics: list[tuple[str, float]]  # the nearest topics, each with its best score
    unknown: list[str]
    suggestion: Suggestion


async def unanswered(store: BaseStore, bot: FactBot, days: int,
                     now: datetime) -> dict[str, Any]:
    rows = await store.unmatched_questions(now - timedelta(days=days))
    # Words too common in the packs to tell topics apart tell questions apart no better.
    ignore = generic_stems(g for p in bot.packs for g in p.generic_terms)
    # Up to a second for thousands of different questions: off the event loop.
    groups = await asyncio.to_thread(
        group_questions, [Asked(r.text, r.at, r.platform, r.user_hash) for r in rows],
        SAME_QUESTION, ignore)
    pack_files = {t.command: f"{p.path.parent.name}/pack.yaml" for p in bot.packs
                  for t in p.topics}
    views: list[GroupView] = []
    for g in groups[:MAX_GROUPS]:
        ranking = bot.matcher.assess(g.example)
        candidates = [near(c) for c in ranking.candidates]
        topics: dict[str, float] = {}
        for c in candidates:
            if c.topic in pack_files:
                topics.setdefault(c.topic, c.score)
        wordings = g.top_wordings()
        unknown = [bot.matcher.analyse(text).unknown for text, _n in wordings]
        best = next((c for c in candidates if c.topic in pack_files), None)
        suggestion = suggest(wordings, unknown, best.topic if best else None,
                             best.score if best else 0.0, bot.threshold,
                             refused=best.refused if best else None,
                             pack_file=pack_files.get(best.topic, "") if best else "")
        views.append(GroupView(
            count=g.count, people=g.people, example=g.example, wordings=wordings,
            platforms=g.platforms.most_common(), last_seen=g.last_seen,
            nearest=candidates[:NEAREST], topics=list(topics.items())[:NEAREST],
            unknown=sorted({w for u in unknown for w in u}), suggestion=suggestion))
    return {"days": days, "groups": views, "questions": len(rows),
            "group_count": len(groups), "threshold": bot.threshold}


# --- Try a question ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WordEvidence:
    """One term of the question: what the matcher made of it and which candidate holds it."""

    term: str
    weight: float  # its rarity in the packs (0: generic, or unknown)
    scale: float  # below 1: a corrected typo or a translation
    alternatives: tuple[str, ...]
    # For each shown candidate: "sentence" (its quote holds the word), "fact keyword",
    # "topic" (the topic's name, aliases or keywords), "generic" (counts for none), or "".
    found: tuple[str, ...]


def explain(bot: FactBot, text: str) -> dict[str, Any]:
    """The bot's decision on ``text`` (FactBot.decide, as for a message), the candidates,
    the evidence for each word, and the rule that refused an answer, if one did."""
    decision = bot.decide(text)
    out: dict[str, Any] = {"text": text, "decision": decision, "threshold": bot.threshold,
                           "answer": None, "reason": "", "candidates": [], "words": [],
                           "unknown": (), "refused_by": None}
    if decision.by_command:
        out["reason"] = (f"a command: /{decision.intent}" if decision.intent
                         else "a command no topic or built-in has")
        return out
    ranking = bot.matcher.assess(text)
    candidates = list(ranking.candidates[:NEAREST + 2])
    shown = [near(c) for c in candidates]
    out["candidates"] = shown
    out["unknown"] = ranking.query.unknown
    allowed = ranking.allowed
    top = ranking.candidates[0] if ranking.candidates else None
    if decision.intent is not None:
        out["answer"] = near(decision.candidate) if decision.candidate else None
        out["reason"] = (f"answered: score {decision.score:.2f} at or above the threshold "
                         f"{bot.threshold:.2f}, and no other topic within {MARGIN:.2f}")
    elif not ranking.candidates:
        out["reason"] = "nothing in the packs matches any word of it"
    elif not allowed:
        out["reason"] = "every candidate was refused by a rule"
        out["refused_by"] = top.refused if top else None
    elif allowed[0].score < bot.threshold:
        out["reason"] = (f"the best allowed candidate scores {allowed[0].score:.2f}, under the "
                         f"threshold {bot.threshold:.2f}")
    elif top is not None and top.refused and top.score - allowed[0].score > REFUSED_LEAD:
        out["reason"] = (f"the sentence that matches best ({top.score:.2f}) cannot answer what "
                         f"is asked, more than {REFUSED_LEAD:.2f} ahead of the best allowed one: "
                         f"the article does not say")
        out["refused_by"] = top.refused
    else:
        out["reason"] = (f"two quotes of different topics are within {MARGIN:.2f} of each "
                         f"other: too close to call")
    index = bot.matcher.index
    owners = [index.intents.index(c.intent) for c in candidates]
    rows: list[WordEvidence] = []
    for unit in ranking.query.units:
        label = " ".join(unit.term)
        # Which topics name the term (their command, aliases or keywords): the topic prior.
        named_by = {owner for term in (unit.term, *unit.alternatives)
                    for owner, _w in index.prior.get(term, ())}
        found = tuple("generic" if unit.term in index.generic
                      else "sentence" if label in c.evidence
                      else "fact keyword" if f"{label} (keyword)" in c.evidence
                      else "topic" if owner in named_by else ""
                      for c, owner in zip(candidates, owners, strict=True))
        rows.append(WordEvidence(
            term=label, weight=bot.matcher.index.weights.get(unit.term, 0.0), scale=unit.scale,
            alternatives=tuple(" ".join(a) for a in unit.alternatives if a != unit.term),
            found=found))
    out["words"] = rows
    return out


# --- Pack health ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Finding:
    """A finding of ``facts check``, its file named from the facts directory."""

    where: str
    check: str
    message: str


def _finding(f: Any, facts_dir: Path) -> Finding:
    try:
        name = str(Path(f.file).relative_to(facts_dir))
    except ValueError:
        name = f.file
    return Finding(f"{name}:{f.line}" if f.line else name, f.check, f.message)


def health(report: CheckReport, facts_dir: Path) -> dict[str, Any]:
    by_check: dict[str, list[Finding]] = defaultdict(list)
    for finding in report.warnings:
        by_check[finding.check].append(_finding(finding, facts_dir))
    packs = [{"name": p.name, "path": str(p.path.parent), "folder": p.path.parent.name,
              "source": p.source.line(),
              "topics": [(t.command, t.description, len(t.facts)) for t in p.topics],
              "facts": sum(len(t.facts) for t in p.topics)} for p in report.packs]
    return {
        "ok": not report.errors,
        "errors": [_finding(f, facts_dir) for f in report.errors],
        "unreachable": by_check.pop("unreachable", []),
        "confusable": by_check.pop("confusable", []),
        "warnings": [f for items in by_check.values() for f in items],
        "warning_total": len(report.warnings),
        "packs": packs,
        "facts_dir": str(facts_dir),
    }


# --- Accuracy over time --------------------------------------------------------------------


def accuracy(history: list[EvalRun]) -> dict[str, Any]:
    """Each pack's evaluations, oldest first, as a chart and a table (newest first)."""
    by_pack: dict[str, list[EvalRun]] = defaultdict(list)
    for run in sorted(history, key=lambda r: r.at):
        by_pack[run.pack].append(run)
    packs = []
    for name, runs in sorted(by_pack.items()):
        labels = [r.at.strftime("%b %d %H:%M") for r in runs]
        chart: Markup = line_chart(labels, [("on-topic top-1", [r.top1 for r in runs]),
                                            ("off-topic rejection", [r.rejection for r in runs]),
                                            ("wrong facts shown", [r.wrong for r in runs])],
                                   f"{name}: accuracy by evaluation", percent=True,
                                   colours=("#0072B2", "#009E73", "#D55E00"))
        rows = []
        previous: EvalRun | None = None
        for run in runs:
            rows.append({"run": run, "changed": previous is not None
                         and previous.digest != run.digest,
                         "delta": run.top1 - previous.top1 if previous else None})
            previous = run
        packs.append({"name": name, "chart": chart, "rows": list(reversed(rows)),
                      "runs": len(runs)})
    return {"packs": packs}
