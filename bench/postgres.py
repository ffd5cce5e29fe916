"""Replies per second with the PostgreSQL store against the SQLite store, same run, one process.

Run: .venv/bin/python bench/postgres.py [--url postgresql://postgres@127.0.0.1/postgres]
                                        [--messages 10000] [--rounds 5] [--concurrency 1]

The message mix and the rounds are bench/storage.py's: 40 chats, 300 users; pairs of
rounds, one per store, the order swapping each pair, each round on a fresh database (a new
SQLite file; PostgreSQL's schema dropped and made again), the final flush included.
``--url`` names a server's maintenance database: the bench makes a database of its own
there and drops it at the end. ``--concurrency N``: N messages in flight at once, as a
bot with several updates in hand has them (python-telegram-bot's concurrent_updates is 8).
Also printed: what one chat-settings read costs PostgresStore from the server (one indexed
query: the settings cache off) and from its cache, and one shared cooldown count
(what each answer in a group adds with the cooldown on).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.storage import message_mix, one_round  # noqa: E402 - after the path set-up
from factbot.app import build_bot  # noqa: E402
from factbot.messages import IncomingMessage  # noqa: E402
from factbot.packs import FactPack, load_packs  # noqa: E402
from factbot.settings import Settings  # noqa: E402
from factbot.storage import BaseStore, ChatKey  # noqa: E402
from factbot.storage.postgres import SETTINGS_CACHE, PostgresStore  # noqa: E402
from factbot.storage.sqlite import SqliteStore  # noqa: E402
from tests.postgres import create_database, drop_database, reset_database  # noqa: E402

ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


async def concurrent_round(packs: tuple[FactPack, ...], store: BaseStore,
                           messages: list[IncomingMessage], workers: int) -> float:
    """Replies per second with ``workers`` messages in flight (store open, flush included)."""
    if workers <= 1:
        return await one_round(packs, store, messages)
    async with store:
        bot = build_bot(Settings(), store, packs=packs, cooldown=False)
        pending = iter(messages)  # shared: each worker takes the next message

        async def worker() -> None:
            for message in pending:
                await bot.handle(message)

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(workers)))
        await store.flush()
        elapsed = time.perf_counter() - start
    return len(messages) / elapsed


async def settings_read(url: str, reads: int = 5000, cache: int = 0) -> tuple[float, float]:
    """Median and 99th percentile, in µs, of one chat-settings read on PostgresStore
    (``cache`` 0: from the server every time; else from the process's cache)."""
    async with PostgresStore(url, settings_cache=cache) as store:
        chat = ChatKey("telegram", "-1000")
        await store.set_topic_enabled(chat, "trade", False)
        times = []
        for _ in range(reads):
            start = time.perf_counter()
            await store.chat_settings(chat)
            times.append((time.perf_counter() - start) * 1e6)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.99)]


async def cooldown_count(url: str, counts: int = 5000) -> tuple[float, float]:
    """Median and 99th percentile, in µs, of one shared cooldown count (a group's answer)."""
    async with PostgresStore(url) as store:
        times = []
        for n in range(counts):
            start = time.perf_counter()
            # 40 chats and 300 users, as the mix; limits that never refuse, as a quiet group.
            await store.count_cooldown("telegram", f"-{n % 40}", f"u{n % 300}", 1000, 1000, 60)
            times.append((time.perf_counter() - start) * 1e6)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.99)]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=ADMIN_URL, help="a server's maintenance database")
    parser.add_argument("--messages", type=int, default=10000)
    parser.add_argument("--rounds", type=int, default=5, help="pairs of rounds")
    parser.add_argument("--concurrency", type=int, default=1, help="messages in flight")
    args = parser.parse_args()
    packs = load_packs(ROOT / "facts")
    messages = message_mix(packs, args.messages)
    url = await create_database(args.url)
    rates: dict[str, list[float]] = {"sqlite": [], "postgres": []}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            await one_round(packs, SqliteStore(Path(tmp) / "warm.db"), messages[:200])
            for n in range(args.rounds):
                order = ["sqlite", "postgres"] if n % 2 == 0 else ["postgres", "sqlite"]
                for name in order:
                    store: BaseStore
                    if name == "postgres":
                        await reset_database(url)
                        store = PostgresStore(url)
                    else:
                        store = SqliteStore(Path(tmp) / f"bench-{n}.db")
                    rates[name].append(await concurrent_round(packs, store, messages,
                                                              args.concurrency))
        await reset_database(url)
        median, p99 = await settings_read(url)
        cached_median, cached_p99 = await settings_read(url, cache=SETTINGS_CACHE)
        await reset_database(url)
        cool_median, cool_p99 = await cooldown_count(url)
    finally:
        await drop_database(args.url, url)
    ratio = statistics.median(p / s for p, s in zip(rates["postgres"], rates["sqlite"],
                                                     strict=True))
    print(f"messages per round: {args.messages}, pairs of rounds: {args.rounds}, one process, "
          f"{args.concurrency} in flight")
    for name, values in rates.items():
        print(f"{name:>8}: median {statistics.median(values):8.0f} replies/s  "
              f"(rounds: {', '.join(f'{v:.0f}' for v in values)})")
    print(f"   ratio: postgres/sqlite = {ratio:.2f}, median of pairs")
    print(f"PostgresStore.chat_settings: median {median:.0f} µs, p99 {p99:.0f} µs a read from "
          f"the server; median {cached_median:.1f} µs, p99 {cached_p99:.1f} µs from the cache")
    print(f"PostgresStore.count_cooldown: median {cool_median:.0f} µs, p99 {cool_p99:.0f} µs "
          "a count (each answer in a group, cooldown on)")


if __name__ == "__main__":
    asyncio.run(main())
