"""Telegram throughput, latency and memory: factbot against a bare python-telegram-bot echo bot.

Run: .venv/bin/python bench/telegram_bench.py          (about two minutes; --quick for a smoke run)

The fake Bot API (tests/fakes/telegram_api.py) runs in its own process, so the bot
under test has a core to itself; all timestamps are taken by the fake:
- updates/s: a backlog of N text updates, from the first update handed out by
  getUpdates to the last sendMessage received;
- latency: one update at a time, from getUpdates handing it out to its
  sendMessage arriving (p50 and p99);
- each figure at 0 ms and 10 ms of added delay per API call, bots alternating
  within one run (the machine is shared and noisy: compare ratios, not absolutes);
- peak RSS (VmHWM) of a real `factbot run telegram` process after a backlog.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402 - after the path set-up above

from tests.fakes.telegram_api import FakeBotAPI  # noqa: E402

TOKEN = "424242:BENCH-token"
TEXTS = ["/hallyu", "how many Koreans live in Malaysia?", "tell me about k-pop",
         "/partnership", "/topics", "what did the ambassador say about trade?"]


# --- the fake, in a child process -------------------------------------------------

def serve_fake(port: int) -> None:
    async def main() -> None:
        api = FakeBotAPI(TOKEN, port=port, control=True)
        await api.start()
        stop = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        print("ready", flush=True)
        await stop.wait()
        await api.close()

    asyncio.run(main())


class FakeControl:
    """Drives the fake in the other process over its /_fake routes."""

    def __init__(self, session: aiohttp.ClientSession, port: int) -> None:
        self.session = session
        self.root = f"http://127.0.0.1:{port}"
        self.base_url = f"{self.root}/bot"
        self.builder = FakeBotAPI(TOKEN)  # only to build update payloads
        self.chat = 1_000_000

    async def reset(self) -> None:
        async with self.session.post(f"{self.root}/_fake/reset") as response:
            response.raise_for_status()

    async def push(self, count: int, delay: float) -> dict[int, int]:
        """Queue ``count`` updates, each from a new private chat; returns update_id -> chat."""
        chats = list(range(self.chat, self.chat + count))
        self.chat += count
        updates = [self.builder.message(TEXTS[c % len(TEXTS)], chat_id=c, user_id=c)
                   for c in chats]
        async with self.session.post(f"{self.root}/_fake/push",
                                     json={"updates": updates, "delay": delay}) as response:
            ids: list[int] = await response.json()
        return dict(zip(ids, chats, strict=True))

    async def wait(self, count: int) -> None:
        url = f"{self.root}/_fake/wait?method=sendMessage&count={count}"
        async with self.session.get(url, timeout=aiohttp.ClientTimeout(total=300)) as response:
            response.raise_for_status()

    async def timings(self) -> tuple[dict[int, float], dict[int, float]]:
        async with self.session.get(f"{self.root}/_fake/timings") as response:
            body = await response.json()
        delivered = {int(k): float(v) for k, v in body["delivered"].items()}
        sends = {int(chat): float(at) for chat, at in body["sends"]}
        return delivered, sends


# --- the bots ---------------------------------------------------------------------

@dataclass(frozen=True)
class Config:
    label: str
    kind: str  # "factbot" or "bare"
    concurrency: int  # 1: sequential
    pool: int | None  # None: the library default (256) for bare, ours for factbot


async def make_app(config: Config, base_url: str) -> Any:
    if config.kind == "factbot":
        from factbot.adapters.telegram import build_application
        from factbot.app import build_bot
        from factbot.settings import Settings

        app, _ = build_application(build_bot(Settings(), cooldown=False), TOKEN,
                                   base_url=base_url, concurrent_updates=config.concurrency,
                                   pool_size=config.pool)
        return app
    from telegram import Update
    from telegram.ext import Application, ContextTypes, MessageHandler, filters

    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None and update.message.text is not None
        await context.bot.send_message(update.message.chat.id, update.message.text)

    builder = Application.builder().token(TOKEN).base_url(base_url)
    if config.concurrency > 1:
        builder = builder.concurrent_updates(config.concurrency)
    if config.pool:
        builder = builder.connection_pool_size(config.pool)
    app = builder.build()
    app.add_handler(MessageHandler(filters.TEXT, echo))
    return app


@dataclass
class Result:
    rate: float
    latencies: list[float]
    cpu: float  # bot-process CPU seconds per update: steadier than wall time on a busy box


async def measure(fake: FakeControl, config: Config, delay: float, backlog: int,
                  samples: int) -> Result:
    app = await make_app(config, fake.base_url)
    await app.initialize()
    await app.updater.start_polling()
    await app.start()
    try:
        await fake.reset()
        cpu = time.process_time()
        owners = await fake.push(backlog, delay)
        await fake.wait(backlog)
        cpu = time.process_time() - cpu
        delivered, sends = await fake.timings()
        elapsed = max(sends.values()) - min(delivered[u] for u in owners)
        rate = backlog / elapsed
        one_by_one: dict[int, int] = {}
        for i in range(samples):
            one_by_one.update(await fake.push(1, delay))
            await fake.wait(backlog + i + 1)
        delivered, sends = await fake.timings()
        latencies = [sends[chat] - delivered[update] for update, chat in one_by_one.items()]
        return Result(rate, latencies, cpu / backlog)
    finally:
        await app.updater.stop()
        await app.stop()
        await app.shutdown()


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


@dataclass
class Summary:
    rate: float  # median updates/s
    ratio: float  # median of per-round rate / baseline's rate in the same round
    cpu: float  # median bot CPU seconds per update
    latencies: list[float]


async def compare(fake: FakeControl, configs: list[Config], delay: float, backlog: int,
                  samples: int, rounds: int) -> dict[str, Summary]:
    """Configs alternate within each round; the first config is the baseline."""
    runs: dict[str, list[Result]] = {c.label: [] for c in configs}
    for round_no in range(rounds):
        order = configs if round_no % 2 == 0 else list(reversed(configs))
        for config in order:
            runs[config.label].append(await measure(fake, config, delay, backlog, samples))
    base = runs[configs[0].label]
    return {label: Summary(
        rate=statistics.median(r.rate for r in results),
        ratio=statistics.median(r.rate / b.rate for r, b in zip(results, base, strict=True)),
        cpu=statistics.median(r.cpu for r in results),
        latencies=[x for r in results for x in r.latencies]) for label, results in runs.items()}


def table(title: str, results: dict[str, Summary]) -> None:
    print(f"\n{title}")
    print(f"  {'bot':<48} {'updates/s':>9} {'vs 1st':>7} {'CPU ms/upd':>10} "
          f"{'p50 ms':>7} {'p99 ms':>7}")
    for label, s in results.items():
        print(f"  {label:<48} {s.rate:9.0f} {s.ratio:7.0%} {s.cpu * 1000:10.2f} "
              f"{pct(s.latencies, 0.5) * 1000:7.1f} {pct(s.latencies, 0.99) * 1000:7.1f}")


# --- peak RSS of the real command ----------------------------------------------------

async def factbot_rss(fake: FakeControl, backlog: int) -> None:
    exe = shutil.which("factbot", path=str(Path(sys.executable).parent))
    command = [exe] if exe else [sys.executable, "-c",
                                 "import sys; from factbot.cli import main; sys.exit(main())"]
    with tempfile.TemporaryDirectory() as tmp:
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("TELEGRAM_", "DISCORD_", "FACTBOT_"))}
        env.update(TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_API_BASE_URL=fake.base_url,
                   FACTBOT_DB=str(Path(tmp) / "bench.db"), FACTBOT_LOG_LEVEL="WARNING")
        await fake.reset()
        started = time.perf_counter()
        proc = subprocess.Popen([*command, "run", "telegram"], cwd=ROOT, env=env)
        try:
            owners = await fake.push(backlog, 0.0)
            await fake.wait(backlog)
            answered = time.perf_counter() - started
            status = Path(f"/proc/{proc.pid}/status").read_text()
            fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
            peak_mb = int(fields["VmHWM"].split()[0]) / 1024
            now_mb = int(fields["VmRSS"].split()[0]) / 1024
            stopping = time.perf_counter()
            proc.send_signal(signal.SIGTERM)
            code = await asyncio.to_thread(proc.wait, 30)
            stopped = time.perf_counter() - stopping
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    print(f"\n`factbot run telegram` ({' '.join(command[:1])}): {len(owners)} updates answered "
          f"{answered:.1f} s after launch")
    print(f"  peak RSS (VmHWM) {peak_mb:.1f} MB, RSS now {now_mb:.1f} MB (target <= 80 MB); "
          f"SIGTERM -> exit {code} in {stopped:.2f} s")


async def main_async(args: argparse.Namespace) -> None:
    port = args.port
    fake_proc = subprocess.Popen([sys.executable, __file__, "--serve-fake", str(port)],
                                 stdout=subprocess.PIPE, text=True)
    try:
        assert fake_proc.stdout is not None
        await asyncio.to_thread(fake_proc.stdout.readline)
        async with aiohttp.ClientSession() as session:
            fake = FakeControl(session, port)
            ours = Config("factbot (8 concurrent, pool 16: shipped)", "factbot", 8, None)
            bare_same = Config("bare PTB echo (8 concurrent, pool 16)", "bare", 8, 16)
            bare_default = Config("bare PTB echo (library defaults: sequential)", "bare", 1,
                                  None)
            for delay, backlog in ((0.0, args.backlog), (0.010, args.backlog // 2)):
                results = await compare(fake, [bare_same, ours, bare_default], delay, backlog,
                                        args.samples, args.rounds)
                table(f"factbot vs bare echo, {delay * 1000:.0f} ms fake delay, backlog "
                      f"{backlog}, {args.rounds} rounds (medians)", results)
            sweep = [
                Config("factbot 8 concurrent, pool 16 (shipped)", "factbot", 8, None),
                Config("factbot sequential (concurrent_updates=False)", "factbot", 1, None),
                Config("factbot 8 concurrent, pool 256", "factbot", 8, 256),
                Config("factbot 32 concurrent, pool 64", "factbot", 32, None),
                Config("factbot concurrent_updates=True (256), pool 256", "factbot", 256,
                       256),
            ]
            for delay, backlog in ((0.0, args.backlog), (0.010, args.backlog // 2)):
                results = await compare(fake, sweep, delay, backlog, args.samples // 2,
                                        args.sweep_rounds)
                table(f"factbot concurrency sweep, {delay * 1000:.0f} ms fake delay, backlog "
                      f"{backlog}, {args.sweep_rounds} rounds", results)
            await factbot_rss(fake, args.backlog)
    finally:
        fake_proc.terminate()
        fake_proc.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--serve-fake", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, default=18081, help="port for the fake Bot API")
    parser.add_argument("--backlog", type=int, default=1000, help="updates per throughput run")
    parser.add_argument("--samples", type=int, default=100, help="one-at-a-time latency samples")
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds per comparison")
    parser.add_argument("--sweep-rounds", type=int, default=2, help="rounds of the sweep")
    parser.add_argument("--quick", action="store_true", help="a small smoke run")
    args = parser.parse_args()
    if args.serve_fake:
        serve_fake(args.serve_fake)
        return
    if args.quick:
        args.backlog, args.samples, args.rounds, args.sweep_rounds = 200, 10, 1, 1
    os.environ.setdefault("PTB_TIMEDELTA", "true")
    print(f"python-telegram-bot bench; {os.cpu_count()} CPUs; fake Bot API in its own process")
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
