"""Start-up and shutdown that a stop request (SIGTERM, SIGINT) interrupts in every state.

The platform libraries retry on their own: discord.py a 5xx for 25 s, python-telegram-bot
its bootstrap forever, and aiohttp waits 300 s for a server that never answers. Each step
of a platform's start-up runs through ``unless_stopped``, and each step of its shutdown
that waits on the platform gets ``STOP_GRACE`` seconds, so the bot stops within about two
seconds of the signal whatever the platform is doing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from pathlib import Path
from types import ModuleType
from typing import Any

# Seconds a shutdown step that waits on the platform (closing the gateway, confirming the
# last updates) may take before it is abandoned.
STOP_GRACE = 1.0


async def unless_stopped(work: Awaitable[Any], stop: asyncio.Event) -> bool:
    """Run ``work`` to its end, or cancel it once ``stop`` is set; False when stopped.

    An exception of ``work`` is raised as it is.
    """
    task = asyncio.ensure_future(work)
    stopping = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({task, stopping}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopping.cancel()
        if not task.done():
            task.cancel()
        await asyncio.wait({task, stopping})
    if task.cancelled():
        return False
    task.result()
    return True


def raised_in(exc: BaseException, *packages: ModuleType) -> bool:
    """Whether ``exc`` was raised in the code of one of ``packages``.

    A platform library reading an answer that is not what it asked for fails with a
    ValueError, TypeError or KeyError: raised there, it means "the platform sent garbage";
    raised in factbot's own code, the same error is a bug.
    """
    frame = exc.__traceback__
    while frame is not None and frame.tb_next is not None:
        frame = frame.tb_next
    if frame is None:
        return False
    where = Path(frame.tb_frame.f_code.co_filename).resolve()
    return any(where.is_relative_to(Path(package.__file__).resolve().parent)
               for package in packages if package.__file__)
