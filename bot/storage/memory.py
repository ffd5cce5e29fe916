"""An in-memory store: for tests, and the fallback when no database is wanted."""

from __future__ import annotations

import dataclasses
import heapq
import secrets
from collections import Counter
from collections.abc import Iterable
from datetime import UTC, date, datetime, time

from factbot.storage.base import (
    TEXT_MAX,
    UNMATCHED_MAX_AGE,
    UNMATCHED_MAX_ROWS,
    BaseStore,
    ChatKey,
    ChatSettings,
    DayCount,
    EvalRun,
    FactCount,
    FeedbackRow,
    Shards,
    TopicCount,
    UnmatchedCount,
    UnmatchedRow,
    WrongCount,
    check_language,
    next_daily,
    question_key,
    shard_of,
    utc_day,
)


def rank_topics(usage: Counter[tuple[str, str]], limit: int) -> list[TopicCount]:
    """Fold (platform, topic) counts into per-topic totals, most used first."""
    totals: Counter[str] = Counter()
    platforms: dict[str, list[tuple[str, int]]] = {}
    for (platform, topic), count in usage.items():
        totals[topic] += count
        platforms.setdefault(topic, []).append((platform, count))
    ranked = sorted(totals.items(), key=lambda item: (-item[1], item[0]))[:limit]
    return [TopicCount(topic, count, tuple(sorted(platforms[topic], key=lambda p: (-p[1], p[0]))))
            for topic, count in ranked]


def rank_facts(rows: Iterable[tuple[str, str, int]], limit: int) -> list[FactCount]:
    """(topic, quote, count) rows of any platform, summed per fact, most shown first."""
    totals: Counter[tuple[str, str]] = Counter()
    for topic, quote, count in rows:
        totals[(topic, quote)] += count
    ranked = sorted(totals.items(), key=lambda item: (-item[1], item[0]))[:limit]
    return [FactCount(topic, quote, count) for (topic, quote), count in ranked]


def group_wrong(rows: Iterable[tuple[str, str, str, datetime]],
                limit: int) -> list[WrongCount]:
    """Votes as (topic, quote, question, at), oldest first, grouped by the fact shown."""
    groups: dict[tuple[str, str], tuple[int, datetime, list[str]]] = {}
    for topic, quote, question, at in rows:
        count, last, questions = groups.get((topic, quote), (0, at, []))
        if question in questions:
            questions.remove(question)
        questions.append(question)  # the newest last
        groups[(topic, quote)] = (count + 1, max(last, at), questions)
    ranked = sorted(groups.items(),
                    key=lambda item: (-item[1][0], -item[1][1].timestamp(), item[0]))
    return [WrongCount(topic, quote, count, tuple(reversed(questions[-3:])), last)
            for (topic, quote), (count, last, questions) in ranked[:limit]]


_DEFAULTS = ChatSettings()  # frozen: shared by every chat that changed nothing


class MemoryStore(BaseStore):
    """All state in dicts: nothing is written anywhere, and nothing is a cache.

    Rotation positions and settings are the state itself, so they are not bounded (an
    evicted entry would be a lost setting or a rotation starting over); a chat whose
    settings go back to the defaults is dropped, as it holds nothing a default does not.
    Unanswered questions are bounded by ``max_rows``, usage by the number of topics.
    """

    def __init__(self, *, max_age: float = UNMATCHED_MAX_AGE.total_seconds(),
                 max_rows: int = UNMATCHED_MAX_ROWS) -> None:
        self.rotation: dict[tuple[ChatKey, str], int] = {}
        self.usage: Counter[tuple[str, str]] = Counter()
        self.unmatched: list[tuple[str, str, str, datetime]] = []
        self.facts: Counter[tuple[str, str, str]] = Counter()  # (platform, topic, quote)
        self.days: Counter[tuple[date, str, str]] = Counter()  # (day, platform, outcome)
        # Votes by (platform, reply key, user hash), oldest first: the key is the one vote.
        self.feedback: dict[tuple[str, str, str], tuple[str, str, str, str, datetime]] = {}
        self.evals: list[EvalRun] = []
        self.chats: dict[ChatKey, ChatSettings] = {}
        self.guilds: dict[ChatKey, int] = {}  # Discord channels' guilds (set_guild)
        self.max_age = max_age
        self.max_rows = max_rows
        self._salt = secrets.token_hex(16)
        # (next_daily, platform, chat id) of subscribed chats, the earliest first: the
        # databases' index. Stale entries (the chat changed since) are skipped when popped.
        self._due: list[tuple[datetime, str, str]] = []
        # Chats claimed by claim_daily and not yet marked sent: until when each is leased.
        self.leases: dict[ChatKey, datetime] = {}

    async def next_rotation(self, chat: ChatKey, topic: str, count: int) -> int:
        position = self.rotation.get((chat, topic), 0) % max(count, 1)
        self.rotation[(chat, topic)] = position + 1
        return position

    async def record_usage(self, platform: str, topic: str, quote: str = "",
                           at: datetime | None = None) -> None:
        self.usage[(platform, topic)] += 1
        if quote:
            self.facts[(platform, topic, quote[:TEXT_MAX])] += 1
        self.days[(utc_day(at or datetime.now(UTC)), platform, "fact")] += 1

    async def record_unmatched(self, platform: str, text: str, user_hash: str,
                               at: datetime | None = None) -> None:
        when = at or datetime.now(UTC)
        self.unmatched.append((platform, text, user_hash, when))
        del self.unmatched[:-self.max_rows]
        self.days[(utc_day(when), platform, "fallback")] += 1

    def _kept(self) -> list[tuple[str, str, str, datetime]]:
        """Unmatched questions within the age limit (pruned when read: cheap to record)."""
        cutoff = datetime.now(UTC).timestamp() - self.max_age
        self.unmatched = [u for u in self.unmatched if u[3].timestamp() >= cutoff]
        return self.unmatched

    async def user_salt(self) -> str:
        return self._salt

    async def top_topics(self, limit: int = 10) -> list[TopicCount]:
        return rank_topics(self.usage, limit)

    async def unmatched_total(self) -> int:
        return len(self._kept())

    async def top_unmatched(self, limit: int = 10) -> list[UnmatchedCount]:
        groups: dict[str, UnmatchedCount] = {}
        for _, text, _, when in self._kept():
            key = question_key(text)
            old = groups.get(key)
            count = old.count + 1 if old else 1
            if old is None or when >= old.last_seen:
                groups[key] = UnmatchedCount(text, count, when)
            else:
                groups[key] = dataclasses.replace(old, count=count)
        ranked = sorted(groups.values(), key=lambda u: (-u.count, -u.last_seen.timestamp()))
        return ranked[:limit]

    async def top_facts(self, limit: int = 10) -> list[FactCount]:
        return rank_facts(((t, q, c) for (_, t, q), c in self.facts.items()), limit)

    async def activity(self, since: date) -> list[DayCount]:
        return [DayCount(day, platform, outcome, count)
                for (day, platform, outcome), count in sorted(self.days.items())
                if day >= since]

    async def unmatched_questions(self, since: datetime,
                                  limit: int = 5000) -> list[UnmatchedRow]:
        rows = [UnmatchedRow(text, at, platform, user_hash)
                for platform, text, user_hash, at in reversed(self._kept()) if at >= since]
        rows.sort(key=lambda r: r.at, reverse=True)  # stable: the later recorded first
        return rows[:limit]

    async def record_feedback(self, platform: str, chat_id: str, reply_key: str,
                              user_hash: str, question: str, topic: str, quote: str,
                              at: datetime | None = None) -> bool:
        vote = (platform, reply_key, user_hash)
        if vote in self.feedback:
            return False
        when = at or datetime.now(UTC)
        self.feedback[vote] = (chat_id, question[:TEXT_MAX], topic, quote[:TEXT_MAX], when)
        for old in list(self.feedback)[:-self.max_rows]:
            del self.feedback[old]
        self.days[(utc_day(when), platform, "wrong")] += 1
        return True

    def _votes(self) -> list[tuple[tuple[str, str, str], tuple[str, str, str, str, datetime]]]:
        """Votes within the age limit, oldest first (pruned when read, as questions are)."""
        cutoff = datetime.now(UTC).timestamp() - self.max_age
        for vote in [v for v, row in self.feedback.items() if row[4].timestamp() < cutoff]:
            del self.feedback[vote]
        return list(self.feedback.items())

    async def wrong_total(self) -> int:
        return len(self._votes())

    async def wrong_answers(self, limit: int = 10) -> list[WrongCount]:
        rows = sorted(((topic, quote, question, at)
                       for _, (_, question, topic, quote, at) in self._votes()),
                      key=lambda row: row[3])  # stable: recorded order among equal times
        return group_wrong(rows, limit)

    async def feedback_rows(self, since: datetime, limit: int = 5000) -> list[FeedbackRow]:
        rows = [FeedbackRow(question, topic, quote, at, platform, user_hash)
                for (platform, _, user_hash), (_, question, topic, quote, at)
                in reversed(self._votes()) if at >= since]
        rows.sort(key=lambda r: r.at, reverse=True)
        return rows[:limit]

    async def record_eval(self, run: EvalRun) -> None:
        self.evals.append(run)

    async def eval_history(self, pack: str | None = None, limit: int = 100) -> list[EvalRun]:
        runs = sorted((r for r in self.evals if pack is None or r.pack == pack),
                      key=lambda r: r.at)  # stable: recorded order among equal times
        return runs[-limit:] if limit > 0 else []

    async def chat_settings(self, chat: ChatKey) -> ChatSettings:
        return self.chats.get(chat, _DEFAULTS)

    def _update(self, chat: ChatKey, **changes: object) -> ChatSettings:
        settings = dataclasses.replace(self.chats.get(chat, _DEFAULTS), **changes)  # type: ignore[arg-type]
        if settings == _DEFAULTS:
            self.chats.pop(chat, None)
        else:
            self.chats[chat] = settings
        due = self._due_at(chat, settings)
        if due is not None:
            heapq.heappush(self._due, (due, chat.platform, chat.chat_id))
        return settings

    def _due_at(self, chat: ChatKey, settings: ChatSettings) -> datetime | None:
        """When the chat can next be claimed: its next slot, or when its lease runs out."""
        due = next_daily(settings)
        lease = self.leases.get(chat)
        return due if due is None or lease is None else max(due, lease)

    async def set_guild(self, chat: ChatKey, guild_id: int) -> None:
        self.guilds[chat] = guild_id

    async def claim_daily(self, platform: str, now: datetime, limit: int = 100,
                          shards: Shards | None = None) -> list[tuple[str, ChatSettings]]:
        # Never yields, so it is atomic here; other platforms' due chats wait in a side list.
        claimed: list[tuple[str, ChatSettings]] = []
        others: list[tuple[datetime, str, str]] = []
        while self._due and self._due[0][0] <= now and len(claimed) < limit:
            entry = heapq.heappop(self._due)
            due, chat_platform, chat_id = entry
            chat = ChatKey(chat_platform, chat_id)
            if self._due_at(chat, self.chats.get(chat, _DEFAULTS)) != due:
                continue  # stale: the chat was changed or claimed since
            if chat_platform != platform or (shards is not None and shard_of(
                    self.guilds.get(chat), shards[0]) not in shards[1]):
                others.append(entry)
                continue
            self.leases[chat] = now + self.daily_lease  # due again when the lease runs out
            settings = self.chats.get(chat, _DEFAULTS)
            heapq.heappush(self._due, (now + self.daily_lease, chat_platform, chat_id))
            claimed.append((chat_id, settings))
        for entry in others:
            heapq.heappush(self._due, entry)
        return sorted(claimed, key=lambda item: item[0])

    async def set_daily(self, chat: ChatKey, enabled: bool, at: time | None = None,
                        tz: str | None = None, since: datetime | None = None) -> ChatSettings:
        current = self.chats.get(chat, _DEFAULTS)
        return self._update(chat, daily=enabled, daily_time=at or current.daily_time,
                            tz=tz or current.tz,
                            last_daily=since if since is not None else current.last_daily)

    async def set_topic_enabled(self, chat: ChatKey, topic: str, enabled: bool) -> ChatSettings:
        disabled = set(self.chats.get(chat, _DEFAULTS).disabled)
        if enabled:
            disabled.discard(topic)
        else:
            disabled.add(topic)
        return self._update(chat, disabled=frozenset(disabled))

    async def set_cooldown(self, chat: ChatKey, user_per_minute: int | None,
                           chat_per_minute: int | None) -> ChatSettings:
        return self._update(chat, user_per_minute=user_per_minute,
                            chat_per_minute=chat_per_minute)

    async def set_language(self, chat: ChatKey, language: str | None) -> ChatSettings:
        return self._update(chat, language=check_language(language))

    async def daily_chats(self, platform: str) -> list[tuple[str, ChatSettings]]:
        return sorted(((chat.chat_id, s) for chat, s in self.chats.items()
                       if chat.platform == platform and s.daily), key=lambda item: item[0])

    async def mark_daily_sent(self, chat: ChatKey, when: datetime) -> None:
        self.leases.pop(chat, None)
        self._update(chat, last_daily=when)

    async def set_left(self, chat: ChatKey, when: datetime | None) -> ChatSettings:
        if when is None:
            return self._update(chat, left_at=None)
        return self._update(chat, daily=False, left_at=when)

    async def migrate_chat(self, old: ChatKey, new: ChatKey) -> None:
        if old.platform != new.platform:
            raise ValueError(f"cannot move chat {old.chat_id} from {old.platform} to "
                             f"{new.platform}")
        if old == new:
            return
        settings = self.chats.pop(old, None)
        if settings is not None:
            left_at = self.chats.get(new, _DEFAULTS).left_at  # the new id's own presence
            self._update(new, **{f.name: getattr(settings, f.name)
                                 for f in dataclasses.fields(settings) if f.name != "left_at"},
                         left_at=left_at)
        for chat, topic in [key for key in self.rotation if key[0] == old]:
            self.rotation[(new, topic)] = self.rotation.pop((chat, topic))

    async def forget_left_chats(self, platform: str, left_before: datetime) -> int:
        gone = {chat for chat, s in self.chats.items() if chat.platform == platform
                and s.left_at is not None and s.left_at < left_before}
        for chat in gone:
            del self.chats[chat]
            self.guilds.pop(chat, None)
        for key in [key for key in self.rotation if key[0] in gone]:
            del self.rotation[key]
        return len(gone)
