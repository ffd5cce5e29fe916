"""Replies per second with the SQLite store against the in-memory store, same run.

Run: .venv/bin/python bench/storage.py [--messages 3000] [--rounds 5] [--chat-cache N]

Both stores answer the same message mix (topic commands, free questions,
questions the packs cannot answer, /topics) from 40 chats and 300 users.
Rounds come in pairs, one per store, the order swapping each pair; each
round runs on a fresh store (a fresh database file: cold caches, every read
included) and the SQLite figure includes the final flush. Reported: the
median rate of each store and the median of the per-pair ratios (robust to
the load drifting on a shared machine). Target: the file store at >= 80% of
the in-memory rate. ``--chat-cache 0`` turns the SQLite store's per-chat cache off
(every message reads its chat from the file): the cache's win is the difference.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from factbot.app import build_bot  # noqa: E402 - after the path set-up
from factbot.messages import IncomingMessage  # noqa: E402
from factbot.packs import FactPack, load_packs  # noqa: E402
from factbot.settings import Settings  # noqa: E402 - after the path set-up
from factbot.storage import BaseStore, MemoryStore  # noqa: E402
from factbot.storage.sqlite import CHAT_CACHE_SIZE, SqliteStore  # noqa: E402

QUESTIONS = ("why is the korean wave so popular in malaysia?",
             "how many koreans live in malaysia",
             "what is the strategic partnership about",
             "tell me about trade between korea and malaysia")
UNKNOWN = ("what is the weather on mars?", "who won the football last night",
           "recommend me a restaurant")
TARGET = 0.80


def message_mix(packs: tuple[FactPack, ...], count: int, seed: int = 7) -> list[IncomingMessage]:
    rng = random.Random(seed)
    commands = [f"/{t.command}" for p in packs for t in p.topics]
    out = []
    for _ in range(count):
        roll = rng.random()
        if roll < 0.45:
            text = rng.choice(commands)
        elif roll < 0.80:
            text = rng.choice(QUESTIONS)
        elif roll < 0.92:
            text = rng.choice(UNKNOWN)
        else:
            text = "/topics"
        out.append(IncomingMessage(text=text, platform="telegram",
                                   chat_id=str(-1000 - rng.randrange(40)),
                                   user_id=str(rng.randrange(300))))
    return out


async def one_round(packs: tuple[FactPack, ...], store: BaseStore,
                    messages: list[IncomingMessage]) -> float:
    """Replies per second for one pass over ``messages`` (store open, flush included)."""
    async with store:
        bot = build_bot(Settings(), store, packs=packs, cooldown=False)
        start = time.perf_counter()
        for message in messages:
            await bot.handle(message)
        await store.flush()
        elapsed = time.perf_counter() - start
    return len(messages) / elapsed


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    # Long rounds: 40 cold chat reads and the final flush are paid once per round.
    parser.add_argument("--messages", type=int, default=10000)
    parser.add_argument("--rounds", type=int, default=7, help="pairs of rounds")
    parser.add_argument("--chat-cache", type=int, default=CHAT_CACHE_SIZE,
                        help="chats the SQLite store keeps in memory (0: none)")
    args = parser.parse_args()
    packs = load_packs(ROOT / "facts")
    messages = message_mix(packs, args.messages)
    rates: dict[str, list[float]] = {"memory": [], "sqlite": []}
    with tempfile.TemporaryDirectory() as tmp:
        await one_round(packs, MemoryStore(), messages[:200])  # warm the matcher's caches
        for n in range(args.rounds):
            order = ["memory", "sqlite"] if n % 2 == 0 else ["sqlite", "memory"]
            for name in order:
                store: BaseStore = MemoryStore() if name == "memory" else SqliteStore(
                    Path(tmp) / f"bench-{n}.db", chat_cache=args.chat_cache)
                rates[name].append(await one_round(packs, store, messages))
    ratio = statistics.median(s / m for s, m in zip(rates["sqlite"], rates["memory"],
                                                     strict=True))
    print(f"messages per round: {args.messages}, pairs of rounds: {args.rounds}, "
          f"SQLite chat cache: {args.chat_cache}")
    for name, values in rates.items():
        print(f"{name:>6}: median {statistics.median(values):8.0f} replies/s  "
              f"(rounds: {', '.join(f'{v:.0f}' for v in values)})")
    verdict = "meets" if ratio >= TARGET else "MISSES"
    print(f" ratio: sqlite/memory = {ratio:.2f}, median of pairs "
          f"({verdict} the {TARGET:.0%} target)")


if __name__ == "__main__":
    asyncio.run(main())
