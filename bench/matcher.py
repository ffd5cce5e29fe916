"""Matcher and console speed: latency, throughput, --jsonl throughput, start-up time and RSS.

Run: .venv/bin/python bench/matcher.py   (or `make bench`)
Prints figures only; nothing here is a test. Compare ratios within one run: the
machine is shared and noisy.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from factbot.app import build_bot  # noqa: E402 - after the path set-up above
from factbot.messages import IncomingMessage  # noqa: E402
from factbot.packs import load_packs  # noqa: E402
from factbot.router import decide  # noqa: E402
from factbot.settings import Settings  # noqa: E402 - after the path set-up above


def eval_texts() -> list[str]:
    texts: list[str] = []
    for path in sorted((ROOT / "tests" / "data").glob("eval_korea_malaysia.jsonl")):
        texts += [json.loads(line)["text"] for line in path.read_text().splitlines() if line]
    return texts


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


BLOCKS = 8


def bench_matcher(repeat: int = 40) -> None:
    packs = load_packs(ROOT / "facts")
    bot = build_bot(Settings(), packs=packs, cooldown=False)
    texts = eval_texts()
    for text in texts:  # warm caches the way a running bot has them
        decide(bot.matcher, text)
    clock = time.perf_counter_ns
    # Blocks of passes: the machine's load comes and goes, so each block gets its own
    # figures and the median block is reported, with the range.
    blocks: list[tuple[float, float, float]] = []
    for _ in range(BLOCKS):
        samples: list[float] = []
        start = clock()
        for _ in range(repeat // BLOCKS):
            for text in texts:
                t0 = clock()
                decide(bot.matcher, text)
                samples.append((clock() - t0) / 1000)
        rate = len(samples) / ((clock() - start) / 1e9)
        blocks.append((rate, percentile(samples, 0.50), percentile(samples, 0.99)))
    blocks.sort()
    rate, p50, p99 = blocks[len(blocks) // 2]
    print(f"matcher (decide) over {len(texts)} eval messages x {repeat}, median of {BLOCKS} "
          f"blocks: p50 {p50:.0f} µs, p99 {p99:.0f} µs, {rate:,.0f} messages/s (one core); "
          f"blocks ranged {blocks[0][0]:,.0f}-{blocks[-1][0]:,.0f} messages/s, "
          f"p99 {min(b[2] for b in blocks):.0f}-{max(b[2] for b in blocks):.0f} µs")

    async def handle_all() -> float:
        t0 = time.perf_counter()
        n = 0
        for _ in range(repeat // 4):
            for i, text in enumerate(texts):
                await bot.handle(IncomingMessage(text=text, chat_id=str(i % 50)))
                n += 1
        return n / (time.perf_counter() - t0)

    print(f"full handle() incl. rendering, in-memory store: {asyncio.run(handle_all()):,.0f} "
          f"messages/s")


# A small parent process starts factbot and reads its peak RSS: a child forked from this
# benchmark, which holds the packs in memory, would report this process's size instead.
_LAUNCHER = """
import json, os, subprocess, sys, time
t0 = time.perf_counter()
proc = subprocess.Popen(sys.argv[1:], stdin=sys.stdin, stdout=subprocess.DEVNULL)
_, _, usage = os.wait4(proc.pid, 0)
print(json.dumps([time.perf_counter() - t0, usage.ru_maxrss / 1024]))
"""


CACHE = Path(tempfile.mkdtemp())  # the pack cache (factbot.packcache) of the warm starts


def measure(args: list[str], stdin: bytes, cache: Path = CACHE) -> tuple[float, float]:
    """Wall seconds and peak RSS in MB of one ``factbot`` run fed ``stdin``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FACTBOT_")}
    env["FACTBOT_DB"] = str(Path(tempfile.mkdtemp()) / "bench.db")
    env["XDG_CACHE_HOME"] = str(cache)
    result = subprocess.run([sys.executable, "-c", _LAUNCHER, sys.executable, "-m", "factbot.cli",
                             *args], input=stdin, capture_output=True, cwd=ROOT, env=env,
                            check=True)
    wall, rss = json.loads(result.stdout)
    return float(wall), float(rss)


def bench_cli() -> None:
    texts = eval_texts()
    lines = "\n".join((texts * (10_000 // len(texts) + 1))[:10_000]) + "\n"
    wall, rss = measure(["ask", "--jsonl"], lines.encode())
    print(f"factbot ask --jsonl, 10,000 lines: {wall:.2f} s, {10_000 / wall:,.0f} lines/s, "
          f"peak RSS {rss:.1f} MB")
    runs: dict[str, list[float]] = {"pass": [], "asyncio": [], "chat": [], "ask": [],
                                    "ask, no cache": []}
    rsses = []
    measure(["ask", "/hallyu"], b"")  # fills the pack cache
    for _ in range(15):  # interleaved: the machine's noise falls on every kind alike
        for name, code in (("pass", "pass"), ("asyncio", "import asyncio")):
            t0 = time.perf_counter()
            subprocess.run([sys.executable, "-c", code], check=True)
            runs[name].append(time.perf_counter() - t0)
        wall, rss = measure(["chat"], b"")
        runs["chat"].append(wall)
        rsses.append(rss)
        runs["ask"].append(measure(["ask", "/hallyu"], b"")[0])
        runs["ask, no cache"].append(measure(["ask", "/hallyu"], b"", Path(tempfile.mkdtemp()))[0])
    ms = {name: statistics.median(times) * 1000 for name, times in runs.items()}
    print(f"start-up, median of 15: bare python {ms['pass']:.0f} ms, python importing asyncio "
          f"{ms['asyncio']:.0f} ms; factbot ask /hallyu {ms['ask']:.0f} ms "
          f"({ms['ask'] / ms['asyncio']:.2f}x asyncio), with no pack cache "
          f"{ms['ask, no cache']:.0f} ms ({ms['ask, no cache'] / ms['asyncio']:.2f}x); "
          f"factbot chat to clean exit on empty input {ms['chat']:.0f} ms "
          f"({ms['chat'] / ms['asyncio']:.2f}x), peak RSS {statistics.median(rsses):.1f} MB")


if __name__ == "__main__":
    bench_matcher()
    bench_cli()
