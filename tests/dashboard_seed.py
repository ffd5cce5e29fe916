"""A store holding what a month of a real bot leaves: for the dashboard's tests and
screenshots (docs/screenshots.py).

The questions are the default pack's own labelled ones (facts/*/questions.jsonl), decided
by the bot as it would decide them, over DAYS days on Telegram and Discord; the questions
it cannot answer are kept with hashed askers, a few rewordings asked again and again.
Deterministic: one seed, one store.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import random
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

from aiohttp import web

from factbot.app import build_bot
from factbot.dashboard import views
from factbot.dashboard.app import make_app
from factbot.settings import Settings
from factbot.storage import BaseStore, MemoryStore
from factbot.storage.base import EvalRun

DAYS = 30
PLATFORMS = ("telegram", "discord")
# Rewordings of questions the pack cannot answer: each group is one question asked often.
MISSES = (
    ("when is the next blackpink concert", "blackpink concert kl when",
     "is there a blackpink concert in kuala lumpur"),
    ("how many korean students study in malaysia", "korean students in malaysia how many",
     "How many Korean students study in Malaysia?"),
    ("what is the visa fee for korea", "korea visa fee?"),
    ("best korean restaurant in kl", "korean restaurant near me"),
)
# Answered, but with a fact its readers say is not what they asked ("Not what I asked").
WRONGLY_ANSWERED = ("is kimchi popular in malaysia", "do malaysians like kimchi")
# Raw user ids: the store keeps only their hashes, and no page may show either.
USERS = tuple(f"tg-user-{1000 + n}" for n in range(40))


@dataclass(frozen=True, slots=True)
class Seeded:
    store: BaseStore
    now: datetime
    # per platform and day (oldest first): questions asked (facts shown + fallbacks)
    asked: dict[str, list[int]]
    misses: Counter[str]  # a MISSES wording -> times asked (and not answered)
    raw_ids: tuple[str, ...]
    hashes: tuple[str, ...]


def user_hash(user: str) -> str:
    return hashlib.sha256(f"salt:{user}".encode()).hexdigest()[:16]


def questions(facts: Path) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for file in sorted(facts.glob("*/questions.jsonl")):
        rows += [json.loads(line) for line in file.read_text("utf-8").splitlines() if line]
    return [r for r in rows if str(r["text"]).strip() and not str(r["text"]).startswith("/")]


async def seed(store: BaseStore | None = None, *, settings: Settings | None = None,
               now: datetime | None = None, days: int = DAYS, per_day: int = 12,
               evals: bool = True) -> Seeded:
    """Fill ``store`` (default: a new MemoryStore) with ``days`` days of questions."""
    settings = settings or Settings()
    store = store if store is not None else MemoryStore()
    now = now or datetime.combine(datetime.now(UTC).date(), time(12), tzinfo=UTC)
    rng = random.Random(15)
    bot = build_bot(settings, MemoryStore(), cooldown=False)
    pool = questions(settings.facts)
    asked = {p: [0] * days for p in PLATFORMS}
    misses: Counter[str] = Counter()
    for d in range(days):
        day = now - timedelta(days=days - 1 - d)
        for p, platform in enumerate(PLATFORMS):
            # Telegram a little busier, and both busier towards the end of the month.
            count = per_day + (4 if p == 0 else 0) + d // 6 + rng.randrange(4)
            for n in range(count):
                at = day - timedelta(minutes=7 * n + p)
                user = rng.choice(USERS)
                roll = rng.random()
                group: tuple[str, ...] | None = None
                if roll < 0.15:
                    group = MISSES[rng.randrange(len(MISSES))]
                    text = rng.choice(group)
                elif roll < 0.18:
                    text = rng.choice(WRONGLY_ANSWERED)
                else:
                    text = str(rng.choice(pool)["text"])
                decision = bot.decide(text)
                candidate = decision.candidate
                if decision.by_command or (decision.intent and candidate is None):
                    continue  # "help" and the like: a built-in's reply, no question counted
                if decision.intent and candidate is not None and candidate.fact is not None \
                        and candidate.intent.topic is not None:
                    topic = candidate.intent.topic.command
                    await store.record_usage(platform, topic, candidate.fact.quote, at=at)
                    if text in WRONGLY_ANSWERED and rng.random() < 0.5:
                        await store.record_feedback(platform, f"chat{p}", f"r{d}-{n}",
                                                    user_hash(user), text, topic,
                                                    candidate.fact.quote, at=at)
                else:
                    await store.record_unmatched(platform, text, user_hash(user), at=at)
                    if group is not None:
                        misses[text] += 1
                asked[platform][d] += 1
    if evals:
        for k, (top1, rejection, wrong) in enumerate(((0.842, 0.80, 0.071), (0.874, 0.84, 0.05),
                                                      (0.861, 0.88, 0.046))):
            await store.record_eval(EvalRun(
                pack=bot.packs[0].name, at=now - timedelta(days=21 - 7 * k),
                questions=255, top1=top1, rejection=rejection, wrong=wrong,
                digest=f"{k:x}" * 12))
    await store.flush()
    return Seeded(store=store, now=now, asked=asked, misses=misses, raw_ids=USERS,
                  hashes=tuple(user_hash(u) for u in USERS))


@asynccontextmanager
async def serving(store: BaseStore, token: str = "",
                  settings: Settings | None = None) -> AsyncIterator[str]:
    """The dashboard on ``store`` and the default packs, on a free loopback port: its URL.

    Reloads load the packs again; evaluations go into ``store``.
    """
    settings = settings or Settings()

    async def loader() -> views.Loaded:
        return await asyncio.to_thread(views.load, settings)

    async def recorder(runs: list[EvalRun]) -> None:
        for run in runs:
            await store.record_eval(run)

    loaded = await loader()
    await recorder(loaded.evals)
    app = make_app(store, loaded, loader, recorder, token=token)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()
