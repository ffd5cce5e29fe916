"""The console adapter: a read-reply loop on stdin and stdout, no tokens, no network."""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import io
import os
import sys
import threading
from collections.abc import AsyncIterator, Callable
from typing import TextIO, TypeVar

from factbot.core import FactBot
from factbot.messages import IncomingMessage, Reply

PROMPT = "you> "
T = TypeVar("T")


class ConsoleAdapter:
    """Reads a line, prints the reply; ends cleanly at end of input."""

    name = "console"

    def __init__(self, bot: FactBot, *, stdin: TextIO | None = None,
                 stdout: TextIO | None = None, chat_id: str = "console",
                 language: str | None = None) -> None:
        self.bot = bot
        self.language = language  # the reader's, as a platform's app language would be
        self.stdin = stdin or sys.stdin
        self.stdout = stdout or sys.stdout
        self.chat_id = chat_id
        self.interactive = self.stdin.isatty()

    async def is_admin(self, message: IncomingMessage) -> bool:
        """The person at the console owns it."""
        return True

    async def send(self, chat_id: str, reply: Reply) -> None:
        """Print an unprompted message, such as the daily fact."""
        self.stdout.write(f"{reply.text}\n\n")
        self.stdout.flush()

    async def run(self) -> None:
        if self.interactive:
            self.stdout.write("factbot: ask me anything about the news, /topics to browse, "
                              "Ctrl-D to quit.\n")
        # The daily fact prints here too, between prompts.
        daily = asyncio.create_task(self.bot.daily.loop(self), name="console daily")
        try:
            await self._loop()
        finally:
            daily.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await daily

    async def _loop(self) -> None:
        while True:
            if self.interactive:
                self.stdout.write(PROMPT)
                self.stdout.flush()
            line = await read_line(self.stdin)
            if not line:
                break
            text = line.rstrip("\r\n")
            if not text.strip():
                continue
            message = IncomingMessage(text=text, platform="console", chat_id=self.chat_id,
                                      user_id="console", language=self.language)
            reply = await self.bot.handle(message, self)
            if reply is not None:
                await self.send(self.chat_id, reply)


async def in_daemon_thread(read: Callable[[], T]) -> T:
    """Run a blocking read without blocking the loop.

    A daemon thread rather than the default executor: asyncio.run joins the
    executor on exit, so a read blocked on a terminal would stop SIGTERM from
    ending the process.
    """
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()

    def deliver(result: T | BaseException) -> None:
        if not future.done():
            if isinstance(result, BaseException):
                future.set_exception(result)
            else:
                future.set_result(result)

    def work() -> None:
        try:
            result: T | BaseException = read()
        except Exception as exc:  # handed to the awaiting coroutine, which raises it
            result = exc
        with contextlib.suppress(RuntimeError):  # the loop closed while we were blocked
            loop.call_soon_threadsafe(deliver, result)

    threading.Thread(target=work, name="console stdin", daemon=True).start()
    return await future


async def read_line(stream: TextIO) -> str:
    """Read one line; "" at end of input."""
    return await in_daemon_thread(stream.readline)


async def read_lines(stream: TextIO) -> AsyncIterator[str]:
    """Every line of a batch input, read in large blocks: one thread hop per 64 KiB."""
    try:
        fd = stream.fileno()
    except (AttributeError, OSError, io.UnsupportedOperation):
        while line := await read_line(stream):  # an in-memory stream
            yield line
        return
    decoder = codecs.getincrementaldecoder(stream.encoding or "utf-8")("replace")
    pending = ""
    while block := await in_daemon_thread(lambda: os.read(fd, 1 << 16)):
        pending += decoder.decode(block)
        *lines, pending = pending.split("\n")
        for line in lines:
            yield line + "\n"
    pending += decoder.decode(b"", final=True)
    if pending:
        yield pending
