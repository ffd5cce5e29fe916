"""RSS while many distinct chats pass through the real core on the SQLite store.

Run: .venv/bin/python bench/memory.py [--chats 1000000] [--every 50000] [--warm-up 200000]
         [--groups]

Each chat sends "/hallyu" and a free question through ``FactBot.handle`` (the bot from
``build_bot``, cooldown off) on a fresh database file. ``--groups``: the chats are groups
and the cooldown is on, so its per-person and per-chat windows are measured too. Every
``--every`` chats it prints the chats so far, the RSS in MiB (after a garbage collection),
the elapsed time and the size of each per-chat cache (read from private attributes, for
this report only); at the end, the curve and how much RSS grew after ``--warm-up`` chats.
Bounded caches show as a flat line once they are full. Prints figures only; nothing here is
a test.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import resource
import tempfile
import time
from pathlib import Path

from factbot.app import build_bot
from factbot.core import FactBot
from factbot.messages import IncomingMessage
from factbot.settings import Settings
from factbot.storage.sqlite import SqliteStore

TEXTS = ("/hallyu", "how many koreans live in malaysia")
MIB = 1024 * 1024


def rss_mib() -> float:
    """The resident set size now (Linux /proc), else the peak so far (resource)."""
    try:
        with open("/proc/self/statm") as statm:
            pages = int(statm.read().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / MIB
    except OSError:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
        return peak / 1024


def cache_sizes(bot: FactBot, store: SqliteStore) -> str:
    """Entries in each per-chat cache and buffer (read for the report, never changed)."""
    sizes: dict[str, object] = {
        "store chats": f"{store.cached_chats}/{store.chat_cache}",
        "store writes pending": store.pending,
        "bot _last_pack": f"{len(bot._last_pack)}/{bot._last_pack.maxsize}",
        "bot decisions": f"{len(bot.catalogue.decisions)}/{bot.catalogue.decisions.maxsize}",
    }
    if bot.limiter is not None:
        windows = bot.limiter._windows
        sizes["cooldown windows"] = f"{len(windows)}/{windows.maxsize}"
    return ", ".join(f"{name} {value}" for name, value in sizes.items())


async def run(chats: int, every: int, path: Path,
              groups: bool = False) -> list[tuple[int, float, float]]:
    """Drive ``chats`` distinct chats; return (chats, RSS MiB, seconds) at each checkpoint."""
    curve: list[tuple[int, float, float]] = []
    async with SqliteStore(path) as store:
        bot = build_bot(Settings(), store, cooldown=groups)
        gc.collect()
        start = time.perf_counter()
        curve.append((0, rss_mib(), 0.0))
        print(f"{0:>9} chats  {curve[0][1]:7.1f} MiB  {0.0:7.1f} s  ({cache_sizes(bot, store)})",
              flush=True)
        for n in range(1, chats + 1):
            chat_id = str(n)
            for text in TEXTS:
                # A group message that mentions the bot is answered, as a private one is.
                reply = await bot.handle(IncomingMessage(text=text, platform="telegram",
                                                         chat_id=chat_id, user_id=chat_id,
                                                         is_group=groups, addressed=True))
                assert reply is not None, text
            if n % every == 0 or n == chats:
                gc.collect()
                point = (n, rss_mib(), time.perf_counter() - start)
                curve.append(point)
                print(f"{n:>9} chats  {point[1]:7.1f} MiB  {point[2]:7.1f} s  "
                      f"({cache_sizes(bot, store)})", flush=True)
    return curve


def report(curve: list[tuple[int, float, float]], warm_up: int) -> None:
    print("\n| chats | RSS MiB | seconds |\n|---:|---:|---:|")
    for n, rss, elapsed in curve:
        print(f"| {n:,} | {rss:.1f} | {elapsed:.0f} |")
    warm = next((p for p in curve if p[0] >= warm_up), curve[-1])
    end = curve[-1]
    peak = max(rss for n, rss, _ in curve if n >= warm[0])
    grown = end[1] - warm[1]
    per = grown * 1024 * 1000 / max(end[0] - warm[0], 1)
    print(f"\nafter warm-up ({warm[0]:,} chats, {warm[1]:.1f} MiB) to the end ({end[0]:,} chats, "
          f"{end[1]:.1f} MiB): {grown:+.1f} MiB ({per:+.1f} KiB per 1,000 chats); "
          f"highest after warm-up {peak:.1f} MiB; {end[0] / max(end[2], 1e-9):,.0f} chats/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chats", type=int, default=1_000_000)
    parser.add_argument("--every", type=int, default=50_000, help="print a point every N chats")
    parser.add_argument("--warm-up", type=int, default=200_000,
                        help="growth is measured from the first point at or after this")
    parser.add_argument("--groups", action="store_true",
                        help="group chats with the cooldown on (its windows are measured too)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        curve = asyncio.run(run(args.chats, max(args.every, 1), Path(tmp) / "memory.db",
                                args.groups))
    report(curve, min(args.warm_up, args.chats))


if __name__ == "__main__":
    main()
