"""The storage interface the core depends on."""

from __future__ import annotations

import logging
import re
import zoneinfo
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from types import TracebackType
from typing import Any, Self

from factbot.text import fold

# Unmatched questions are for curators, not an archive: bounded in age and count.
UNMATCHED_MAX_AGE = timedelta(days=90)
UNMATCHED_MAX_ROWS = 10_000
# A chat that blocked or removed the bot keeps its settings this long, in case it adds the
# bot back; after that they are deleted (BaseStore.forget_left_chats).
LEFT_CHAT_MAX_AGE = timedelta(days=90)
DEFAULT_DAILY_TIME = time(9, 0)
DEFAULT_TZ = "UTC"
# How long a claimed chat's daily fact stays its claimer's to send (BaseStore.daily_lease):
# a process that dies before mark_daily_sent leaves the chat to be claimed again after this.
DAILY_LEASE = timedelta(minutes=2)
# A chat's reply language (ChatSettings.language); None there: worked out per message.
LANGUAGES = ("en", "ms", "ko")
# Kept text is cut to this many characters: a quote shown (fact counts, feedback) and a
# question someone said was answered wrongly.
TEXT_MAX = 500
# What happened to a message, counted per UTC day and platform (BaseStore.activity): a fact
# shown, the fallback (no pack matched), a "Not what I asked" vote.
OUTCOMES = ("fact", "fallback", "wrong")
_WORD = re.compile(r"\w+")


@dataclass(frozen=True, slots=True)
class ChatKey:
    platform: str
    chat_id: str


@dataclass(frozen=True, slots=True)
class ChatSettings:
    """One chat's settings; every field has a default so an unknown chat needs no row."""

    daily: bool = False
    daily_time: time = DEFAULT_DAILY_TIME
    tz: str = DEFAULT_TZ
    last_daily: datetime | None = None  # aware, UTC: when the daily fact last went out
    disabled: frozenset[str] = field(default_factory=frozenset)
    user_per_minute: int | None = None  # None: the bot-wide cooldown setting
    chat_per_minute: int | None = None
    left_at: datetime | None = None  # aware, UTC: when the bot was blocked or removed here
    language: str | None = None  # one of LANGUAGES; None: worked out from each message


@dataclass(frozen=True, slots=True)
class TopicCount:
    topic: str
    count: int
    by_platform: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True, slots=True)
class UnmatchedCount:
    text: str  # the most recent wording of the question
    count: int
    last_seen: datetime


@dataclass(frozen=True, slots=True)
class FactCount:
    topic: str
    quote: str
    count: int  # times shown, every platform


@dataclass(frozen=True, slots=True)
class DayCount:
    day: date  # UTC
    platform: str
    outcome: str  # one of OUTCOMES
    count: int


@dataclass(frozen=True, slots=True)
class WrongCount:
    """A fact shown in answer to questions its readers said it did not answer."""

    topic: str
    quote: str
    count: int  # votes
    questions: tuple[str, ...]  # up to 3 distinct questions, the most recent first
    last_seen: datetime


@dataclass(frozen=True, slots=True)
class UnmatchedRow:
    text: str
    at: datetime
    platform: str
    user_hash: str


@dataclass(frozen=True, slots=True)
class FeedbackRow:
    question: str
    topic: str
    quote: str
    at: datetime
    platform: str
    user_hash: str


@dataclass(frozen=True, slots=True)
class EvalRun:
    """One evaluation of a pack's labelled questions (on load or reload)."""

    pack: str
    at: datetime
    questions: int
    top1: float
    rejection: float
    wrong: float
    digest: str  # identifies the pack's content version


# A process's share of Discord's shards: (shard_count, the shard ids it runs).
Shards = tuple[int, frozenset[int]]


def shard_of(guild_id: int | None, shard_count: int) -> int:
    """The Discord shard a guild's events come on; no guild (a DM, or a chat subscribed
    before guilds were recorded): shard 0, whose process also syncs the commands."""
    return 0 if guild_id is None else (guild_id >> 22) % shard_count


def question_key(text: str) -> str:
    """Group unmatched questions that differ only in case, spacing and punctuation."""
    return " ".join(_WORD.findall(fold(text)))


def check_language(language: str | None) -> str | None:
    """``language`` if it is one a chat can choose (or None: automatic); else ValueError."""
    if language is not None and language not in LANGUAGES:
        raise ValueError(f"language {language!r}: not one of {', '.join(LANGUAGES)} "
                         f"(or None: automatic)")
    return language


def utc_day(at: datetime) -> date:
    """The UTC day of an aware time: the day BaseStore.activity counts it in."""
    return at.astimezone(UTC).date()


def due_at(settings: ChatSettings, now: datetime) -> datetime:
    """The latest scheduled time at or before ``now`` (UTC), in the chat's time zone."""
    zone = zoneinfo.ZoneInfo(settings.tz)
    local = now.astimezone(zone)
    slot = datetime.combine(local.date(), settings.daily_time, tzinfo=zone)
    if slot > local:
        slot = datetime.combine(local.date() - timedelta(days=1), settings.daily_time,
                                tzinfo=zone)
    return slot.astimezone(UTC)


def next_slot(daily_time: time, tz: str, after: datetime | None) -> datetime:
    """The first scheduled time strictly after ``after`` (UTC), in the zone ``tz``.

    None (never sent) gives the earliest time there is: due at once, as ``is_due`` says.
    """
    if after is None:
        return datetime.min.replace(tzinfo=UTC)
    zone = zoneinfo.ZoneInfo(tz)
    day = after.astimezone(zone).date()
    # Compared in UTC: aware times in one zone compare by wall clock, wrong across a DST fold.
    for offset in range(-1, 3):
        slot = datetime.combine(day + timedelta(days=offset), daily_time,
                                tzinfo=zone).astimezone(UTC)
        if slot > after:
            return slot
    raise AssertionError("a daily slot falls within any three days")  # pragma: no cover


def next_daily(settings: ChatSettings) -> datetime | None:
    """When the chat's daily fact is next due (UTC; None when off): the stores index it.

    Due at ``now`` exactly when ``next_daily(settings) <= now`` and ``is_due`` agree.
    """
    if not settings.daily:
        return None
    return next_slot(settings.daily_time, settings.tz, settings.last_daily)


def is_due(settings: ChatSettings, now: datetime) -> bool:
    """Whether the chat's daily fact is due at ``now``: on, and not sent since its last slot."""
    return settings.daily and (settings.last_daily is None
                               or settings.last_daily < due_at(settings, now))


# While a database fails, a store holds only this many unanswered questions, the newest.
MAX_PENDING_UNMATCHED = 1_000


class FailureLog:
    """A database store's failure bookkeeping: a failure logged once when it begins, its
    end once, and the unanswered questions it holds while failing capped at the newest.

    The store sets ``_log`` (its module's logger, so records keep its name), ``_where``
    (the file or the redacted URL) and keeps its pending questions in ``_unmatched``.
    """

    _log: logging.Logger
    _unmatched: list[Any]
    _failing = False
    _dropping = 0  # unanswered questions dropped since the database last worked
    dropped_unmatched = 0  # ... in all, since the store opened

    @property
    def _where(self) -> object:
        raise NotImplementedError

    def _failed(self, what: str) -> None:
        if not self._failing:
            self._log.exception("%s: %s failed; carrying on from memory and retrying",
                                self._where, what)
            self._failing = True

    def _recovered(self) -> None:
        if self._failing:
            if self._dropping:
                self._log.warning("%s: storage works again; %d unanswered questions were "
                                  "dropped while it failed", self._where, self._dropping)
            else:
                self._log.info("%s: storage works again", self._where)
            self._failing = False
            self._dropping = 0

    def _cap_unmatched(self) -> None:
        """While the database fails, hold only the newest unanswered questions; count the rest.

        Never while it works: a healthy database takes every question at the next flush.
        """
        excess = len(self._unmatched) - MAX_PENDING_UNMATCHED
        if excess <= 0:
            return
        del self._unmatched[:excess]
        if not self._dropping:
            self._log.warning("%s: the database is failing: holding only the newest %d "
                              "unanswered questions until it works again, dropping older ones",
                              self._where, MAX_PENDING_UNMATCHED)
        self._dropping += excess
        self.dropped_unmatched += excess


class BaseStore(ABC):
    """Async state store. Implementations: MemoryStore (tests), SqliteStore (default).

    Use as ``async with store:`` so that pending writes are flushed on the way out.
    """

    async def open(self) -> None:
        """Acquire resources; a no-op by default."""
        return None  # deliberately a no-op: most stores hold nothing to open or flush

    async def close(self) -> None:
        """Flush and release resources; a no-op by default."""
        return None  # deliberately a no-op: most stores hold nothing to open or flush

    async def flush(self) -> None:
        """Write out anything buffered; a no-op by default."""
        return None  # deliberately a no-op: most stores hold nothing to open or flush

    async def ping(self) -> None:
        """Raise StorageError unless the store can be used now (``/readyz``).

        A no-op by default: a store in memory is always there.
        """
        return None  # deliberately a no-op: nothing to reach

    async def __aenter__(self) -> Self:
        await self.open()
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        await self.close()

    @abstractmethod
    async def user_salt(self) -> str:
        """A random salt for hashing user ids, kept with the data it protects."""

    # --- rotation, usage, unmatched ----------------------------------------------

    @abstractmethod
    async def next_rotation(self, chat: ChatKey, topic: str, count: int) -> int:
        """Return the index of the fact to show now and advance the chat's position."""

    @abstractmethod
    async def record_usage(self, platform: str, topic: str, quote: str = "",
                           at: datetime | None = None) -> None:
        """Count one answer on ``topic``: per topic, per fact shown (``quote``, cut to
        TEXT_MAX; "" counts no fact) and as a "fact" outcome of ``at``'s UTC day (default:
        now). Buffered in the database stores, like every count."""

    @abstractmethod
    async def record_unmatched(self, platform: str, text: str, user_hash: str,
                               at: datetime | None = None) -> None:
        """Keep a question the packs could not answer, for curators; counts a "fallback"
        outcome of ``at``'s UTC day (default: now)."""

    @abstractmethod
    async def top_topics(self, limit: int = 10) -> list[TopicCount]:
        """The most answered topics, with a per-platform breakdown."""

    @abstractmethod
    async def unmatched_total(self) -> int:
        """How many unanswered questions are kept."""

    @abstractmethod
    async def top_unmatched(self, limit: int = 10) -> list[UnmatchedCount]:
        """The most frequent kept unanswered questions, most frequent first."""

    @abstractmethod
    async def top_facts(self, limit: int = 10) -> list[FactCount]:
        """The most shown facts (every platform), most shown first; ties by topic, quote."""

    @abstractmethod
    async def activity(self, since: date) -> list[DayCount]:
        """Outcomes counted per UTC day and platform, for days from ``since`` on; sorted by
        day, platform, outcome. Only counts that happened are listed (no zero rows)."""

    @abstractmethod
    async def unmatched_questions(self, since: datetime,
                                  limit: int = 5000) -> list[UnmatchedRow]:
        """Kept unanswered questions asked at or after ``since``, newest first."""

    # --- "Not what I asked" feedback ------------------------------------------------------

    @abstractmethod
    async def record_feedback(self, platform: str, chat_id: str, reply_key: str,
                              user_hash: str, question: str, topic: str, quote: str,
                              at: datetime | None = None) -> bool:
        """Record that ``user_hash`` found the reply ``reply_key`` (showing ``quote`` of
        ``topic``, asked as ``question``) not what they asked: True when recorded, False when
        they had voted on that reply already (one vote per user and reply, across every
        process sharing the database). A recorded vote counts a "wrong" outcome of ``at``'s
        UTC day (default: now). Question and quote are cut to TEXT_MAX.

        Written at once, not buffered: while the database fails this raises StorageError
        and nothing is kept; the caller decides what to tell the user.
        Votes are pruned like unanswered questions (age and row limits).
        """

    @abstractmethod
    async def wrong_total(self) -> int:
        """How many kept feedback votes there are."""

    @abstractmethod
    async def wrong_answers(self, limit: int = 10) -> list[WrongCount]:
        """Kept votes grouped by the fact shown, most votes first (then the most recent,
        then by topic, quote)."""

    @abstractmethod
    async def feedback_rows(self, since: datetime, limit: int = 5000) -> list[FeedbackRow]:
        """Kept votes made at or after ``since``, newest first."""

    # --- accuracy history ------------------------------------------------------------------

    @abstractmethod
    async def record_eval(self, run: EvalRun) -> None:
        """Keep one evaluation of a pack. Written at once: while the database fails this
        raises StorageError and the run is not kept."""

    @abstractmethod
    async def eval_history(self, pack: str | None = None, limit: int = 100) -> list[EvalRun]:
        """The newest ``limit`` evaluations (of ``pack``; None: of every pack), oldest
        first."""

    # --- per-chat settings -----------------------------------------------------------

    @abstractmethod
    async def chat_settings(self, chat: ChatKey) -> ChatSettings:
        """This chat's settings (defaults when it has none)."""

    @abstractmethod
    async def set_daily(self, chat: ChatKey, enabled: bool, at: time | None = None,
                        tz: str | None = None, since: datetime | None = None) -> ChatSettings:
        """Turn the daily fact on or off; ``since`` counts as the last send (no instant post)."""

    @abstractmethod
    async def set_topic_enabled(self, chat: ChatKey, topic: str, enabled: bool) -> ChatSettings:
        """Allow or forbid one topic in this chat."""

    @abstractmethod
    async def set_cooldown(self, chat: ChatKey, user_per_minute: int | None,
                           chat_per_minute: int | None) -> ChatSettings:
        """Override the bot-wide cooldown for this chat (None: use the default)."""

    @abstractmethod
    async def set_language(self, chat: ChatKey, language: str | None) -> ChatSettings:
        """Set the chat's reply language: one of LANGUAGES, or None (worked out from each
        message). Anything else raises ValueError, and nothing is written."""

    # True where several processes share the store and count cooldown hits in it.
    shares_cooldowns = False

    async def count_cooldown(self, platform: str, chat_id: str, user_id: str, user_limit: int,
                             chat_limit: int, window: float) -> bool | None:
        """Count one answer to ``user_id`` in the chat if both are under their limits (0: none)
        over the last ``window`` seconds, counted across every process sharing the store.

        Returns True (counted: answer), False (over a limit: do not answer) or None (the
        store cannot say now: the caller limits on its own). None by default: one process.
        """
        return None  # a store of one process: the in-process limiter is the whole truth

    @abstractmethod
    async def daily_chats(self, platform: str) -> list[tuple[str, ChatSettings]]:
        """Every chat of ``platform`` subscribed to the daily fact."""

    @abstractmethod
    async def mark_daily_sent(self, chat: ChatKey, when: datetime) -> None:
        """Record, durably, that the daily fact went out at ``when``: the next one is due at
        the chat's next slot after ``when``, and the chat's claim (claim_daily) is released."""

    @abstractmethod
    async def set_guild(self, chat: ChatKey, guild_id: int) -> None:
        """Record the Discord guild a channel is in, for claim_daily's ``shards``."""

    # How long a chat claimed by claim_daily stays the claimer's (a store attribute, so
    # tests can shorten it).
    daily_lease: timedelta = DAILY_LEASE

    async def claim_daily(self, platform: str, now: datetime, limit: int = 100,
                          shards: Shards | None = None) -> list[tuple[str, ChatSettings]]:
        """Claim up to ``limit`` chats of ``platform`` whose daily fact is due at ``now``.

        ``shards``: only chats whose guild (set_guild) is on one of these shards; chats with
        no guild count as shard 0's (see shard_of). None: every chat.

        Each claimed chat is leased to the caller until ``now + daily_lease`` and returned
        as it is, not marked sent: the caller sends, then calls mark_daily_sent. No other
        caller, in this process or another, gets a chat while its lease lasts; a chat whose
        lease ran out unmarked (its claimer died) is claimed again.
        This default is built on daily_chats and keeps the leases in the instance; it is
        atomic only where daily_chats never yields to another task; the stores override it
        (the database stores with one transaction).
        """
        if shards is not None:
            raise NotImplementedError("claim_daily(shards=...) needs a store that records "
                                      "guilds")
        leases: dict[ChatKey, datetime] = self.__dict__.setdefault("_daily_leases", {})
        claimed: list[tuple[str, ChatSettings]] = []
        for chat_id, settings in await self.daily_chats(platform):
            if len(claimed) >= limit:
                break
            key = ChatKey(platform, chat_id)
            lease = leases.get(key)
            if is_due(settings, now) and (lease is None or lease <= now):
                leases[key] = now + self.daily_lease
                claimed.append((chat_id, settings))
        return claimed

    # --- chat lifecycle ----------------------------------------------------------------

    @abstractmethod
    async def set_left(self, chat: ChatKey, when: datetime | None) -> ChatSettings:
        """Record that the bot was blocked or removed at ``when``, or that it is back (None).

        Leaving also turns the daily fact off; coming back leaves it off (an admin turns it
        on again).
        """

    @abstractmethod
    async def migrate_chat(self, old: ChatKey, new: ChatKey) -> None:
        """Move a chat's settings, daily subscription and rotation positions to a new id.

        For a Telegram group upgraded to a supergroup. Where both ids hold state (the new
        one had a message handled before the move was seen), the old chat's settings and
        positions win; the new id keeps its own ``left_at`` and any topics the old one
        lacks. Moving a chat that holds nothing changes nothing, so a move seen twice is
        harmless. Both keys must be of the same platform.
        """

    @abstractmethod
    async def forget_left_chats(self, platform: str, left_before: datetime) -> int:
        """Delete the state of every chat of ``platform`` the bot left before ``left_before``.

        Returns how many chats were forgotten.
        """
