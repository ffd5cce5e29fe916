"""Throughput with several bot processes on one PostgreSQL database, against one on SQLite.

Run: .venv/bin/python bench/scaleout.py [--url postgresql://postgres@127.0.0.1/postgres]
                                        [--messages 6000] [--rounds 3] [--concurrency 8]
                                        [--processes 1,2,4] [--groups 0.5]

Each worker is a process of its own that builds the real core (``build_bot(settings,
store).handle``) on its own store, warms up, waits for the others at a common start, then
answers its share of one message mix with ``--concurrency`` messages in flight (as a bot with
several updates in hand has them). The mix is bench/storage.py's over 400 chats and 3,000
users, dealt out round robin, so the processes answer the same chats at once, as webhook
workers behind a balancer do. Throughput: all messages over the time from the common start to
the last worker's end (its final flush included). Each round: 1, 2 and 4 processes on
PostgreSQL (a fresh database each) and 1 on SQLite (a fresh file), in turn; the medians and
the median of each round's ratios are printed. The load generator runs inside the workers
(no sockets), and the server shares the machine with them. ``--groups F``: that fraction of
the messages are addressed to the bot in its groups, with the cooldown on at limits no one
reaches here (1,000 a minute): each answer there is counted, across the processes on
PostgreSQL.
Targets: 2 processes >= 1.3x one on PostgreSQL; one on PostgreSQL >= 0.7x one on SQLite.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import multiprocessing as mp
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.storage import QUESTIONS, UNKNOWN  # noqa: E402 - after the path set-up
from factbot.messages import IncomingMessage  # noqa: E402
from factbot.packs import FactPack  # noqa: E402
from tests.postgres import create_database, drop_database, reset_database  # noqa: E402

ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
CHATS, USERS = 400, 3000
SCALE_TARGET, STORE_TARGET = 1.3, 0.7


def message_mix(packs: tuple[FactPack, ...], count: int, seed: int = 11, groups: float = 0.0
                ) -> list[IncomingMessage]:
    """bench/storage.py's mix (topic commands, questions, misses, /topics), more chats;
    ``groups``: the fraction said to the bot in a group (the cooldown counts those)."""
    rng = random.Random(seed)
    commands = [f"/{t.command}" for p in packs for t in p.topics]
    out = []
    for _ in range(count):
        roll = rng.random()
        text = (rng.choice(commands) if roll < 0.45 else rng.choice(QUESTIONS) if roll < 0.80
                else rng.choice(UNKNOWN) if roll < 0.92 else "/topics")
        out.append(IncomingMessage(text=text, platform="telegram",
                                   chat_id=str(-1000 - rng.randrange(CHATS)),
                                   user_id=str(rng.randrange(USERS)),
                                   is_group=rng.random() < groups))
    return out


def worker(index: int, workers: int, db: str, messages: int, concurrency: int, groups: float,
           ready: Any, start: Any, results: Any) -> None:
    """One bot process: its share of the mix through build_bot(...).handle; report timings."""
    asyncio.run(_work(index, workers, db, messages, concurrency, groups, ready, start, results))


async def _work(index: int, workers: int, db: str, messages: int, concurrency: int,
                groups: float, ready: Any, start: Any, results: Any) -> None:
    from factbot.app import build_bot
    from factbot.packs import load_packs
    from factbot.settings import CooldownSettings, Settings
    from factbot.storage import BaseStore
    from factbot.storage.postgres import PostgresStore
    from factbot.storage.sqlite import SqliteStore

    packs = load_packs(ROOT / "facts")
    mine = message_mix(packs, messages, groups=groups)[index::workers]
    warm = message_mix(packs, 200, seed=99)  # other chats' turns: the matcher's caches
    store: BaseStore = PostgresStore(db) if db.startswith("postgresql://") \
        else SqliteStore(Path(db))
    async with store:
        # Limits no one reaches here: every answer in a group is counted, none refused.
        settings = dataclasses.replace(Settings(), cooldown=CooldownSettings(True, 1000, 1000))
        bot = build_bot(settings, store, packs=packs, cooldown=groups > 0)
        for message in warm:
            await bot.handle(message)
        await store.flush()
        ready.put(index)
        await asyncio.get_running_loop().run_in_executor(None, start.wait)
        began = time.monotonic()  # CLOCK_MONOTONIC: one clock for every process
        cpu = time.process_time()
        pending = iter(mine)

        async def drive() -> None:
            for message in pending:
                await bot.handle(message)

        await asyncio.gather(*(drive() for _ in range(max(concurrency, 1))))
        await store.flush()
        ended = time.monotonic()
        cpu = time.process_time() - cpu
    results.put((index, len(mine), began, ended, cpu))


def run(db: str, processes: int, messages: int, concurrency: int, groups: float = 0.0
        ) -> tuple[float, float]:
    """Replies per second of ``processes`` workers on ``db``, from the common start, and the
    CPU the workers used, in cores (the server's is the rest of the machine's)."""
    ctx = mp.get_context("spawn")  # a fresh interpreter each, as separate bot processes
    ready, results, start = ctx.Queue(), ctx.Queue(), ctx.Event()
    procs = [ctx.Process(target=worker, args=(i, processes, db, messages, concurrency, groups,
                                                ready, start, results))
             for i in range(processes)]
    for proc in procs:
        proc.start()
    for _ in procs:
        ready.get(timeout=120)
    start.set()
    reports = [results.get(timeout=600) for _ in procs]
    for proc in procs:
        proc.join(60)
        if proc.exitcode != 0:
            raise SystemExit(f"a worker failed (exit {proc.exitcode})")
    total = sum(r[1] for r in reports)
    elapsed = max(r[3] for r in reports) - min(r[2] for r in reports)
    return total / elapsed, sum(r[4] for r in reports) / elapsed


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=ADMIN_URL, help="a server's maintenance database")
    parser.add_argument("--messages", type=int, default=6000, help="messages a run, in all")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=8, help="in flight per process")
    parser.add_argument("--processes", default="1,2,4", help="PostgreSQL process counts")
    parser.add_argument("--groups", type=float, default=0.0,
                        help="fraction of messages in groups, counted by the cooldown")
    args = parser.parse_args()
    counts = [int(n) for n in args.processes.split(",")]
    url = await create_database(args.url)
    rates: dict[str, list[float]] = {"sqlite x1": [], **{f"postgres x{n}": [] for n in counts}}
    cores: dict[str, list[float]] = {name: [] for name in rates}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for r in range(args.rounds):
                names = list(rates) if r % 2 == 0 else list(reversed(rates))
                for name in names:
                    kind, n = name.split(" x")
                    if kind == "postgres":
                        await reset_database(url)
                        db = url
                    else:
                        db = str(Path(tmp) / f"bench-{r}.db")
                    rate, used = await asyncio.to_thread(run, db, int(n), args.messages,
                                                         args.concurrency, args.groups)
                    rates[name].append(rate)
                    cores[name].append(used)
                    print(f"round {r + 1}: {name:>11}: {rate:8.0f} replies/s, workers used "
                          f"{used:.2f} cores", flush=True)
    finally:
        await drop_database(args.url, url)
    print(f"messages a run: {args.messages}, rounds: {args.rounds}, {args.concurrency} in "
          f"flight per process, {CHATS} chats, {USERS} users, {args.groups:.0%} in groups")
    for name, values in rates.items():
        print(f"{name:>11}: median {statistics.median(values):8.0f} replies/s  "
              f"(rounds: {', '.join(f'{v:.0f}' for v in values)}); workers' CPU: "
              f"{statistics.median(cores[name]):.2f} cores")

    def ratio(a: str, b: str) -> float:
        return statistics.median(x / y for x, y in zip(rates[a], rates[b], strict=True))

    one = f"postgres x{counts[0]}"
    for more in counts[1:]:
        name = f"postgres x{more}"
        met = "met" if ratio(name, one) >= SCALE_TARGET else "MISSED"
        target = f" (target {SCALE_TARGET}x: {met})" if more == 2 else ""
        print(f"  ratio: {name} / {one} = {ratio(name, one):.2f}{target}")
    store_ratio = ratio(one, "sqlite x1")
    print(f"  ratio: {one} / sqlite x1 = {store_ratio:.2f} (target {STORE_TARGET}x: "
          f"{'met' if store_ratio >= STORE_TARGET else 'MISSED'})")


if __name__ == "__main__":
    asyncio.run(main())
