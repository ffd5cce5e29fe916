"""What metrics cost the core: bench/matcher.py's `full handle()` loop, metrics off and on.

Run: .venv/bin/python bench/metrics.py [--rounds N] [--before REV]
``--before REV`` adds the core as it was at git revision REV (bot/core.py of that commit,
on today's other modules), e.g. the commit before the metrics work, to show that a bot
without metrics runs as fast as one from before them. The kinds take turns, round after
round: the machine's load falls on each alike. Prints figures only; nothing here is a test.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.matcher import eval_texts  # noqa: E402 - after the path set-up above
from factbot.app import build_bot  # noqa: E402
from factbot.messages import IncomingMessage  # noqa: E402
from factbot.packs import FactPack, load_packs  # noqa: E402
from factbot.router import THRESHOLD  # noqa: E402
from factbot.settings import Settings  # noqa: E402
from factbot.storage import MemoryStore  # noqa: E402


def core_at(revision: str) -> Any:
    """bot/core.py as it was at ``revision``, imported beside today's modules."""
    source = subprocess.run(["git", "show", f"{revision}:bot/core.py"], cwd=ROOT, check=True,
                            capture_output=True, text=True).stdout
    path = Path(tempfile.mkdtemp()) / "core_before.py"
    path.write_text(source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location("factbot_core_before", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while being made
    spec.loader.exec_module(module)
    return module


def make(kind: str, packs: tuple[FactPack, ...], before: Any) -> Any:
    if kind == "before":
        return before.FactBot(packs, MemoryStore(), threshold=THRESHOLD)
    bot = build_bot(Settings(), MemoryStore(), packs=packs, cooldown=False)
    if kind == "on":
        from factbot.metrics import Metrics

        bot.instrument(Metrics(["console"]))
    return bot


async def rate(bot: Any, texts: list[str], passes: int) -> float:
    t0 = time.perf_counter()
    n = 0
    for _ in range(passes):
        for i, text in enumerate(texts):
            await bot.handle(IncomingMessage(text=text, chat_id=str(i % 50)))
            n += 1
    return n / (time.perf_counter() - t0)


async def main(rounds: int, revision: str | None) -> None:
    packs = load_packs(ROOT / "facts")
    texts = eval_texts()
    before = core_at(revision) if revision else None
    kinds = (["before"] if before else []) + ["off", "on"]
    bots = {kind: make(kind, packs, before) for kind in kinds}
    for bot in bots.values():
        await rate(bot, texts, 2)  # the decision caches warm, as in a running bot
    rates: dict[str, list[float]] = {kind: [] for kind in kinds}
    for _ in range(rounds):
        for kind, bot in bots.items():
            rates[kind].append(await rate(bot, texts, 10))
    base = "before" if before else "off"
    print(f"full handle() over {len(texts)} eval messages x 10, in-memory store, "
          f"{rounds} rounds:")
    for kind in kinds:
        ratios = [a / b for a, b in zip(rates[kind], rates[base], strict=True)]
        print(f"  {kind:>6}: median {statistics.median(rates[kind]):,.0f} messages/s, best "
              f"{max(rates[kind]):,.0f}; {kind}/{base} per round, median "
              f"{statistics.median(ratios):.3f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=21)
    parser.add_argument("--before", metavar="REV",
                        help="also the core of this git revision, e.g. c93c0cb^")
    options = parser.parse_args()
    asyncio.run(main(options.rounds, options.before))
