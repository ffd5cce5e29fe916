"""Discord adapter speed: factbot vs a bare discord.py client on the same fake, same run.

Run: .venv/bin/python bench/discord_bench.py [--count 600] [--rounds 3] [--concurrency 32]

(Not bench/discord.py: a script of that name would shadow the discord package,
for Python and for mypy alike.)

The fake Discord (tests/fakes/discord_api.py) runs in this process. Two client
processes connect to it: ``factbot run discord`` and a bare discord.py Client
whose CommandTree answers every command with a fixed string. Rounds alternate
between them. Figures: interactions per second with ``--concurrency`` in flight,
and INTERACTION_CREATE -> callback latency (p50, p99) one at a time, both
measured by the fake; peak RSS (VmHWM) of each process. Prints figures only.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.fakes.discord_api import USER_ID, FakeDiscord  # noqa: E402 - after the path set-up

BARE_TOKEN = "bare-bench-token.SECRET"
SHAPED_TOKEN = "shaped-bench-token.SECRET"
FACTBOT_TOKEN = "factbot-bench-token.SECRET"
QUESTIONS = ("why is the korean wave so popular in malaysia?",
             "how many koreans live in malaysia",
             "what is the strategic partnership about")


# --- the bare client (run in its own process with --bare) ---------------------------------


def run_bare(shaped: bool) -> None:
    """A minimal discord.py bot: the same commands, a fixed answer, nothing else.

    ``shaped``: answer with a fixed embed and button of the size factbot sends, to
    tell the cost of the bigger payload from the cost of factbot's own work.
    """
    import discord
    import yarl
    from discord import app_commands

    discord.http.Route.BASE = os.environ["DISCORD_API_BASE_URL"]
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(os.environ["DISCORD_GATEWAY_URL"])
    intents = discord.Intents.none()
    intents.guilds = True
    client = discord.Client(intents=intents)
    tree = app_commands.CommandTree(client)

    embed = discord.Embed(colour=0x2B6CB0, description="“" + "A fixed quote of a fact. " * 8 + "”")
    embed.set_author(name="— Lee Chi-beom, South Korea's ambassador to Malaysia")
    embed.set_footer(text="Source: Bernama, Kuala Lumpur, Oct 2")

    async def respond(interaction: discord.Interaction) -> None:
        if not shaped:
            await interaction.response.send_message("A fixed answer.")
            return
        view = discord.ui.View(timeout=None)
        view.add_item(discord.ui.Button(label="Another fact", custom_id="bench:next"))
        await interaction.response.send_message(embed=embed, view=view)

    @tree.command(name="hallyu", description="fixed")
    async def hallyu(interaction: discord.Interaction) -> None:
        await respond(interaction)

    @tree.command(name="ask", description="fixed")
    async def ask(interaction: discord.Interaction, question: str) -> None:
        await respond(interaction)

    async def main() -> None:
        stop = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        async with client:
            await client.login(os.environ["DISCORD_BOT_TOKEN"])
            connect = asyncio.create_task(client.connect())
            await stop.wait()
            await client.close()
            await connect

    asyncio.run(main())


# --- measuring ----------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


Build = Callable[[int], dict[str, Any]]


async def burst(fake: FakeDiscord, token: str, build: Build, count: int,
                concurrency: int) -> float:
    """Send ``count`` interactions, ``concurrency`` in flight; return interactions/s."""
    gate = asyncio.Semaphore(concurrency)

    async def one(i: int) -> None:
        async with gate:
            waiter = await fake.send_interaction(build(i), token)
            await asyncio.wait_for(waiter, 60)

    start = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(count)))
    return count / (time.perf_counter() - start)


async def latencies(fake: FakeDiscord, token: str, build: Build, count: int) -> list[float]:
    """INTERACTION_CREATE sent -> callback received, one at a time, in milliseconds."""
    out: list[float] = []
    for i in range(count):
        payload = build(i)
        callback = await fake.interact(payload, token, timeout=60)
        out.append((callback.received - fake.sent_at[payload["id"]]) * 1000)
    return out


async def start_client(fake: FakeDiscord, argv: list[str], token: str, tmp: Path
                       ) -> asyncio.subprocess.Process:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "TELEGRAM_"))}
    config = tmp / "factbot.yaml"
    # Many users in a burst would hit the per-user cooldown; measure answering instead.
    config.write_text("cooldown:\n  enabled: false\nlog_level: WARNING\n", encoding="utf-8")
    env.update(DISCORD_BOT_TOKEN=token, DISCORD_API_BASE_URL=fake.api_base_url,
               DISCORD_GATEWAY_URL=fake.gateway_url, FACTBOT_DB=str(tmp / "factbot.db"),
               FACTBOT_CONFIG=str(config))
    process = await asyncio.create_subprocess_exec(
        *argv, cwd=ROOT, env=env, stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE)
    await asyncio.wait_for(fake.wait_ready(token), 60)
    return process


async def stop_client(process: asyncio.subprocess.Process) -> str:
    process.send_signal(signal.SIGTERM)
    try:
        _, err = await asyncio.wait_for(process.communicate(), 30)
    except TimeoutError:
        process.kill()
        _, err = await process.communicate()
    return err.decode(errors="replace")


async def bench(args: argparse.Namespace) -> None:
    async with FakeDiscord(token=FACTBOT_TOKEN, extra_tokens=(BARE_TOKEN, SHAPED_TOKEN)
                           ) as fake:
        with tempfile.TemporaryDirectory() as tmp_name:
            tmp = Path(tmp_name)
            (tmp / "factbot").mkdir()
            (tmp / "bare").mkdir()
            (tmp / "embed").mkdir()
            clients = {
                "factbot": await start_client(
                    fake, [sys.executable, "-m", "factbot.cli", "run", "discord"], FACTBOT_TOKEN,
                    tmp / "factbot"),
                "bare": await start_client(
                    fake, [sys.executable, str(Path(__file__).resolve()), "--bare"], BARE_TOKEN,
                    tmp / "bare"),
                "embed": await start_client(
                    fake, [sys.executable, str(Path(__file__).resolve()), "--bare-embed"],
                    SHAPED_TOKEN, tmp / "embed"),
            }
            tokens = {"factbot": FACTBOT_TOKEN, "bare": BARE_TOKEN, "embed": SHAPED_TOKEN}
            mixes: dict[str, Build] = {
                "/hallyu": lambda i: fake.slash("hallyu", user_id=USER_ID + i),
                "/ask": lambda i: fake.slash("ask", {"question": QUESTIONS[i % len(QUESTIONS)]},
                                             user_id=USER_ID + i),
            }
            try:
                for name in clients:  # warm-up: caches, first sync, JIT-free but lazy imports
                    await burst(fake, tokens[name], mixes["/hallyu"], 50, 8)
                    await burst(fake, tokens[name], mixes["/ask"], 50, 8)
                rates: dict[tuple[str, str], list[float]] = {}
                cpu: dict[tuple[str, str], float] = {}
                fake_cpu: dict[tuple[str, str], float] = {}
                lats: dict[tuple[str, str], list[float]] = {}
                for _ in range(args.rounds):
                    for mix, build in mixes.items():
                        for name in clients:
                            before = cpu_seconds(clients[name].pid)
                            mine = time.process_time()
                            rates.setdefault((name, mix), []).append(await burst(
                                fake, tokens[name], build, args.count, args.concurrency))
                            cpu[(name, mix)] = cpu.get((name, mix), 0.0) + (
                                cpu_seconds(clients[name].pid) - before)
                            fake_cpu[(name, mix)] = fake_cpu.get((name, mix), 0.0) + (
                                time.process_time() - mine)
                            lats.setdefault((name, mix), []).extend(await latencies(
                                fake, tokens[name], build, args.latency_count))
                rss = {name: peak_rss_mb(p.pid) for name, p in clients.items()}
            finally:
                errors = {name: await stop_client(p) for name, p in clients.items()}
    print(f"discord.py bench: {args.rounds} rounds x {args.count} interactions, "
          f"{args.concurrency} in flight; latency one at a time, "
          f"{args.rounds * args.latency_count} samples")
    print(f"{'client':<8} {'command':<8} {'interactions/s':>15} {'p50 ms':>8} {'p99 ms':>8} "
          f"{'CPU us/int':>11} {'fake CPU us/int':>16}")
    for mix in mixes:
        for name in clients:
            rate = statistics.median(rates[(name, mix)])
            samples = lats[(name, mix)]
            total = args.rounds * args.count
            per = cpu[(name, mix)] / total * 1e6
            fake_per = fake_cpu[(name, mix)] / total * 1e6
            print(f"{name:<8} {mix:<8} {rate:>15.0f} {percentile(samples, 0.5):>8.2f} "
                  f"{percentile(samples, 0.99):>8.2f} {per:>11.0f} {fake_per:>16.0f}")
        ratio = statistics.median(rates[("factbot", mix)]) / statistics.median(
            rates[("bare", mix)])
        shaped = statistics.median(rates[("factbot", mix)]) / statistics.median(
            rates[("embed", mix)])
        print(f"factbot/bare throughput on {mix}: {ratio:.0%} (target >= 90%); "
              f"factbot/embed: {shaped:.0%}")
    print(f"peak RSS: factbot run discord {rss['factbot']:.1f} MB (target <= 80 MB), "
          f"bare client {rss['bare']:.1f} MB")
    print("bare: fixed string; embed: bare client sending a fixed embed + button like factbot's")
    for name, err in errors.items():
        if "Traceback" in err:
            print(f"{name} stderr:\n{err[-2000:]}", file=sys.stderr)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bare", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--bare-embed", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--count", type=int, default=600, help="interactions per burst")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--latency-count", type=int, default=100,
                        help="sequential latency samples per round")
    args = parser.parse_args()
    if args.bare or args.bare_embed:
        run_bare(shaped=args.bare_embed)
    else:
        asyncio.run(bench(args))


if __name__ == "__main__":
    main()
