"""The daily fact: /daily on [HH:MM] [TZ] | off, and the scheduler that posts it.

Adapters start ``DailyFacts.loop`` next to their own event loop and cancel it on shutdown.
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
from typing import TYPE_CHECKING

from factbot.commands import Access, Context, Menu, Option, command
from factbot.i18n import ENGLISH_STRINGS, Strings, choose, strings
from factbot.messages import Reply
from factbot.render import render_fact, render_info
from factbot.storage.base import LEFT_CHAT_MAX_AGE, BaseStore, ChatKey, ChatSettings
from factbot.storage.base import due_at as due_at  # lives with ChatSettings; named here too

if TYPE_CHECKING:
    from factbot.catalogue import Catalogue
    from factbot.core import Platform
    from factbot.metrics import Metrics

log = logging.getLogger(__name__)

DAILY_BATCH = 10  # chats claimed at a time by one process's daily round
# Daily sends waiting on the platform at once: at a 100 ms round trip, one at a time would
# reach 10 a second; 16 keep a 30-a-second throttle busy up to a round trip of about 0.5 s.
DAILY_IN_FLIGHT = 16
DAILY_TOPIC = "daily"  # rotation key for the daily fact; a built-in, so never a topic name
_TIME = re.compile(r"^(\d{1,2})(?::(\d{2}))?$")
_ZONE = re.compile(r"^[A-Za-z0-9_+\-]+(?:/[A-Za-z0-9_+\-]+){0,2}$")
CLEANUP_EVERY = timedelta(days=1)  # how often the loop deletes the state of chats long left


class ChatGone(Exception):
    """Raised by ``Platform.send``: the chat no longer takes the bot's messages.

    The bot was blocked or removed there. The adapter has logged it (one line) and
    recorded it in the store, which turned the chat's daily fact off.
    """


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


def describe_daily(settings: ChatSettings, t: Strings = ENGLISH_STRINGS) -> str:
    if not settings.daily:
        return t("daily.off", usage=t("daily.usage"))
    return t("daily.on", time=f"{settings.daily_time:%H:%M}", zone=settings.tz)


class SendThrottle:
    """One bot token's sending limits, shared by its replies and its daily round.

    At most ``overall`` sends in any ``window`` (a second, and a little: the platform counts
    them on arrival, after a round trip that varies) and ``per_chat`` a minute in a group.
    Replies go first: a broadcast send (``bulk``) waits while any reply waits for the overall
    limit, and broadcast sends are spaced a ``window / overall`` apart, never in a burst, so
    a reply finds a free slot within one spacing. The defaults keep under Telegram's limits
    (about 30 a second in all, 20 a minute in a group).
    """

    def __init__(self, *, per_chat: int = 20, overall: int = 30, window: float = 1.05,
                 clock: Callable[[], float] = _time.monotonic,
                 sleep: Callable[[float], Awaitable[object]] = asyncio.sleep) -> None:
        self.per_chat = per_chat
        self.overall = overall
        self.window = window
        self.clock = clock
        self.sleep = sleep
        self._all: deque[float] = deque()
        self._chats: dict[str, deque[float]] = {}
        self._pruned_size = 0
        self._next_bulk = float("-inf")
        self._replies = 0  # replies waiting for a slot in the overall limit
        self._no_replies = asyncio.Event()
        self._no_replies.set()

    def _chat_delay(self, chat_id: str, group: bool, now: float) -> float:
        hits = self._chats.get(chat_id) if group else None
        if not hits:
            return 0.0
        while hits and hits[0] <= now - 60.0:
            hits.popleft()
        return hits[0] + 60.0 - now if len(hits) >= self.per_chat else 0.0

    def _delay(self, chat_id: str, group: bool, now: float) -> float:
        hits = self._all
        while hits and hits[0] <= now - self.window:
            hits.popleft()
        delay = hits[0] + self.window - now if len(hits) >= self.overall else 0.0
        return max(delay, self._chat_delay(chat_id, group, now))

    async def wait(self, chat_id: str, *, bulk: bool = True, group: bool = True) -> None:
        """Return when one more send to ``chat_id`` stays within the limits, and count it.

        ``bulk``: a broadcast send, which takes only what replies leave. ``group``: the
        chat has more than one member (the per-chat limit applies).
        """
        if bulk:
            await self._wait_bulk(chat_id, group)
        else:
            await self._wait_reply(chat_id, group)
        now = self.clock()
        self._all.append(now)
        if group:
            self._chats.setdefault(chat_id, deque()).append(now)
            if len(self._chats) > 2 * self._pruned_size + 64:  # amortised: not every send
                for key in [k for k, hits in self._chats.items() if hits[-1] <= now - 60.0]:
                    del self._chats[key]
                self._pruned_size = len(self._chats)

    async def _wait_reply(self, chat_id: str, group: bool) -> None:
        # A group at its own limit holds back only itself, not the broadcast.
        while (delay := self._chat_delay(chat_id, group, self.clock())) > 0:
            await self.sleep(delay)
        self._replies += 1
        self._no_replies.clear()
        try:
            while (delay := self._delay(chat_id, group, self.clock())) > 0:
                await self.sleep(delay)
        finally:
            self._replies -= 1
            if not self._replies:
                self._no_replies.set()

    async def _wait_bulk(self, chat_id: str, group: bool) -> None:
        while True:
            if self._replies:
                await self._no_replies.wait()
                continue
            now = self.clock()
            delay = max(self._delay(chat_id, group, now), self._next_bulk - now)
            if delay <= 0:
                break
            await self.sleep(delay)
        self._next_bulk = self.clock() + self.window / self.overall


class DailyFacts:
    """A chat's daily fact: its setting (/daily) and the loop that posts it when due."""

    def __init__(self, store: BaseStore, catalogue: Callable[[], Catalogue]) -> None:
        self.store = store
        self.catalogue = catalogue
        self.metrics: Metrics | None = None  # sends and failures counted there when set

    @command("daily", "Admins: /daily on [HH:MM] [TZ] or /daily off",
             changes=Access.ADMIN, changes_with_args=True, menu=Menu.ADMINS,
             options=(Option("state", "Turn the daily fact on or off", required=True,
                             choices=("on", "off")),
                      Option("time", "HH:MM, 24-hour clock (on only)"),
                      Option("timezone", "e.g. Asia/Kuala_Lumpur (on only)")))
    async def configure(self, ctx: Context, args: str) -> Reply:
        """Turn this chat's daily fact on or off, or say how it is set."""
        request = parse_daily(args)
        if request is None:
            return render_info(ctx.t("daily.usage"), ctx.t)
        try:
            if request.enabled is None:
                return render_info(describe_daily(await self.store.chat_settings(ctx.chat),
                                                  ctx.t), ctx.t)
            # The first post is the next HH:MM from now, not one straight away.
            settings = await self.store.set_daily(
                ctx.chat, request.enabled, request.at, request.tz,
                since=datetime.now(UTC) if request.enabled else None)
        except Exception as exc:  # the store logs its own failures with the traceback, once
            log.warning("could not save the daily setting: %r", exc)
            return render_info(ctx.t("not_saved"), ctx.t)
        return render_info(describe_daily(settings, ctx.t) if request.enabled
                           else ctx.t("daily.stopped"), ctx.t)

    async def reply(self, chat: ChatKey, settings: ChatSettings) -> Reply | None:
        """The chat's next daily fact: topics take turns, skipping those turned off here."""
        choices = []
        for pack in self.catalogue().packs:
            for t_no, topic in enumerate(pack.topics):
                if topic.command in settings.disabled:
                    continue
                choices += [((f_no, t_no), pack, topic, fact)
                            for f_no, fact in enumerate(topic.facts)]
        if not choices:
            return None
        choices.sort(key=lambda c: c[0])
        index = await self.store.next_rotation(chat, DAILY_TOPIC, len(choices))
        _, pack, topic, fact = choices[index % len(choices)]
        # Nobody asked: the chat's language, else English (factbot.i18n.choose).
        t = strings(choose(None, "", settings.language))
        reply = render_fact(pack, topic, fact, t=t)
        header = t("fact.daily")
        return dataclasses.replace(reply, heading=header.rstrip(":"),
                                   text=f"{header}\n{reply.text}")

    async def send_due(self, platform: Platform, now: datetime, throttle: SendThrottle, *,
                       in_flight: int = DAILY_IN_FLIGHT) -> int:
        """Send every daily fact due on ``platform`` at ``now``; return how many went out.

        Chats are claimed from the store a few at a time: a claimed chat is leased to this
        process (``store.daily_lease``), so that no other process sends it meanwhile, and
        marked sent (``mark_daily_sent``) once its send is done, sent or failed; a process
        that dies leaves its claimed, unsent chats to be claimed again when their leases run
        out. Only a death between a send and its mark can post a chat's fact twice. Small
        batches leave the rest to the other processes. Up to ``in_flight`` sends wait on the
        platform at once, so the rate is the throttle's, not one round trip's.

        ``throttle`` counts each send here, unless it is the platform's own ``throttle``:
        then the platform's send path counts it (with the replies it shares the limit with).
        """
        counted_by_platform = throttle is getattr(platform, "throttle", None)
        sent = 0
        pending: set[asyncio.Task[bool]] = set()
        started = _time.monotonic()

        def collect(done: set[asyncio.Task[bool]]) -> None:
            nonlocal sent
            sent += sum(task.result() for task in done)

        try:
            # A Discord shard group claims only its own guilds' channels (daily_shards).
            shards = getattr(platform, "daily_shards", None)
            while True:
                # ``now`` moved on by the time the round has taken: a lease taken late in a
                # long round still lasts its full length.
                at = now + timedelta(seconds=_time.monotonic() - started)
                batch = await self.store.claim_daily(platform.name, at, limit=DAILY_BATCH,
                                                     shards=shards)
                if not batch:
                    break
                for chat_id, settings in batch:
                    while len(pending) >= max(in_flight, 1):
                        done, pending = await asyncio.wait(
                            pending, return_when=asyncio.FIRST_COMPLETED)
                        collect(done)
                    pending.add(asyncio.create_task(self._send_one(
                        platform, chat_id, settings, None if counted_by_platform else throttle,
                        at)))
            if pending:
                done, pending = await asyncio.wait(pending)
                collect(done)
        except asyncio.CancelledError:
            for task in pending:  # shutting down: stop the sends under way (their chats'
                task.cancel()     # leases run out and another round sends them)
            if pending:
                await asyncio.wait(pending)
            raise
        except BaseException:
            # The store failed mid-round: the chats already claimed are leased to this
            # process: finish their sends rather than leave them waiting for the lease.
            if pending:
                await asyncio.wait(pending)
            raise
        return sent

    async def _send_one(self, platform: Platform, chat_id: str, settings: ChatSettings,
                        throttle: SendThrottle | None, claimed_at: datetime) -> bool:
        chat = ChatKey(platform.name, chat_id)
        sent = False
        try:
            reply = await self.reply(chat, settings)
            if reply is not None:
                if throttle is not None:
                    await throttle.wait(chat_id)
                await platform.send(chat_id, reply)
                sent = True
        except asyncio.CancelledError:
            raise  # not marked: the chat is claimed again when its lease runs out
        except ChatGone:  # logged and unsubscribed by the adapter: no traceback
            if self.metrics is not None:
                self.metrics.daily(platform.name, sent=False)
        except Exception:
            log.exception("%s: daily fact for chat %s failed", platform.name, chat_id)
            if self.metrics is not None:
                self.metrics.daily(platform.name, sent=False)
        else:
            if sent and self.metrics is not None:
                self.metrics.daily(platform.name, sent=True)
        # Done with the chat for this slot, sent or failed (a failed send is not retried
        # until its next slot, as before leases).
        try:  # shielded: a send done is marked even if the round is being cancelled
            await asyncio.shield(self.store.mark_daily_sent(chat, claimed_at))
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the store logs its own failures; the lease runs out
            log.warning("%s: could not mark the daily fact for chat %s sent: %r",
                        platform.name, chat_id, exc)
        return sent

    async def forget_left_chats(self, platform: str, now: datetime) -> int:
        """Delete the state of chats the bot left more than LEFT_CHAT_MAX_AGE before ``now``."""
        try:
            count = await self.store.forget_left_chats(platform, now - LEFT_CHAT_MAX_AGE)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("%s: deleting the settings of chats the bot left failed; trying "
                          "again in a day", platform)
            return 0
        if count:
            log.info("%s: deleted the settings of %d chats the bot left more than %d days ago",
                     platform, count, LEFT_CHAT_MAX_AGE.days)
        return count

    async def loop(self, platform: Platform, *, now: Callable[[], datetime] | None = None,
                   tick: float = 30.0, throttle: SendThrottle | None = None) -> None:
        """Post each subscribed chat's daily fact at its hour; run until cancelled."""
        clock = now or (lambda: datetime.now(UTC))
        # The platform's own throttle where it has one: its replies share the limit.
        throttle = throttle or getattr(platform, "throttle", None) or SendThrottle()
        failing = False  # log a failing round once, not every tick (a database that is down)
        cleaned: datetime | None = None  # when chats long left were last forgotten
        while True:
            current = clock()  # one read a round
            try:
                await self.send_due(platform, current, throttle)
            except asyncio.CancelledError:
                raise
            except Exception:
                if not failing:
                    log.exception("%s: the daily fact round failed; retrying quietly",
                                  platform.name)
                failing = True
                if self.metrics is not None:
                    self.metrics.daily(platform.name, sent=False, stage="round")
            else:
                if failing:
                    log.info("%s: the daily fact round works again", platform.name)
                failing = False
            if cleaned is None or current - cleaned >= CLEANUP_EVERY:  # at start, then daily
                cleaned = current
                await self.forget_left_chats(platform.name, current)
            await asyncio.sleep(tick)
