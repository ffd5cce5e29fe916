"""One test harness over the real core: push a message, read what the bot answered and sent.

Like errbot's ``testbot``: a :class:`Harness` builds the bot through the composition root
(``build_bot``) and is the Platform an adapter would be: it knows who is an admin and
records what the bot posts unprompted (the daily fact). Nothing in the core is replaced.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from factbot.app import build_bot
from factbot.core import FactBot
from factbot.messages import IncomingMessage, Reply
from factbot.packs import FactPack
from factbot.settings import Settings
from factbot.storage import BaseStore, MemoryStore


class Harness:
    """A bot built by ``build_bot``, and the Platform it talks to.

    ``admins``: user ids that count as admins, in any chat. ``fail_sends``: every unprompted
    send is recorded, then fails as with a platform that is down.
    """

    def __init__(self, settings: Settings | None = None, store: BaseStore | None = None, *,
                 packs: Sequence[FactPack] | None = None, cooldown: bool = False,
                 console: bool = False, platform: str = "telegram",
                 admins: Iterable[str] = ()) -> None:
        # A store of our own unless given: build_bot would make one too, but untyped for us.
        self.store = store if store is not None else MemoryStore()
        self.bot: FactBot = build_bot(settings or Settings(), self.store, packs=packs,
                                      cooldown=cooldown, console=console)
        self.name = platform
        self.admins = set(admins)
        self.sent: list[tuple[str, Reply]] = []  # (chat id, reply) of every unprompted send
        self.fail_sends = False

    # --- the Platform protocol --------------------------------------------------------

    async def is_admin(self, message: IncomingMessage) -> bool:
        return message.user_id in self.admins

    async def send(self, chat_id: str, reply: Reply) -> None:
        self.sent.append((chat_id, reply))
        if self.fail_sends:
            raise ConnectionError("platform unavailable")

    # --- driving the bot ----------------------------------------------------------------

    def message(self, text: str, *, chat: str = "c1", user: str = "u1", group: bool = False,
                addressed: bool = True, bot_username: str | None = None,
                language: str | None = None) -> IncomingMessage:
        """What an adapter on this platform would hand the core for ``text``.

        ``language``: the sender's app language as the platform gives it ("ko", "en-US").
        """
        return IncomingMessage(text=text, platform=self.name, chat_id=chat, user_id=user,
                               is_group=group, addressed=addressed, bot_username=bot_username,
                               language=language)

    async def handle(self, message: IncomingMessage, *, admin: bool | None = None
                     ) -> Reply | None:
        """The core's answer to ``message`` (None: it stays quiet).

        ``admin`` True or False makes the sender an admin or not from now on; None leaves
        them as they are.
        """
        if admin is True:
            self.admins.add(message.user_id)
        elif admin is False:
            self.admins.discard(message.user_id)
        return await self.bot.handle(message, self)

    async def push(self, text: str, *, chat: str = "c1", user: str = "u1", group: bool = False,
                   admin: bool | None = None, addressed: bool = True,
                   bot_username: str | None = None, language: str | None = None
                   ) -> Reply | None:
        """Send ``text`` as ``user`` in ``chat``; the reply, or None if the bot stays quiet."""
        message = self.message(text, chat=chat, user=user, group=group, addressed=addressed,
                               bot_username=bot_username, language=language)
        return await self.handle(message, admin=admin)

    async def ask(self, text: str, *, chat: str = "c1", user: str = "u1", group: bool = False,
                  admin: bool | None = None, language: str | None = None) -> Reply:
        """Like :meth:`push`, for a message that must be answered."""
        reply = await self.push(text, chat=chat, user=user, group=group, admin=admin,
                                language=language)
        assert reply is not None, f"no reply to {text!r}"
        return reply
