"""``factbot run``: open the store once and serve every platform that has a token.

Each platform adapter module exposes ``async def serve(bot, settings, args, stop)``
that runs until ``stop`` is set, then shuts down cleanly. With no platform
named, every adapter whose token is configured runs in this one process and
event loop, sharing the core and the store.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable, Coroutine, Iterator
from typing import TYPE_CHECKING, Any

from factbot.errors import ConfigError
from factbot.settings import Settings

if TYPE_CHECKING:  # the core is imported when a platform runs, not to parse arguments
    from factbot.core import FactBot

log = logging.getLogger(__name__)

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
    """Serve the named platforms until SIGINT or SIGTERM."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
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


async def _run_with_store(settings: Settings, args: argparse.Namespace,
                          names: list[str]) -> None:
    from factbot.app import build_bot
    from factbot.packs import load_packs
    from factbot.storage import make_store

    packs = load_packs(settings.facts)  # before the database: a broken pack is one line
    async with make_store(getattr(args, "db", None), settings) as store:
        bot = build_bot(settings, store, packs=packs)
        bot.facts_dir = settings.facts
        await run_platforms(bot, settings, args, names)


def run_main(args: argparse.Namespace, settings: Settings) -> int:
    names = platforms_to_run(settings, args.platform)
    asyncio.run(_run_with_store(settings, args, names))
    return 0
