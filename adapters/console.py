"""The console adapter: a read-reply loop on stdin and stdout, no tokens, no network."""

from __future__ import annotations

import asyncio
import sys
from typing import TextIO

from bot.core import FactBot
from bot.messages import IncomingMessage, Reply

PROMPT = "you> "


class ConsoleAdapter:
    """Reads a line, prints the reply; ends cleanly at end of input."""

    name = "console"

    def __init__(self, bot: FactBot, *, stdin: TextIO | None = None,
                 stdout: TextIO | None = None, chat_id: str = "console") -> None:
        self.bot = bot
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
        loop = asyncio.get_running_loop()
        while True:
            if self.interactive:
                self.stdout.write(PROMPT)
                self.stdout.flush()
            line = await loop.run_in_executor(None, self.stdin.readline)
            if not line:
                break
            text = line.rstrip("\n")
            if not text.strip():
                continue
            message = IncomingMessage(text=text, platform="console", chat_id=self.chat_id,
                                      user_id="console")
            reply = await self.bot.handle(message, self)
            if reply is not None:
                await self.send(self.chat_id, reply)
