"""The store contract: every BaseStore method's behaviour, the same on every store.

Run against MemoryStore, SqliteStore on a real file in tmp_path (with its chat cache and
without it), and PostgresStore on a real server (a database of this run's own, emptied for
each test: see the postgres_server fixture; skipped, saying why, where no server answers,
and a failure then with FACTBOT_REQUIRE_SERVICES=1). At the end, what several processes
sharing one database rely on: two stores with their own connections on one database.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, date, datetime, time, timedelta, timezone
from pathlib import Path

import pytest

from factbot.storage import BaseStore, ChatKey, MemoryStore
from factbot.storage.base import (
    TEXT_MAX,
    ChatSettings,
    DayCount,
    EvalRun,
    FactCount,
    FeedbackRow,
    UnmatchedRow,
    WrongCount,
)
from factbot.storage.postgres import PostgresStore
from factbot.storage.sqlite import SqliteStore

CHAT = ChatKey("telegram", "-100")
OTHER = ChatKey("discord", "42")
STORES = ["memory", "sqlite", "sqlite-uncached", "postgres"]


async def _open(kind: str, request: pytest.FixtureRequest, tmp_path: Path,
                **limits: float) -> BaseStore:
    """An open store of ``kind``; PostgreSQL's database comes from the postgres_url fixture,
    asked for only here, so that the other stores never wait for (or skip without) a server."""
    if kind == "memory":
        return MemoryStore(**limits)  # type: ignore[arg-type]
    if kind == "postgres":
        url: str = request.getfixturevalue("postgres_url")
        store: BaseStore = PostgresStore(url, **limits)  # type: ignore[arg-type]
    else:
        # Uncached: every call reads the file, as for a chat that dropped out of the cache.
        store = SqliteStore(tmp_path / "state.db", chat_cache=0 if kind == "sqlite-uncached"
                            else 10, **limits)  # type: ignore[arg-type]
    await store.open()
    return store


@pytest.fixture(params=STORES)
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[BaseStore]:
    opened = await _open(request.param, request, tmp_path, max_rows=5)
    try:
        yield opened
    finally:
        await opened.close()


async def test_rotation_goes_through_every_fact_then_starts_over(store: BaseStore) -> None:
    got = [await store.next_rotation(CHAT, "hallyu", 3) for _ in range(7)]
    assert got == [0, 1, 2, 0, 1, 2, 0]


async def test_rotation_is_kept_per_chat_and_per_topic(store: BaseStore) -> None:
    assert await store.next_rotation(CHAT, "hallyu", 5) == 0
    assert await store.next_rotation(CHAT, "hallyu", 5) == 1
    assert await store.next_rotation(OTHER, "hallyu", 5) == 0
    assert await store.next_rotation(CHAT, "trade", 5) == 0


async def test_rotation_survives_a_pack_that_lost_facts(store: BaseStore) -> None:
    for _ in range(4):
        await store.next_rotation(CHAT, "hallyu", 5)
    assert await store.next_rotation(CHAT, "hallyu", 2) in (0, 1)


async def test_usage_is_counted_per_topic_with_a_platform_breakdown(store: BaseStore) -> None:
    for platform, topic in [("telegram", "hallyu"), ("discord", "hallyu"),
                            ("telegram", "hallyu"), ("telegram", "trade")]:
        await store.record_usage(platform, topic)
    top = await store.top_topics(10)
    assert [(t.topic, t.count) for t in top] == [("hallyu", 3), ("trade", 1)]
    assert top[0].by_platform == (("telegram", 2), ("discord", 1))
    assert [t.topic for t in await store.top_topics(1)] == ["hallyu"]


async def test_unmatched_questions_are_grouped_and_counted(store: BaseStore) -> None:
    now = datetime.now(UTC)
    await store.record_unmatched("telegram", "What about  K-pop?", "u1", now - timedelta(hours=2))
    await store.record_unmatched("discord", "what about k pop", "u2", now - timedelta(hours=1))
    await store.record_unmatched("telegram", "weather?", "u1", now)
    assert await store.unmatched_total() == 3
    top = await store.top_unmatched(10)
    assert [(q.text, q.count) for q in top] == [("what about k pop", 2), ("weather?", 1)]


async def test_unmatched_log_is_bounded_in_rows(store: BaseStore) -> None:
    for n in range(8):
        await store.record_unmatched("telegram", f"question {n}", "u")
    assert await store.unmatched_total() == 5
    texts = {q.text for q in await store.top_unmatched(10)}
    assert texts == {f"question {n}" for n in range(3, 8)}


async def test_unmatched_older_than_the_age_limit_are_dropped(store: BaseStore) -> None:
    old = datetime.now(UTC) - timedelta(days=91)
    await store.record_unmatched("telegram", "ancient question", "u", old)
    await store.record_unmatched("telegram", "fresh question", "u")
    assert [q.text for q in await store.top_unmatched(10)] == ["fresh question"]


async def test_an_unknown_chat_has_default_settings(store: BaseStore) -> None:
    assert await store.chat_settings(CHAT) == ChatSettings()
    assert await store.daily_chats("telegram") == []


async def test_daily_settings_round_trip(store: BaseStore) -> None:
    since = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    settings = await store.set_daily(CHAT, True, time(8, 30), "Asia/Seoul", since=since)
    assert (settings.daily, settings.daily_time, settings.tz) == (True, time(8, 30), "Asia/Seoul")
    assert settings.last_daily == since
    assert await store.chat_settings(CHAT) == settings
    assert [c for c, _ in await store.daily_chats("telegram")] == ["-100"]
    assert await store.daily_chats("discord") == []
    # Turning it off keeps the chosen hour and zone for next time.
    off = await store.set_daily(CHAT, False)
    assert (off.daily, off.daily_time, off.tz) == (False, time(8, 30), "Asia/Seoul")
    assert await store.daily_chats("telegram") == []


async def test_the_last_daily_send_is_stored(store: BaseStore) -> None:
    await store.set_daily(CHAT, True)
    when = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
    await store.mark_daily_sent(CHAT, when)
    assert (await store.chat_settings(CHAT)).last_daily == when
    [(_, listed)] = await store.daily_chats("telegram")
    assert listed.last_daily == when


async def test_topics_can_be_turned_off_and_on_per_chat(store: BaseStore) -> None:
    await store.set_topic_enabled(CHAT, "hallyu", False)
    await store.set_topic_enabled(CHAT, "trade", False)
    assert (await store.chat_settings(CHAT)).disabled == {"hallyu", "trade"}
    assert (await store.chat_settings(OTHER)).disabled == frozenset()
    settings = await store.set_topic_enabled(CHAT, "hallyu", True)
    assert settings.disabled == {"trade"}


async def test_cooldown_override_per_chat(store: BaseStore) -> None:
    settings = await store.set_cooldown(CHAT, 2, 10)
    assert (settings.user_per_minute, settings.chat_per_minute) == (2, 10)
    cleared = await store.set_cooldown(CHAT, None, None)
    assert (cleared.user_per_minute, cleared.chat_per_minute) == (None, None)


async def test_each_store_has_a_stable_salt(store: BaseStore) -> None:
    salt = await store.user_salt()
    assert len(salt) >= 16
    assert await store.user_salt() == salt


async def test_language_is_set_cleared_and_checked_per_chat(store: BaseStore) -> None:
    assert (await store.chat_settings(CHAT)).language is None  # automatic
    settings = await store.set_language(CHAT, "ko")
    assert settings.language == "ko"
    assert await store.chat_settings(CHAT) == settings
    assert (await store.chat_settings(OTHER)).language is None
    await store.set_cooldown(CHAT, 2, None)  # other settings leave it be
    assert (await store.chat_settings(CHAT)).language == "ko"
    for wrong in ("fr", "", "KO", "en-US"):
        with pytest.raises(ValueError, match="language"):
            await store.set_language(CHAT, wrong)
    assert (await store.chat_settings(CHAT)).language == "ko"  # nothing written
    assert (await store.set_language(CHAT, None)).language is None
    assert (await store.chat_settings(CHAT)).language is None
    assert (await store.set_language(OTHER, "en")).language == "en"


# --- per-fact and per-day counts ----------------------------------------------------------

MAY_4 = datetime(2026, 5, 4, 23, 59, tzinfo=UTC)
MAY_5 = datetime(2026, 5, 5, 0, 1, tzinfo=UTC)


async def test_usage_counts_each_fact_shown_most_shown_first(store: BaseStore) -> None:
    for platform, topic, quote in [("telegram", "hallyu", "Q1"), ("discord", "hallyu", "Q1"),
                                   ("telegram", "trade", "T1"), ("telegram", "hallyu", "Q2"),
                                   ("telegram", "trade", "T1"), ("telegram", "hallyu", "Q1")]:
        await store.record_usage(platform, topic, quote)
    await store.record_usage("telegram", "hallyu")  # no quote: the topic and day, no fact
    assert await store.top_facts() == [FactCount("hallyu", "Q1", 3),
                                       FactCount("trade", "T1", 2),
                                       FactCount("hallyu", "Q2", 1)]
    assert await store.top_facts(1) == [FactCount("hallyu", "Q1", 3)]
    # Ties go by topic, then quote.
    await store.record_usage("telegram", "hallyu", "Q2")
    assert [(f.topic, f.quote) for f in await store.top_facts()] == [
        ("hallyu", "Q1"), ("hallyu", "Q2"), ("trade", "T1")]
    assert [(t.topic, t.count) for t in await store.top_topics()] == [("hallyu", 6),
                                                                     ("trade", 2)]


async def test_a_long_quote_is_kept_cut_to_the_limit(store: BaseStore) -> None:
    await store.record_usage("telegram", "hallyu", "é" * (TEXT_MAX + 50))
    await store.record_usage("telegram", "hallyu", "é" * (TEXT_MAX + 1))
    assert await store.top_facts() == [FactCount("hallyu", "é" * TEXT_MAX, 2)]


async def test_activity_counts_facts_fallbacks_and_wrong_answers_per_day(
        store: BaseStore) -> None:
    await store.record_usage("telegram", "hallyu", "Q1", at=MAY_4)
    await store.record_usage("telegram", "hallyu", "Q1", at=MAY_4)
    await store.record_usage("discord", "trade", "T1", at=MAY_5)
    # Seoul's morning of the 5th is still the 4th in UTC.
    seoul = timezone(timedelta(hours=9))
    await store.record_usage("telegram", "trade", "T1", at=datetime(2026, 5, 5, 8, 30,
                                                                    tzinfo=seoul))
    await store.record_unmatched("telegram", "weather?", "u1", MAY_4)
    await store.record_unmatched("telegram", "lunch?", "u1", MAY_5)
    assert await store.record_feedback("telegram", "-100", "r1", "u1", "q", "hallyu", "Q1",
                                       at=MAY_5)
    assert await store.activity(date(2026, 5, 4)) == [
        DayCount(date(2026, 5, 4), "telegram", "fact", 3),
        DayCount(date(2026, 5, 4), "telegram", "fallback", 1),
        DayCount(date(2026, 5, 5), "discord", "fact", 1),
        DayCount(date(2026, 5, 5), "telegram", "fallback", 1),
        DayCount(date(2026, 5, 5), "telegram", "wrong", 1),
    ]
    assert [d.day for d in await store.activity(date(2026, 5, 5))] == [date(2026, 5, 5)] * 3
    assert await store.activity(date(2026, 5, 6)) == []
    # No time given: today's (UTC) count.
    await store.record_usage("telegram", "hallyu", "Q1")
    today = datetime.now(UTC).date()
    assert DayCount(today, "telegram", "fact", 1) in await store.activity(today)


# --- "Not what I asked" feedback -------------------------------------------------------------


async def test_one_vote_per_user_and_reply(store: BaseStore) -> None:
    vote = ("telegram", "-100", "reply-1", "user-a", "what about kpop", "hallyu", "Q1")
    assert await store.record_feedback(*vote) is True
    assert await store.record_feedback(*vote) is False  # the same user again
    assert await store.record_feedback("telegram", "-100", "reply-1", "user-b",
                                       "what about kpop", "hallyu", "Q1") is True
    assert await store.record_feedback("telegram", "-100", "reply-2", "user-a",
                                       "and bts?", "hallyu", "Q1") is True
    # The same reply key on another platform is another reply.
    assert await store.record_feedback("discord", "42", "reply-1", "user-a",
                                       "kpop", "hallyu", "Q1") is True
    assert await store.wrong_total() == 4
    today = datetime.now(UTC).date()
    wrong = [d for d in await store.activity(today) if d.outcome == "wrong"]
    assert [(d.platform, d.count) for d in wrong] == [("discord", 1), ("telegram", 3)]


async def test_wrong_answers_are_grouped_by_the_fact_shown(store: BaseStore) -> None:
    start = datetime.now(UTC) - timedelta(hours=1)
    votes = [("r1", "a", "what about kpop", "hallyu", "Q1"),
             ("r2", "b", "and bts?", "hallyu", "Q1"),
             ("r3", "c", "what about kpop", "hallyu", "Q1"),
             ("r4", "d", "tariffs?", "trade", "T1"),
             ("r5", "e", "the wave", "hallyu", "Q1")]
    for n, (reply, user, question, topic, quote) in enumerate(votes):
        assert await store.record_feedback("telegram", "-100", reply, user, question, topic,
                                           quote, at=start + timedelta(minutes=n))
    assert await store.wrong_answers() == [
        WrongCount("hallyu", "Q1", 4, ("the wave", "what about kpop", "and bts?"),
                   start + timedelta(minutes=4)),
        WrongCount("trade", "T1", 1, ("tariffs?",), start + timedelta(minutes=3)),
    ]
    assert [w.topic for w in await store.wrong_answers(1)] == ["hallyu"]


async def test_feedback_keeps_the_question_cut_and_clean(store: BaseStore) -> None:
    long = "x" * (TEXT_MAX + 20)
    assert await store.record_feedback("telegram", "-100", "r", "u", long, "hallyu",
                                       "q" * (TEXT_MAX + 1))
    [row] = await store.feedback_rows(datetime.now(UTC) - timedelta(hours=1))
    assert (row.question, row.quote) == ("x" * TEXT_MAX, "q" * TEXT_MAX)
    # A lone surrogate (from a broken client) is stored, replaced, not an error.
    assert await store.record_feedback("telegram", "-100", "r2", "u", "bad \ud800 text",
                                       "hallyu", "Q1")
    newest = (await store.feedback_rows(datetime.now(UTC) - timedelta(hours=1)))[0]
    assert newest.question.startswith("bad ") and newest.question.endswith(" text")


async def test_feedback_is_bounded_in_age_and_rows(store: BaseStore) -> None:
    old = datetime.now(UTC) - timedelta(days=91)
    assert await store.record_feedback("telegram", "-100", "old", "u", "q", "hallyu", "Q0",
                                       at=old)
    for n in range(7):  # the store keeps 5 rows
        assert await store.record_feedback("telegram", "-100", f"r{n}", "u", f"q{n}",
                                           "hallyu", f"Q{n}")
    assert await store.wrong_total() == 5
    assert {w.quote for w in await store.wrong_answers()} == {f"Q{n}" for n in range(2, 7)}


# --- for the curator dashboard ------------------------------------------------------------


async def test_unmatched_questions_since_newest_first(store: BaseStore) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    await store.record_unmatched("telegram", "first?", "u1", now - timedelta(hours=3))
    await store.record_unmatched("discord", "second?", "u2", now - timedelta(hours=2))
    await store.record_unmatched("telegram", "third?", "u1", now - timedelta(hours=1))
    assert await store.unmatched_questions(now - timedelta(hours=2)) == [
        UnmatchedRow("third?", now - timedelta(hours=1), "telegram", "u1"),
        UnmatchedRow("second?", now - timedelta(hours=2), "discord", "u2"),
    ]
    assert [r.text for r in await store.unmatched_questions(now - timedelta(days=1))] == [
        "third?", "second?", "first?"]
    assert [r.text for r in await store.unmatched_questions(now - timedelta(days=1),
                                                            limit=1)] == ["third?"]
    assert await store.unmatched_questions(now) == []


async def test_feedback_rows_since_newest_first(store: BaseStore) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    assert await store.record_feedback("telegram", "-100", "r1", "u1", "kpop?", "hallyu",
                                       "Q1", at=now - timedelta(hours=2))
    assert await store.record_feedback("discord", "42", "r2", "u2", "tariffs?", "trade",
                                       "T1", at=now - timedelta(hours=1))
    assert await store.feedback_rows(now - timedelta(days=1)) == [
        FeedbackRow("tariffs?", "trade", "T1", now - timedelta(hours=1), "discord", "u2"),
        FeedbackRow("kpop?", "hallyu", "Q1", now - timedelta(hours=2), "telegram", "u1"),
    ]
    assert [r.question for r in await store.feedback_rows(now - timedelta(hours=1))] == [
        "tariffs?"]
    assert len(await store.feedback_rows(now - timedelta(days=1), limit=1)) == 1


# --- accuracy history ------------------------------------------------------------------------


def _run(pack: str, day: int, top1: float, digest: str = "d") -> EvalRun:
    return EvalRun(pack, datetime(2026, 5, day, 9, 0, tzinfo=UTC), 40, top1, 0.9, 0.05,
                   digest)


async def test_eval_history_oldest_first_per_pack(store: BaseStore) -> None:
    runs = [_run("hallyu", 3, 0.8, "a1"), _run("trade", 1, 0.5), _run("hallyu", 1, 0.75, "a0"),
            _run("hallyu", 5, 0.875, "a2")]
    for run in runs:
        await store.record_eval(run)
    assert await store.eval_history("hallyu") == [runs[2], runs[0], runs[3]]
    assert await store.eval_history() == [runs[1], runs[2], runs[0], runs[3]]
    assert await store.eval_history("hallyu", limit=2) == [runs[0], runs[3]]  # the newest
    assert await store.eval_history("nothing") == []


# --- the chat lifecycle: the bot leaves, a group moves to a new id, old chats are forgotten ---

NEW = ChatKey("telegram", "-1009999")
LEFT_AT = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


async def test_leaving_a_chat_stops_its_daily_fact_and_records_when(store: BaseStore) -> None:
    await store.set_daily(CHAT, True, time(7, 0), "Asia/Seoul")
    await store.set_topic_enabled(CHAT, "trade", False)
    left = await store.set_left(CHAT, LEFT_AT)
    assert (left.daily, left.left_at) == (False, LEFT_AT)
    assert await store.daily_chats("telegram") == []
    # Added back: the mark goes, the settings stay, the daily fact waits for an admin.
    back = await store.set_left(CHAT, None)
    assert back == ChatSettings(daily_time=time(7, 0), tz="Asia/Seoul",
                                disabled=frozenset({"trade"}))
    assert await store.chat_settings(CHAT) == back


async def test_a_chat_with_no_settings_can_be_marked_left(store: BaseStore) -> None:
    assert (await store.set_left(CHAT, LEFT_AT)).left_at == LEFT_AT
    assert (await store.chat_settings(CHAT)).left_at == LEFT_AT
    assert await store.set_left(OTHER, None) == ChatSettings()  # never left: nothing to clear


async def test_a_moved_chat_keeps_settings_subscription_and_rotation_under_the_new_id(
        store: BaseStore) -> None:
    since = datetime(2026, 1, 2, 9, 0, tzinfo=UTC)
    await store.set_daily(CHAT, True, time(8, 30), "Asia/Kuala_Lumpur", since=since)
    await store.set_topic_enabled(CHAT, "trade", False)
    await store.set_cooldown(CHAT, 2, 10)
    await store.set_language(CHAT, "ms")
    assert [await store.next_rotation(CHAT, "hallyu", 5) for _ in range(2)] == [0, 1]
    before = await store.chat_settings(CHAT)
    assert before.language == "ms"
    await store.migrate_chat(CHAT, NEW)
    assert await store.chat_settings(NEW) == before
    assert await store.chat_settings(CHAT) == ChatSettings()
    assert [c for c, _ in await store.daily_chats("telegram")] == [NEW.chat_id]
    assert await store.next_rotation(NEW, "hallyu", 5) == 2
    assert await store.next_rotation(CHAT, "hallyu", 5) == 0  # the old id starts afresh


async def test_a_move_seen_twice_changes_nothing_the_second_time(store: BaseStore) -> None:
    await store.set_daily(CHAT, True)
    await store.next_rotation(CHAT, "hallyu", 5)
    await store.migrate_chat(CHAT, NEW)
    moved = await store.chat_settings(NEW)
    await store.migrate_chat(CHAT, NEW)  # the service message in the new supergroup, later
    await store.migrate_chat(NEW, NEW)
    assert await store.chat_settings(NEW) == moved
    assert await store.next_rotation(NEW, "hallyu", 5) == 1


async def test_the_old_chats_settings_win_over_what_the_new_id_gathered(
        store: BaseStore) -> None:
    await store.set_daily(CHAT, True, time(6, 0))
    await store.set_topic_enabled(CHAT, "trade", False)
    await store.next_rotation(CHAT, "hallyu", 5)
    # The supergroup answered before the move was seen, and the bot had been removed there.
    await store.set_left(NEW, LEFT_AT)
    await store.set_topic_enabled(NEW, "hallyu", False)
    for _ in range(3):
        await store.next_rotation(NEW, "hallyu", 5)
    await store.next_rotation(NEW, "any", 5)
    await store.migrate_chat(CHAT, NEW)
    settings = await store.chat_settings(NEW)
    assert (settings.daily, settings.daily_time, settings.disabled) == (
        True, time(6, 0), {"trade"})
    assert settings.left_at == LEFT_AT  # whether the bot is there is the new id's own
    assert await store.next_rotation(NEW, "hallyu", 5) == 1  # the old chat's position
    assert await store.next_rotation(NEW, "any", 5) == 1  # a topic it never had: kept


async def test_topics_turned_off_alone_replace_the_new_ids_settings_whole(
        store: BaseStore) -> None:
    await store.set_topic_enabled(CHAT, "trade", False)
    await store.set_cooldown(NEW, 3, None)
    await store.migrate_chat(CHAT, NEW)
    assert await store.chat_settings(NEW) == ChatSettings(disabled=frozenset({"trade"}))


async def test_moving_a_chat_to_another_platform_is_refused(store: BaseStore) -> None:
    with pytest.raises(ValueError, match="cannot move chat"):
        await store.migrate_chat(CHAT, OTHER)


async def test_only_chats_left_before_the_cutoff_on_that_platform_are_forgotten(
        store: BaseStore) -> None:
    long_ago, lately = CHAT, ChatKey("telegram", "-200")
    staying, elsewhere = ChatKey("telegram", "-300"), ChatKey("discord", "-100")
    for chat in (long_ago, lately, staying, elsewhere):
        await store.set_topic_enabled(chat, "trade", False)
        await store.next_rotation(chat, "hallyu", 5)
    cutoff = LEFT_AT
    await store.set_left(long_ago, cutoff - timedelta(seconds=1))
    await store.set_left(lately, cutoff)
    await store.set_left(elsewhere, cutoff - timedelta(days=365))
    assert await store.forget_left_chats("telegram", cutoff) == 1
    assert await store.chat_settings(long_ago) == ChatSettings()
    assert await store.next_rotation(long_ago, "hallyu", 5) == 0  # its rotation is gone too
    for kept in (lately, staying, elsewhere):
        assert (await store.chat_settings(kept)).disabled == {"trade"}
        assert await store.next_rotation(kept, "hallyu", 5) == 1
    assert await store.forget_left_chats("telegram", cutoff) == 0


# --- the daily claim -------------------------------------------------------------------

DAY = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)  # noon UTC: the default 09:00 UTC slot is past


async def test_a_claim_leases_each_due_chat_and_a_mark_sends_it_to_the_next_slot(
        store: BaseStore) -> None:
    await store.set_daily(CHAT, True)
    await store.set_topic_enabled(CHAT, "trade", False)
    # Turned on at 10:00: not due until 13:00.
    await store.set_daily(ChatKey("telegram", "-200"), True, time(13, 0),
                          since=DAY - timedelta(hours=2))
    await store.set_daily(ChatKey("discord", "-100"), True)  # another platform's
    claimed = await store.claim_daily("telegram", DAY)
    assert [chat_id for chat_id, _ in claimed] == [CHAT.chat_id]
    [(_, settings)] = claimed
    assert settings.disabled == {"trade"}  # what the daily fact needs to choose a topic
    assert settings.last_daily is None  # claimed, not marked sent
    assert (await store.chat_settings(CHAT)).last_daily is None
    await store.mark_daily_sent(CHAT, DAY)
    assert (await store.chat_settings(CHAT)).last_daily == DAY
    assert await store.claim_daily("telegram", DAY + timedelta(hours=1)) == [
        ("-200", ChatSettings(daily=True, daily_time=time(13, 0),
                              last_daily=DAY - timedelta(hours=2)))]
    await store.mark_daily_sent(ChatKey("telegram", "-200"), DAY + timedelta(hours=1))
    # Sent today: nothing more until tomorrow's slot, then both again.
    assert await store.claim_daily("telegram", DAY + timedelta(hours=2)) == []
    again = await store.claim_daily("telegram", DAY + timedelta(days=1, hours=2))
    assert [chat_id for chat_id, _ in again] == ["-100", "-200"]


async def test_a_live_lease_is_not_claimed_and_an_expired_one_is(store: BaseStore) -> None:
    await store.set_daily(CHAT, True)
    assert [c for c, _ in await store.claim_daily("telegram", DAY)] == [CHAT.chat_id]
    lease = store.daily_lease
    # Its claimer is sending it (or died doing so): nobody else gets it while the lease lasts.
    assert await store.claim_daily("telegram", DAY) == []
    assert await store.claim_daily("telegram", DAY + lease - timedelta(seconds=1)) == []
    # The lease ran out and the chat was never marked sent: it is claimed again, once.
    again = DAY + lease
    assert [c for c, _ in await store.claim_daily("telegram", again)] == [CHAT.chat_id]
    assert await store.claim_daily("telegram", again + timedelta(seconds=1)) == []
    await store.mark_daily_sent(CHAT, again)
    assert await store.claim_daily("telegram", again + 2 * lease) == []  # sent for today
    assert len(await store.claim_daily("telegram", DAY + timedelta(days=1))) == 1


async def test_a_setting_changed_while_leased_keeps_the_lease(store: BaseStore) -> None:
    await store.set_daily(CHAT, True)
    assert len(await store.claim_daily("telegram", DAY)) == 1
    await store.set_topic_enabled(CHAT, "trade", False)
    await store.set_daily(CHAT, True, time(8, 0))
    assert await store.claim_daily("telegram", DAY) == []
    assert len(await store.claim_daily("telegram", DAY + store.daily_lease)) == 1


async def test_a_claim_takes_at_most_the_limit_and_the_rest_stay_due(store: BaseStore) -> None:
    chats = [ChatKey("telegram", f"-{n}") for n in range(5)]
    for chat in chats:
        await store.set_daily(chat, True)
    got = [await store.claim_daily("telegram", DAY, limit=2) for _ in range(4)]
    assert [len(batch) for batch in got] == [2, 2, 1, 0]
    assert sorted(c for batch in got for c, _ in batch) == sorted(c.chat_id for c in chats)


async def test_chats_turned_on_today_or_left_are_not_claimed(store: BaseStore) -> None:
    await store.set_daily(CHAT, True, since=DAY - timedelta(hours=1))  # on at 11:00: after 09:00
    left = ChatKey("telegram", "-300")
    await store.set_daily(left, True)
    await store.set_left(left, DAY - timedelta(days=1))
    off = ChatKey("telegram", "-400")
    await store.set_daily(off, True)
    await store.set_daily(off, False)
    assert await store.claim_daily("telegram", DAY) == []
    assert [c for c, _ in await store.claim_daily("telegram", DAY + timedelta(days=1))] == [
        CHAT.chat_id]


async def test_a_claim_follows_the_chats_time_zone(store: BaseStore) -> None:
    # 08:30 in Kuala Lumpur (UTC+8) is 00:30 UTC.
    await store.set_daily(CHAT, True, time(8, 30), "Asia/Kuala_Lumpur",
                          since=datetime(2026, 5, 3, 1, 0, tzinfo=UTC))
    assert await store.claim_daily("telegram", datetime(2026, 5, 4, 0, 29, tzinfo=UTC)) == []
    assert len(await store.claim_daily("telegram", datetime(2026, 5, 4, 0, 30, tzinfo=UTC))) == 1


# --- stores of several processes on one database --------------------------------------


@pytest.fixture(params=["sqlite", "postgres"])
async def two(request: pytest.FixtureRequest,
              tmp_path: Path) -> AsyncIterator[tuple[BaseStore, BaseStore]]:
    """Two stores on one database, each with connections of its own, as two processes."""
    first = await _open(request.param, request, tmp_path)
    second = await _open(request.param, request, tmp_path)
    try:
        yield first, second
    finally:
        await first.close()
        await second.close()


@pytest.fixture
async def two_pg(request: pytest.FixtureRequest,
                 tmp_path: Path) -> AsyncIterator[tuple[BaseStore, BaseStore]]:
    first = await _open("postgres", request, tmp_path)
    second = await _open("postgres", request, tmp_path)
    try:
        yield first, second
    finally:
        await first.close()
        await second.close()


async def test_concurrent_claims_hand_each_due_chat_to_exactly_one_process(
        two: tuple[BaseStore, BaseStore]) -> None:
    first, second = two
    chats = [ChatKey("telegram", str(-n)) for n in range(60)]
    for chat in chats:
        await first.set_daily(chat, True)

    async def claim_all(store: BaseStore) -> list[str]:
        got: list[str] = []
        while batch := await store.claim_daily("telegram", DAY, limit=7):
            got += [chat_id for chat_id, _ in batch]
        return got

    a, b = await asyncio.gather(claim_all(first), claim_all(second))
    assert not set(a) & set(b)
    assert sorted(a + b) == sorted(c.chat_id for c in chats)
    assert len(a) + len(b) == len(chats)  # nobody got one twice from their own claims either
    # Leased, not yet marked: claimed again by neither while the leases last.
    assert await first.claim_daily("telegram", DAY) == []
    assert await second.claim_daily("telegram", DAY) == []
    # Each marks what it sent; the others' expired leases then hand out nothing twice.
    for store, got in ((first, a), (second, b)):
        for chat_id in got:
            await store.mark_daily_sent(ChatKey("telegram", chat_id), DAY)
    later = DAY + first.daily_lease
    assert await first.claim_daily("telegram", later) == []
    assert await second.claim_daily("telegram", later) == []


async def test_a_dead_claimers_chats_go_to_the_other_process_after_the_lease(
        two: tuple[BaseStore, BaseStore]) -> None:
    first, second = two
    chats = [ChatKey("telegram", str(-n)) for n in range(20)]
    for chat in chats:
        await first.set_daily(chat, True)
    dead = [c for c, _ in await first.claim_daily("telegram", DAY, limit=5)]  # never marked
    assert len(dead) == 5

    async def send_all(store: BaseStore, now: datetime) -> list[str]:
        got: list[str] = []
        while batch := await store.claim_daily("telegram", now, limit=7):
            for chat_id, _ in batch:
                await store.mark_daily_sent(ChatKey("telegram", chat_id), now)
                got.append(chat_id)
        return got

    live = await send_all(second, DAY)
    assert sorted(live + dead) == sorted(c.chat_id for c in chats) and not set(live) & set(dead)
    assert await send_all(second, DAY + second.daily_lease - timedelta(seconds=1)) == []
    assert sorted(await send_all(second, DAY + second.daily_lease)) == sorted(dead)
    assert await send_all(second, DAY + 2 * second.daily_lease) == []


async def test_concurrent_rotation_from_two_processes_never_repeats_within_a_round(
        two_pg: tuple[BaseStore, BaseStore]) -> None:
    first, second = two_pg
    facts = 12
    for _ in range(4):  # four rounds: each hands out every position exactly once
        calls = [store.next_rotation(CHAT, "hallyu", facts)
                 for _ in range(facts // 2) for store in (first, second)]
        assert sorted(await asyncio.gather(*calls)) == list(range(facts))


async def test_racing_votes_by_one_user_on_one_reply_record_exactly_one(
        two: tuple[BaseStore, BaseStore]) -> None:
    first, second = two
    replies = 25
    for n in range(replies):
        # The same vote from both processes at once, and from each of them twice.
        results = await asyncio.gather(*(
            store.record_feedback("telegram", "-100", f"reply-{n}", "user-a", "kpop?",
                                  "hallyu", "Q1")
            for store in (first, second, first, second)))
        assert sorted(results) == [False, False, False, True], n
    assert await first.wrong_total() == await second.wrong_total() == replies
    today = datetime.now(UTC).date()
    assert await second.activity(today) == [DayCount(today, "telegram", "wrong", replies)]
    assert [(w.count, w.questions) for w in await first.wrong_answers()] == [
        (replies, ("kpop?",))]


async def _read_soon(store: BaseStore, wanted: Callable[[ChatSettings], bool]) -> None:
    """The settings ``store`` reads satisfy ``wanted`` soon: a process's settings cache is
    dropped by a notification that may arrive a moment after the write returns."""
    for _ in range(1000):  # a bound for a hang, never a measure of speed
        if wanted(await store.chat_settings(CHAT)):
            return
        await asyncio.sleep(0.001)
    raise AssertionError(f"never read: {await store.chat_settings(CHAT)}")


async def test_a_setting_written_by_one_process_is_read_by_the_other(
        two_pg: tuple[BaseStore, BaseStore]) -> None:
    first, second = two_pg
    assert await second.chat_settings(CHAT) == ChatSettings()  # read, and cached
    await first.set_topic_enabled(CHAT, "trade", False)
    await _read_soon(second, lambda s: s.disabled == {"trade"})
    await first.set_cooldown(CHAT, 2, 9)
    await _read_soon(second, lambda s: (s.user_per_minute, s.chat_per_minute) == (2, 9))
    await second.set_daily(CHAT, True, time(7, 0), "Asia/Seoul")
    await _read_soon(first, lambda s: s.daily_time == time(7, 0))
    await first.set_language(CHAT, "ko")
    await _read_soon(second, lambda s: s.language == "ko")
    await second.set_language(CHAT, None)
    await _read_soon(first, lambda s: s.language is None)
    # Rotation and counts are shared too: one chat's turn goes on across processes.
    assert await first.next_rotation(CHAT, "hallyu", 5) == 0
    assert await second.next_rotation(CHAT, "hallyu", 5) == 1
    await first.record_usage("telegram", "hallyu")
    await second.record_usage("discord", "hallyu")
    await first.flush()
    assert [(t.topic, t.count) for t in await second.top_topics()] == [("hallyu", 2)]
    assert await first.user_salt() == await second.user_salt()
