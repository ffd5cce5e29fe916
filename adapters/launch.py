"""``factbot run``: open the store once and serve every platform that has a token.

Each platform adapter module exposes ``async def serve(bot, settings, args, stop)``
that runs until ``stop`` is set, then shuts down cleanly. With no platform
named, every adapter whose token is configured runs in this one process and
event loop, sharing the core and the store.

With ``metrics: HOST:PORT`` (or FACTBOT_METRICS), a small HTTP server in the same event
loop answers ``/healthz``, ``/readyz`` and ``/metrics`` (docs/operating.md, "Monitoring").
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import errno
import logging
import platform
import signal
import socket
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from factbot.errors import ConfigError, UnreachableError
from factbot.settings import Settings

if TYPE_CHECKING:  # the core is imported when a platform runs, not to parse arguments
    from aiohttp import web

    from factbot.core import FactBot
    from factbot.metrics import Metrics
    from factbot.packs import FactPack

log = logging.getLogger(__name__)

PING_TIMEOUT = 2.0  # seconds /readyz and a scrape wait for the database to answer

Serve = Callable[["FactBot", Settings, argparse.Namespace, asyncio.Event],
                 Coroutine[Any, Any, None]]


def _server(platform: str) -> Serve:
    if platform == "telegram":
        from factbot.adapters.telegram import serve as telegram_serve

        return telegram_serve
    from factbot.adapters.discord import serve as discord_serve

    return discord_serve


def platforms_to_run(settings: Settings, requested: str | None) -> list[str]:
    tokens = {"telegram": settings.telegram.token, "discord": settings.discord.token}
    env = {"telegram": "TELEGRAM_BOT_TOKEN", "discord": "DISCORD_BOT_TOKEN"}
    if requested:
        if not tokens[requested]:
            raise ConfigError(f"{env[requested]} is not set (nor {requested}.token in the "
                              f"config file): the {requested} bot needs its token")
        return [requested]
    chosen = [name for name, token in tokens.items() if token]
    if not chosen:
        raise ConfigError("no platform token: set TELEGRAM_BOT_TOKEN or DISCORD_BOT_TOKEN "
                          "(or use `factbot chat` for the console)")
    return chosen


@contextlib.contextmanager
def reload_on_sighup(bot: FactBot) -> Iterator[set[asyncio.Task[Any]]]:
    """While inside, SIGHUP reloads the packs (``bot.reload()``); yields pending reloads."""
    loop = asyncio.get_running_loop()
    pending: set[asyncio.Task[Any]] = set()
    hup = getattr(signal, "SIGHUP", None)  # absent on Windows

    def on_hup() -> None:
        log.info("SIGHUP: reloading the fact packs")
        task = loop.create_task(bot.reload(), name="reload")
        pending.add(task)  # keep a reference until it is done
        task.add_done_callback(pending.discard)

    if hup is not None:
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(hup, on_hup)
    try:
        yield pending
    finally:
        if hup is not None:
            with contextlib.suppress(NotImplementedError):
                loop.remove_signal_handler(hup)


async def run_platforms(bot: FactBot, settings: Settings, args: argparse.Namespace,
                        names: list[str]) -> None:
    """Serve the named platforms until SIGINT or SIGTERM.

    Either stops them cleanly; after SIGINT (Ctrl-C) KeyboardInterrupt is raised once they
    have, for the command line's status 130, where SIGTERM's is 0.
    """
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    received: list[int] = []

    def on_signal(sig: int) -> None:
        received.append(sig)
        stop.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, on_signal, sig)
    tasks = [asyncio.create_task(_server(name)(bot, settings, args, stop), name=name)
             for name in names]
    try:
        with reload_on_sighup(bot):
            await asyncio.gather(*tasks)
    finally:
        stop.set()
        # One platform failing (a bad token) must still let the others shut down cleanly.
        await asyncio.gather(*tasks, return_exceptions=True)
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.remove_signal_handler(sig)
    if signal.SIGINT in received:
        raise KeyboardInterrupt  # after the clean stop: the store still flushes on the way out


# --- /healthz, /readyz, /metrics ---------------------------------------------------


def metrics_address(value: str) -> tuple[str, int]:
    """The ``metrics`` setting as (host, port); a ConfigError unless it is HOST:PORT."""
    host, sep, port = value.strip().rpartition(":")
    host = host.strip("[]")  # [::1]:9108
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(f"metrics {value!r} is not HOST:PORT, e.g. 127.0.0.1:9108 (the "
                          f"metrics key of the config file, or FACTBOT_METRICS)")
    return host, int(port)


def _bind_error(exc: OSError, host: str, port: int) -> Exception:
    """The one-line error for a metrics address factbot cannot listen on."""
    where = f"metrics {host}:{port}"
    if exc.errno == errno.EADDRINUSE:
        # 75, not 2: the port is taken now, most often by a factbot still stopping (a
        # restart) or a neighbour that goes away; a service manager should try again.
        return UnreachableError(f"{where}: the port is in use (by another factbot?); "
                                f"try again when it is free, or choose another port")
    if exc.errno == errno.EACCES:
        return ConfigError(f"{where}: not allowed to listen there (a port below 1024 needs "
                           f"privileges)")
    if isinstance(exc, socket.gaierror) or exc.errno == errno.EADDRNOTAVAIL:
        return ConfigError(f"{where}: no such address on this machine")
    return ConfigError(f"{where}: cannot listen there ({exc.strerror or exc})")


class Monitor:
    """The endpoint's answers: alive, ready (packs, database, platforms), the metrics."""

    def __init__(self, bot: FactBot, metrics: Metrics) -> None:
        from prometheus_client.aiohttp import make_aiohttp_handler

        self.bot = bot
        self.metrics = metrics
        self.url = ""  # where it listens, once it does
        self._expose = make_aiohttp_handler(metrics.registry)

    async def readiness(self) -> tuple[bool, list[str]]:
        """Whether the bot is ready, and one line per part saying how it is."""
        lines: list[str] = []
        packs = self.bot.packs
        ready = bool(packs)
        topics = sum(len(p.topics) for p in packs)
        lines.append(f"packs: ok ({len(packs)} pack{'s' * (len(packs) != 1)}, {topics} "
                     f"topics)" if packs else "packs: none loaded")
        problem = await self._database()
        ready = ready and problem is None
        lines.append(f"database: {problem or 'ok'}")
        for name, connected in self.metrics.connection.items():
            ready = ready and connected
            lines.append(f"{name}: {'connected' if connected else 'not connected'}")
        return ready, ["ready" if ready else "not ready", *lines]

    async def _database(self) -> str | None:
        """None if the store answers now, else what is wrong; sets factbot_database_up."""
        problem = None
        try:
            await asyncio.wait_for(self.bot.store.ping(), PING_TIMEOUT)
        except TimeoutError:
            problem = f"no answer within {PING_TIMEOUT:g} s"
        except Exception as exc:  # the store's StorageError, or any fault: not ready
            problem = " ".join(str(exc).split()) or type(exc).__name__
        self.metrics.database_up.set(0 if problem else 1)
        return problem

    async def healthz(self, request: web.Request) -> web.Response:
        """Alive: the event loop answers."""
        from aiohttp import web

        return web.Response(text="ok\n")

    async def readyz(self, request: web.Request) -> web.Response:
        """200 when every part is ready, else 503; the body names each part's state."""
        from aiohttp import web

        ready, lines = await self.readiness()
        return web.Response(status=200 if ready else 503, text="\n".join(lines) + "\n")

    async def scrape(self, request: web.Request) -> web.StreamResponse:
        """The metrics in Prometheus' text format (or OpenMetrics, if the scraper asks)."""
        await self._database()  # factbot_database_up as of this scrape
        return await self._expose(request)


@contextlib.asynccontextmanager
async def monitoring(bot: FactBot, address: tuple[str, int], platforms: Sequence[str]
                     ) -> AsyncIterator[Monitor]:
    """Instrument ``bot`` and serve /healthz, /readyz and /metrics at ``address`` while inside.

    ``platforms`` are those /readyz waits for. Port 0 takes a free port (the tests).
    """
    from aiohttp import web

    from factbot import __version__
    from factbot.metrics import Metrics

    metrics = Metrics(platforms, __version__)
    bot.instrument(metrics)
    monitor = Monitor(bot, metrics)
    app = web.Application()
    app.router.add_get("/healthz", monitor.healthz)
    app.router.add_get("/readyz", monitor.readyz)
    app.router.add_get("/metrics", monitor.scrape)
    # No access log: a scrape every few seconds is no news.
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    try:
        host, port = address
        try:
            await web.TCPSite(runner, host, port).start()
        except OSError as exc:
            raise _bind_error(exc, host, port) from None
        bound = runner.addresses[0]
        shown = f"[{bound[0]}]" if ":" in str(bound[0]) else bound[0]
        monitor.url = f"http://{shown}:{bound[1]}"
        log.info("metrics: /healthz, /readyz and /metrics at %s", monitor.url)
        yield monitor
    finally:
        await runner.cleanup()


# --- running ---------------------------------------------------------------------------


def _describe_packs(packs: Sequence[FactPack]) -> str:
    return "; ".join(f"{p.name} ({len(p.topics)} topics: "
                     f"{', '.join(t.command for t in p.topics)}; "
                     f"{sum(len(t.facts) for t in p.topics)} facts)" for p in packs)


async def _run_with_store(settings: Settings, args: argparse.Namespace,
                          names: list[str], address: tuple[str, int] | None = None) -> None:
    from factbot import __version__
    from factbot.app import build_bot
    from factbot.packs import load_packs
    from factbot.storage import db_location, describe_location, make_store

    # One line each, for whoever reads the log after a restart: what runs, on what.
    log.info("factbot %s starting (Python %s)", __version__, platform.python_version())
    packs = load_packs(settings.facts)  # before the database: a broken pack is one line
    log.info("packs from %s: %s", settings.facts, _describe_packs(packs))
    where = db_location(getattr(args, "db", None), settings)  # a SQLite file or a URL
    async with make_store(where, settings, exclusive=True) as store:  # one bot per SQLite file
        log.info("database %s", describe_location(where))
        bot = build_bot(settings, store, packs=packs)
        bot.facts_dir = settings.facts
        log.info("platforms: %s", ", ".join(names))
        async with contextlib.AsyncExitStack() as stack:
            if address is not None:
                await stack.enter_async_context(monitoring(bot, address, names))
            await run_platforms(bot, settings, args, names)


def run_main(args: argparse.Namespace, settings: Settings) -> int:
    names = platforms_to_run(settings, args.platform)
    # Checked before anything loads or connects: a typo is one line at once.
    address = metrics_address(settings.metrics) if settings.metrics else None
    asyncio.run(_run_with_store(settings, args, names, address))
    return 0
