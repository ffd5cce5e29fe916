"""Community features every adapter gets: cooldown, /daily, /stats, the daily scheduler.

The core calls ``handle_daily``, ``handle_stats`` and ``handle_topics_admin``
from its router; adapters start ``daily_loop`` next to their own event loop
and cancel it on shutdown.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import logging
import re
import time as _time
import zoneinfo
from collections import deque
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, time, timedelta
from enum import Enum
from typing import TYPE_CHECKING

from factbot.messages import IncomingMessage, Reply
from factbot.render import render_fact, render_info
from factbot.settings import CooldownSettings
from factbot.storage.base import ChatKey, ChatSettings

if TYPE_CHECKING:  # core imports this module; the types only matter to mypy
    from factbot.core import FactBot, Platform

log = logging.getLogger(__name__)

DAILY_USAGE = ("Usage: /daily on [HH:MM] [Area/City] or /daily off, "
               "e.g. /daily on 08:30 Asia/Kuala_Lumpur")
DAILY_TOPIC = "daily"  # rotation key for the daily fact; a built-in, so never a topic name
NOT_ADMIN = "Only this group's admins can change that."
NOT_SAVED = "I couldn't save that just now; please try again in a minute."
_TIME = re.compile(r"^(\d{1,2})(?::(\d{2}))?$")
_ZONE = re.compile(r"^[A-Za-z0-9_+\-]+(?:/[A-Za-z0-9_+\-]+){0,2}$")


# --- cooldown --------------------------------------------------------------------------


class Verdict(Enum):
    ANSWER = "answer"
    SLOW_DOWN = "slow_down"  # first message over the limit: say so once
    QUIET = "quiet"  # still over the limit: say nothing


class CooldownLimiter:
    """Sliding one-minute limits per user in a chat and per chat.

    Only answered messages count, so a flood that is being ignored does not
    prolong its own silence. A limit of 0 means no limit. Private chats are not
    limited: there the only person a flood reaches is the one sending it.
    """

    def __init__(self, settings: CooldownSettings, *,
                 clock: Callable[[], float] = _time.monotonic, window: float = 60.0) -> None:
        self.settings = settings
        self.clock = clock
        self.window = window
        self._hits: dict[tuple[str, ...], deque[float]] = {}
        self._warned: set[tuple[str, ...]] = set()
        self._checks = 0

    def check(self, message: IncomingMessage, chat: ChatSettings | None = None) -> Verdict:
        if not self.settings.enabled or not message.is_group:
            return Verdict.ANSWER
        now = self.clock()
        self._checks += 1
        if self._checks % 1024 == 0:
            self._sweep(now)
        user_limit = self.settings.user_per_minute
        chat_limit = self.settings.chat_per_minute
        if chat is not None:
            user_limit = chat.user_per_minute if chat.user_per_minute is not None else user_limit
            chat_limit = chat.chat_per_minute if chat.chat_per_minute is not None else chat_limit
        chat_key = (message.platform, message.chat_id)
        user_key = (message.platform, message.chat_id, message.user_id)
        for key, limit in ((user_key, user_limit), (chat_key, chat_limit)):
            hits = self._recent(key, now)
            if limit and len(hits) >= limit:
                if key in self._warned:
                    return Verdict.QUIET
                self._warned.add(key)
                return Verdict.SLOW_DOWN
        for key in (user_key, chat_key):
            self._hits.setdefault(key, deque()).append(now)
            self._warned.discard(key)
        return Verdict.ANSWER

    def _recent(self, key: tuple[str, ...], now: float) -> deque[float]:
        hits = self._hits.get(key)
        if hits is None:
            return deque()
        while hits and hits[0] <= now - self.window:
            hits.popleft()
        return hits

    def _sweep(self, now: float) -> None:
        """Forget people who have been quiet for a window, so memory stays bounded."""
        for key in [k for k, hits in self._hits.items() if not self._recent(k, now)]:
            del self._hits[key]
            self._warned.discard(key)


# --- /daily -------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class DailyRequest:
    enabled: bool | None  # None: show the current setting
    at: time | None = None
    tz: str | None = None


@functools.lru_cache(maxsize=1)
def _zones() -> dict[str, str]:
    return {name.casefold(): name for name in zoneinfo.available_timezones()}


def parse_zone(text: str) -> str | None:
    """The canonical IANA name for ``text`` (any case), or None if it is not a time zone."""
    if len(text) > 64 or not _ZONE.match(text):
        return None
    name = _zones().get(text.casefold())
    if name is None:
        return None
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return None
    return name


def parse_daily(args: str) -> DailyRequest | None:
    """Parse ``on [HH:MM] [TZ]`` / ``off`` / nothing; None when malformed."""
    words = args.split()
    if not words:
        return DailyRequest(None)
    action, rest = words[0].casefold(), words[1:]
    if action == "off":
        return DailyRequest(False) if not rest else None
    if action != "on" or len(rest) > 2:
        return None
    at: time | None = None
    tz: str | None = None
    for word in rest:
        match = _TIME.match(word)
        if match and at is None:
            hour, minute = int(match.group(1)), int(match.group(2) or 0)
            if hour > 23 or minute > 59:
                return None
            at = time(hour, minute)
        elif tz is None and (zone := parse_zone(word)) is not None:
            tz = zone
        else:
            return None
    return DailyRequest(True, at, tz)


async def is_admin(message: IncomingMessage, platform: Platform | None) -> bool:
    """Group admins may change settings; in a private chat, the person in it."""
    if not message.is_group:
        return True
    if platform is None:
        return False
    try:
        return await platform.is_admin(message)
    except Exception:
        log.exception("%s: could not check whether the sender is an admin", message.platform)
        return False


def describe_daily(settings: ChatSettings) -> str:
    if not settings.daily:
        return f"The daily fact is off here. {DAILY_USAGE}"
    return (f"Daily fact: on, every day at {settings.daily_time:%H:%M} ({settings.tz}). "
            "Send /daily off to stop it.")


async def handle_daily(bot: FactBot, message: IncomingMessage, args: str,
                       platform: Platform | None) -> Reply:
    """Turn this chat's daily fact on or off, or say how it is set."""
    request = parse_daily(args)
    if request is None:
        return render_info(DAILY_USAGE)
    chat = ChatKey(message.platform, message.chat_id)
    try:
        if request.enabled is None:
            return render_info(describe_daily(await bot.store.chat_settings(chat)))
        if not await is_admin(message, platform):
            return render_info(NOT_ADMIN)
        # The first post is the next HH:MM from now, not one straight away.
        settings = await bot.store.set_daily(chat, request.enabled, request.at, request.tz,
                                             since=datetime.now(UTC) if request.enabled
                                             else None)
    except Exception as exc:  # the store logs its own failures with the traceback, once
        log.warning("could not save the daily setting: %r", exc)
        return render_info(NOT_SAVED)
    return render_info(describe_daily(settings) if request.enabled
                       else "The daily fact is off here. Send /daily on to start it again.")


COOLDOWN_USAGE = ("Usage: /cooldown [PER_USER [PER_CHAT]] answers a minute, /cooldown off "
                  "or /cooldown default, e.g. /cooldown 4 15")
MAX_PER_MINUTE = 1000


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


def describe_cooldown(bot: FactBot, settings: ChatSettings) -> str:
    defaults = bot.limiter.settings if bot.limiter is not None else None
    if defaults is None or not defaults.enabled:
        return "There is no cooldown on this bot."
    user = settings.user_per_minute if settings.user_per_minute is not None \
        else defaults.user_per_minute
    chat = settings.chat_per_minute if settings.chat_per_minute is not None \
        else defaults.chat_per_minute
    def limit(n: int, who: str) -> str:
        return f"{n} answers a minute {who}" if n else f"no limit {who}"
    return f"Cooldown here: {limit(user, 'per person')}, {limit(chat, 'for the chat')}."


async def handle_cooldown(bot: FactBot, message: IncomingMessage, args: str,
                          platform: Platform | None) -> Reply:
    """Show this chat's cooldown, or let an admin change it."""
    request = parse_cooldown(args)
    if request is None:
        return render_info(COOLDOWN_USAGE)
    chat = ChatKey(message.platform, message.chat_id)
    try:
        if request == "":
            return render_info(describe_cooldown(bot, await bot.store.chat_settings(chat)))
        if not await is_admin(message, platform):
            return render_info(NOT_ADMIN)
        if request == "off":
            user, per_chat = 0, 0
        elif request == "default":
            user, per_chat = None, None
        else:
            assert isinstance(request, tuple)
            current = await bot.store.chat_settings(chat)
            user = request[0]
            per_chat = request[1] if request[1] is not None else current.chat_per_minute
        settings = await bot.store.set_cooldown(chat, user, per_chat)
    except Exception as exc:  # the store logs its own failures with the traceback, once
        log.warning("could not save the cooldown: %r", exc)
        return render_info(NOT_SAVED)
    return render_info(describe_cooldown(bot, settings))


async def handle_stats(bot: FactBot, message: IncomingMessage, platform: Platform | None
                       ) -> Reply:
    """Admins: the most asked topics and how many questions went unanswered."""
    if not await is_admin(message, platform):
        return render_info(NOT_ADMIN)
    try:
        top = await bot.store.top_topics(5)
        unmatched = await bot.store.unmatched_total()
    except Exception as exc:
        log.warning("could not read the statistics: %r", exc)
        return render_info("Statistics are not available just now.")
    lines = ["Most asked topics:"] if top else ["No topic has been asked yet."]
    lines += [f"/{t.topic} — {t.count}" for t in top]
    lines.append(f"Unanswered questions kept: {unmatched}"
                 + (" (`factbot stats` lists them)" if unmatched else ""))
    return render_info("\n".join(lines))


async def handle_topics_admin(bot: FactBot, message: IncomingMessage, args: str,
                              platform: Platform | None) -> Reply | None:
    """``/topics off NAME`` / ``/topics on NAME``; None when the arguments are not that."""
    words = args.split()
    if len(words) != 2 or words[0].casefold() not in ("on", "off"):
        return None
    pack = next((p for p in bot.packs if p.name == words[1].casefold()
                 and bot.topic(words[1].casefold()) is None), None)
    if pack is not None:
        return await _pack_enabled(bot, message, pack.name, [t.command for t in pack.topics],
                                   words[0].casefold() == "on", platform)
    found = bot.matcher.resolve_command(words[1].lstrip("/"))
    if found is None or found[0].topic is None or found[1] < 1.0:
        return render_info("Usage: /topics off TOPIC or /topics on TOPIC, with a topic "
                           "from /topics.")
    if not await is_admin(message, platform):
        return render_info(NOT_ADMIN)
    command = found[0].topic.command
    enabled = words[0].casefold() == "on"
    try:
        await bot.store.set_topic_enabled(ChatKey(message.platform, message.chat_id), command,
                                          enabled)
    except Exception as exc:
        log.warning("could not save a topic setting: %r", exc)
        return render_info(NOT_SAVED)
    return render_info(f"/{command} is {'on' if enabled else 'off'} in this chat.")


async def _pack_enabled(bot: FactBot, message: IncomingMessage, name: str, commands: list[str],
                        enabled: bool, platform: Platform | None) -> Reply:
    """``/topics off PACK``: every topic of one pack, on or off in this chat."""
    if not await is_admin(message, platform):
        return render_info(NOT_ADMIN)
    chat = ChatKey(message.platform, message.chat_id)
    try:
        for command in commands:
            await bot.store.set_topic_enabled(chat, command, enabled)
    except Exception:
        log.exception("could not save a pack setting")
        return render_info(NOT_SAVED)
    return render_info(f"The {name} pack ({len(commands)} topics) is "
                       f"{'on' if enabled else 'off'} in this chat.")


# --- the daily fact ------------------------------------------------------------------------


class SendThrottle:
    """Space unprompted sends: at most ``per_chat`` a minute per chat, ``overall`` a second.

    The defaults keep under Telegram's limits (about 20 a minute in a group,
    30 a second in all).
    """

    def __init__(self, *, per_chat: int = 20, overall: int = 30,
                 clock: Callable[[], float] = _time.monotonic,
                 sleep: Callable[[float], Awaitable[object]] = asyncio.sleep) -> None:
        self.per_chat = per_chat
        self.overall = overall
        self.clock = clock
        self.sleep = sleep
        self._all: deque[float] = deque()
        self._chats: dict[str, deque[float]] = {}

    def _delay(self, chat_id: str, now: float) -> float:
        for hits, window in ((self._all, 1.0), (self._chats.get(chat_id, deque()), 60.0)):
            while hits and hits[0] <= now - window:
                hits.popleft()
        delay = 0.0
        if len(self._all) >= self.overall:
            delay = max(delay, self._all[0] + 1.0 - now)
        chat = self._chats.get(chat_id)
        if chat and len(chat) >= self.per_chat:
            delay = max(delay, chat[0] + 60.0 - now)
        return delay

    async def wait(self, chat_id: str) -> None:
        """Return when one more send to ``chat_id`` stays within the limits, and count it."""
        while (delay := self._delay(chat_id, self.clock())) > 0:
            await self.sleep(delay)
        now = self.clock()
        self._all.append(now)
        self._chats.setdefault(chat_id, deque()).append(now)
        for key in [k for k, hits in self._chats.items() if hits and hits[-1] <= now - 60.0]:
            del self._chats[key]


def due_at(settings: ChatSettings, now: datetime) -> datetime:
    """The latest scheduled time at or before ``now`` (UTC), in the chat's time zone."""
    zone = zoneinfo.ZoneInfo(settings.tz)
    local = now.astimezone(zone)
    slot = datetime.combine(local.date(), settings.daily_time, tzinfo=zone)
    if slot > local:
        slot = datetime.combine(local.date() - timedelta(days=1), settings.daily_time,
                                tzinfo=zone)
    return slot.astimezone(UTC)


def is_due(settings: ChatSettings, now: datetime) -> bool:
    return settings.daily and (settings.last_daily is None
                               or settings.last_daily < due_at(settings, now))


async def daily_reply(bot: FactBot, chat: ChatKey, settings: ChatSettings) -> Reply | None:
    """The chat's next daily fact: topics take turns, skipping those turned off here."""
    choices = []
    for pack in bot.packs:
        for t_no, topic in enumerate(pack.topics):
            if topic.command in settings.disabled:
                continue
            choices += [((f_no, t_no), pack, topic, fact) for f_no, fact in enumerate(topic.facts)]
    if not choices:
        return None
    choices.sort(key=lambda c: c[0])
    index = await bot.store.next_rotation(chat, DAILY_TOPIC, len(choices))
    _, pack, topic, fact = choices[index % len(choices)]
    reply = render_fact(pack, topic, fact)
    return dataclasses.replace(reply, heading="Fact of the day",
                               text=f"Fact of the day:\n{reply.text}")


async def send_due(bot: FactBot, platform: Platform, now: datetime,
                   throttle: SendThrottle) -> int:
    """Send every daily fact due on ``platform`` at ``now``; return how many went out."""
    sent = 0
    for chat_id, settings in await bot.store.daily_chats(platform.name):
        chat = ChatKey(platform.name, chat_id)
        try:
            if not is_due(settings, now):
                continue
            reply = await daily_reply(bot, chat, settings)
            if reply is None:
                continue
            await throttle.wait(chat_id)
            # Stored before sending: after a crash a chat misses one day rather than
            # getting the same fact twice.
            await bot.store.mark_daily_sent(chat, now)
            await platform.send(chat_id, reply)
            sent += 1
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("%s: daily fact for chat %s failed", platform.name, chat_id)
    return sent


async def daily_loop(bot: FactBot, platform: Platform, *,
                     now: Callable[[], datetime] | None = None, tick: float = 30.0,
                     throttle: SendThrottle | None = None) -> None:
    """Post each subscribed chat's daily fact at its hour; run until cancelled."""
    clock = now or (lambda: datetime.now(UTC))
    throttle = throttle or SendThrottle()
    failing = False  # log a failing round once, not every tick (a database that is down)
    while True:
        try:
            await send_due(bot, platform, clock(), throttle)
        except asyncio.CancelledError:
            raise
        except Exception:
            if not failing:
                log.exception("%s: the daily fact round failed; retrying quietly",
                              platform.name)
            failing = True
        else:
            if failing:
                log.info("%s: the daily fact round works again", platform.name)
            failing = False
        await asyncio.sleep(tick)
