"""Cooldowns: a sliding one-minute limit per person and per chat, and /cooldown to set it."""

from __future__ import annotations

import logging
import time as _time
from collections import deque
from collections.abc import Callable, Mapping
from enum import Enum

from factbot.commands import Access, Context, Menu, Option, command
from factbot.i18n import ENGLISH_STRINGS, Strings
from factbot.lru import LRU
from factbot.messages import IncomingMessage, Reply
from factbot.render import render_info
from factbot.settings import CooldownSettings
from factbot.storage.base import BaseStore, ChatSettings

log = logging.getLogger(__name__)

MAX_PER_MINUTE = 1000


class Verdict(Enum):
    ANSWER = "answer"
    SLOW_DOWN = "slow_down"  # first message over the limit: say so once
    QUIET = "quiet"  # still over the limit: say nothing
    SHARED = "shared"  # under this process's limits: the shared count decides (Cooldowns.confirm)


# Windows kept: people and chats heard from most recently. Whoever floods stays recent;
# a window pushed out is one quiet for longer than this many others spoke, and starts
# over, so under that much traffic a quiet sender may get one minute's limit anew.
COOLDOWN_WINDOWS = 20_000


class _Window:
    __slots__ = ("hits", "warned")

    def __init__(self) -> None:
        self.hits: deque[float] = deque()
        self.warned = False  # told to slow down since the last answer


class CooldownLimiter:
    """Sliding one-minute limits per user in a chat and per chat.

    Only answered messages count, so a flood that is being ignored does not
    prolong its own silence. A limit of 0 means no limit. Private chats are not
    limited: there the only person a flood reaches is the one sending it.
    """

    def __init__(self, settings: CooldownSettings, *,
                 clock: Callable[[], float] = _time.monotonic, window: float = 60.0,
                 size: int = COOLDOWN_WINDOWS) -> None:
        self.settings = settings
        self.clock = clock
        self.window = window
        self._windows: LRU[tuple[str, ...], _Window] = LRU(size)

    def limits(self, chat: ChatSettings | None) -> tuple[int, int]:
        """This chat's (per user, per chat) limits: its own, or the bot-wide ones."""
        user_limit = self.settings.user_per_minute
        chat_limit = self.settings.chat_per_minute
        if chat is not None:
            user_limit = chat.user_per_minute if chat.user_per_minute is not None else user_limit
            chat_limit = chat.chat_per_minute if chat.chat_per_minute is not None else chat_limit
        return user_limit, chat_limit

    def check(self, message: IncomingMessage, chat: ChatSettings | None = None, *,
              count: bool = True) -> Verdict:
        """The verdict of this process's windows; ``count`` False: an ANSWER not yet counted
        (the caller asks the shared count first, then calls ``count`` or ``refuse``)."""
        if not self.settings.enabled or not message.is_group:
            return Verdict.ANSWER
        now = self.clock()
        user_limit, chat_limit = self.limits(chat)
        windows = [(self._recent(key, now), limit)
                   for key, limit in ((self._user_key(message), user_limit),
                                      ((message.platform, message.chat_id), chat_limit))]
        for window, limit in windows:
            if limit and len(window.hits) >= limit:
                if window.warned:
                    return Verdict.QUIET
                window.warned = True
                return Verdict.SLOW_DOWN
        if count:
            for window, _ in windows:
                window.hits.append(now)
                window.warned = False
        return Verdict.ANSWER

    def count(self, message: IncomingMessage) -> None:
        """Count an answer that ``check(..., count=False)`` allowed and the shared count too."""
        now = self.clock()
        for key in (self._user_key(message), (message.platform, message.chat_id)):
            window = self._recent(key, now)
            window.hits.append(now)
            window.warned = False

    def refuse(self, message: IncomingMessage) -> Verdict:
        """The shared count said no: slow down once (in this process), then quiet."""
        window = self._recent(self._user_key(message), self.clock())
        if window.warned:
            return Verdict.QUIET
        window.warned = True
        return Verdict.SLOW_DOWN

    @staticmethod
    def _user_key(message: IncomingMessage) -> tuple[str, ...]:
        return (message.platform, message.chat_id, message.user_id)

    def _recent(self, key: tuple[str, ...], now: float) -> _Window:
        window = self._windows.get(key)
        if window is None:
            window = self._windows[key] = _Window()
        hits = window.hits
        while hits and hits[0] <= now - self.window:
            hits.popleft()
        return window


def parse_cooldown(args: str) -> tuple[int | None, int | None] | str | None:
    """"" to show; "off"/"default" as is; or the two limits (None keeps the default).

    Returns None when the arguments are malformed.
    """
    words = args.split()
    if not words:
        return ""
    if len(words) == 1 and words[0].casefold() in ("off", "default"):
        return words[0].casefold()
    if len(words) > 2 or not all(w.isdigit() and int(w) <= MAX_PER_MINUTE for w in words):
        return None
    user = int(words[0])
    chat = int(words[1]) if len(words) == 2 else None
    return user, chat


def _menu_arguments(values: Mapping[str, object]) -> str:
    """A menu's options as /cooldown's arguments: PER_USER [PER_CHAT], or default."""
    if values.get("reset"):
        return "default"
    per_user, per_chat = values.get("per_user"), values.get("per_chat")
    if per_user is None:
        # The command's form is PER_USER [PER_CHAT]: a per_chat alone gets the usage line,
        # not the setting shown back as if it had been changed.
        return "" if per_chat is None else f"per_user? {per_chat}"
    return " ".join(str(n) for n in (per_user, per_chat) if n is not None)


class Cooldowns:
    """Who is answered how often: the limiter the core asks, and /cooldown per chat."""

    def __init__(self, store: BaseStore, settings: CooldownSettings | None) -> None:
        self.store = store
        # None: no cooldown at all (tests, `factbot ask`).
        self.limiter = CooldownLimiter(settings) if settings is not None else None

    def check(self, message: IncomingMessage, chat: ChatSettings) -> Verdict:
        """This process's verdict; SHARED: under its limits, ``confirm`` decides."""
        limiter = self.limiter
        if limiter is None:
            return Verdict.ANSWER
        if not self.store.shares_cooldowns:
            return limiter.check(message, chat)
        verdict = limiter.check(message, chat, count=False)
        if verdict is Verdict.ANSWER and message.is_group and limiter.settings.enabled \
                and any(limiter.limits(chat)):
            return Verdict.SHARED
        if verdict is Verdict.ANSWER:
            limiter.count(message)  # private, off or no limit: nothing to share
        return verdict

    async def confirm(self, message: IncomingMessage, chat: ChatSettings) -> Verdict:
        """Count the answer in the store all processes share, if it is under the limits there.

        The tolerance across processes is the store's (PostgresStore: SHARED_TOLERANCE, the
        other processes' answers heard within a sync interval); while the store cannot be
        reached, each process limits on its own.
        """
        limiter = self.limiter
        assert limiter is not None  # check() said SHARED
        user_limit, chat_limit = limiter.limits(chat)
        allowed = await self.store.count_cooldown(
            message.platform, message.chat_id, message.user_id, user_limit, chat_limit,
            limiter.window)
        if allowed is False:
            return limiter.refuse(message)
        limiter.count(message)
        return Verdict.ANSWER

    def describe(self, settings: ChatSettings, t: Strings = ENGLISH_STRINGS) -> str:
        defaults = self.limiter.settings if self.limiter is not None else None
        if defaults is None or not defaults.enabled:
            return t("cooldown.none")
        user = settings.user_per_minute if settings.user_per_minute is not None \
            else defaults.user_per_minute
        chat = settings.chat_per_minute if settings.chat_per_minute is not None \
            else defaults.chat_per_minute

        return t("cooldown.here",
                 per_user=t("cooldown.user_limit", count=user) if user else t("cooldown.user_free"),
                 per_chat=t("cooldown.chat_limit", count=chat) if chat else t("cooldown.chat_free"))

    @command("cooldown", "Admins: answers a minute per person and per chat",
             changes=Access.ADMIN, changes_with_args=True, menu=Menu.ADMINS, private=True,
             options=(Option("per_user", "Answers a minute per person (0: no limit)",
                             kind="int", high=MAX_PER_MINUTE),
                      Option("per_chat", "Answers a minute in this channel (0: no limit)",
                             kind="int", high=MAX_PER_MINUTE),
                      Option("reset", "Go back to the bot's defaults", kind="bool")),
             compose=_menu_arguments)
    async def configure(self, ctx: Context, args: str) -> Reply:
        """Show this chat's cooldown, or let an admin change it."""
        request = parse_cooldown(args)
        if request is None:
            return render_info(ctx.t("cooldown.usage"), ctx.t)
        try:
            if request == "":
                return render_info(self.describe(await self.store.chat_settings(ctx.chat), ctx.t),
                                   ctx.t)
            if request == "off":
                user, per_chat = 0, 0
            elif request == "default":
                user, per_chat = None, None
            else:
                assert isinstance(request, tuple)
                current = await self.store.chat_settings(ctx.chat)
                user = request[0]
                per_chat = request[1] if request[1] is not None else current.chat_per_minute
            settings = await self.store.set_cooldown(ctx.chat, user, per_chat)
        except Exception as exc:  # the store logs its own failures with the traceback, once
            log.warning("could not save the cooldown: %r", exc)
            return render_info(ctx.t("not_saved"), ctx.t)
        return render_info(self.describe(settings, ctx.t), ctx.t)
