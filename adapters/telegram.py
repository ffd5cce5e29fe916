"""The Telegram adapter: python-telegram-bot's Application wrapped around the core.

One MessageHandler turns every text message into an IncomingMessage (the core
parses commands itself, so ``/cmd@otherbot`` and deep links are decided in
one place); inline queries and the buttons under a fact ("Another fact", "Source",
"Not what I asked", "Show context") have their own handlers. factbot's own words go out in
each member's app language (``language_code``); the command menus are published per
language and per scope. ``serve`` runs it with long polling, or with a webhook when
a public URL is given, until the stop event is set.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dtm
import functools
import hashlib
import json
import logging
import os
import re
import secrets
import time
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from factbot.adapters.lifecycle import STOP_GRACE, raised_in, unless_stopped
from factbot.adapters.telegram_render import (
    CONTEXT,
    MORE,
    SOURCE,
    WRONG,
    ButtonPress,
    callback_data,
    parse_callback_data,
    render_html,
    render_plain,
)
from factbot.core import FactBot, Press
from factbot.errors import ConfigError, FactbotError, UnreachableError
from factbot.features.cooldown import Verdict
from factbot.features.daily import DAILY_IN_FLIGHT, ChatGone, SendThrottle
from factbot.i18n import ENGLISH, ENGLISH_STRINGS, LANGUAGES, Strings, strings, supported
from factbot.lru import LRU
from factbot.messages import IncomingMessage, Reply, ReplyKind, fact_key
from factbot.render import render_fact
from factbot.settings import (
    Secret,
    Settings,
    mask_log_records,
    mask_secrets,
    redact_url,
    token_forms,
)
from factbot.storage import ChatKey

if TYPE_CHECKING:
    from telegram import CallbackQuery, InlineKeyboardMarkup, MaybeInaccessibleMessage, Update
    from telegram.ext import Application, ContextTypes

log = logging.getLogger(__name__)

APOLOGY = ENGLISH_STRINGS("apology")  # each member gets it in their language
ONLY_FACT = ENGLISH_STRINGS("button.only_fact")
ADMIN_TTL = 60.0  # seconds to trust a getChatMember answer
ADMIN_CACHE_MAX = 10_000
MAX_COMMANDS = 100  # Telegram's limit for setMyCommands
# "Not what I asked" needs the question: a fact is sent as a reply to the member's message,
# which Telegram hands back with the press; this many recent (chat, message) -> question are
# also kept for a press whose message comes without it, and per (user, fact) for inline ones.
ASKED_KEPT = 10_000
# my_chat_member: the bot blocked, removed or added back (the chat lifecycle). Migrate
# service messages come as "message".
ALLOWED_UPDATES = ["message", "inline_query", "callback_query", "my_chat_member"]
# sendMessage connections: a few per concurrent update. The library default of 256
# loses throughput to pool contention (see bench/telegram.py and the README).
POOL_PER_UPDATE = 2
DEFAULT_LISTEN = "0.0.0.0:8443"
# How often serve() looks whether polling died on its own (a token revoked while running).
WATCH_SECONDS = 1.0
POLLING_TASK = "Updater:start_polling:polling_task"  # the name PTB gives its polling task
MAX_ERROR_DETAIL = 300  # characters of a server's answer shown in a start-up error


def protect_token(token: str) -> Callable[[], None]:
    """Keep the token, whole or its secret part, in any case, out of every log record.

    Returns the undo for shutdown. ``factbot run`` masks every configured secret already;
    this also covers serve() called on its own (the tests, the benchmarks).
    """
    httpx_logger = logging.getLogger("httpx")
    old_level = httpx_logger.level
    if httpx_logger.getEffectiveLevel() < logging.WARNING:
        # At INFO httpx prints every request URL, and Bot API URLs hold the token.
        httpx_logger.setLevel(logging.WARNING)
    unmask = mask_log_records(token_forms(token, "telegram"))

    def undo() -> None:
        unmask()
        httpx_logger.setLevel(old_level)

    return undo


def retry_seconds(value: int | float | dtm.timedelta) -> float:
    """RetryAfter.retry_after is seconds now and a timedelta in PTB's next major version."""
    return value.total_seconds() if isinstance(value, dtm.timedelta) else float(value)


# Bot API methods that post a message, counted against the bot token's sending limits.
_COUNTED = frozenset({"sendMessage", "editMessageText"})
BULK = "bulk"  # rate_limit_args of a broadcast send (the daily fact): replies go first


def _make_rate_limiter(max_retries: int, throttle: SendThrottle | None = None) -> Any:
    from telegram.error import RetryAfter
    from telegram.ext import BaseRateLimiter

    class RetryAfterLimiter(BaseRateLimiter[str]):
        """Keep messages within ``throttle`` (replies first, broadcasts with what is left);
        on a 429, hold every request for retry_after, then retry."""

        def __init__(self) -> None:
            self._resume_at = 0.0

        async def initialize(self) -> None:
            return None

        async def shutdown(self) -> None:
            return None

        async def process_request(
            self,
            callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any]
                                              | list[dict[str, Any]]]],
            args: Any, kwargs: dict[str, Any], endpoint: str, data: dict[str, Any],
            rate_limit_args: str | None,
        ) -> bool | dict[str, Any] | list[dict[str, Any]]:
            attempt = 0
            while True:
                wait = self._resume_at - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
                if throttle is not None and endpoint in _COUNTED:
                    chat = str(data.get("chat_id") or data.get("inline_message_id") or "")
                    # Telegram's group and channel ids are negative; 20 a minute applies there.
                    await throttle.wait(chat, bulk=rate_limit_args == BULK,
                                        group=chat.startswith(("-", "@")))
                try:
                    return await callback(*args, **kwargs)
                except RetryAfter as exc:
                    attempt += 1
                    delay = retry_seconds(exc.retry_after)
                    if attempt > max_retries:
                        raise
                    log.warning("flood control on %s: retrying in %.1f s (attempt %d of %d)",
                                endpoint, delay, attempt, max_retries)
                    self._resume_at = max(self._resume_at, time.monotonic() + delay)

    return RetryAfterLimiter()


class TelegramAdapter:
    """Connects one python-telegram-bot Application to the core."""

    name = "telegram"

    def __init__(self, bot: FactBot, application: Application[Any, Any, Any, Any, Any, Any]
                 ) -> None:
        self.bot = bot
        self.application = application
        self._admins: dict[tuple[str, str], tuple[float, bool]] = {}
        self._username_re: re.Pattern[str] | None = None
        # One keyboard per (language, topic, fact, asked): telegram objects are immutable.
        self._keyboards: dict[tuple[str, str, int | None, str, bool], InlineKeyboardMarkup] = {}
        # (chat id, our message id) -> (the question it answers, the member's message id).
        self._asked: LRU[tuple[str, int], tuple[str, int | None]] = LRU(ASKED_KEPT)
        # (user id, topic, fact) -> the inline query that offered that fact to that user.
        self._inline_asked: LRU[tuple[int, str, int | None], str] = LRU(ASKED_KEPT)
        self.api_watch: _ApiWatch | None = None  # build_application's, for the metrics
        # The bot token's sending limits, in the send path of replies and the daily round
        # alike (build_application's); the daily loop uses it rather than one of its own.
        self.throttle: SendThrottle | None = None

    # --- wiring ----------------------------------------------------------------

    def install(self) -> None:
        """Register the handlers, the error hook and the reload listener."""
        from telegram.ext import (
            CallbackQueryHandler,
            ChatMemberHandler,
            InlineQueryHandler,
            MessageHandler,
            filters,
        )

        app = self.application
        app.add_handler(MessageHandler(filters.UpdateType.MESSAGE & filters.TEXT,
                                       self.on_message))
        app.add_handler(InlineQueryHandler(self.on_inline_query))
        app.add_handler(CallbackQueryHandler(self.on_callback))
        app.add_handler(ChatMemberHandler(self.on_my_chat_member,
                                          ChatMemberHandler.MY_CHAT_MEMBER))
        app.add_handler(MessageHandler(filters.StatusUpdate.MIGRATE, self.on_migrate))
        app.add_error_handler(self.on_error)
        self.bot.reload_listeners.append(self.publish_commands)

    def uninstall(self) -> None:
        with contextlib.suppress(ValueError):
            self.bot.reload_listeners.remove(self.publish_commands)

    def set_connected(self, connected: bool, *, polling: bool = False) -> None:
        """Polling or the webhook started, or stopped: for /readyz and the metrics.

        While polling, each getUpdates that fails or gets through says so again.
        """
        if self.api_watch is not None:
            self.api_watch.polling = connected and polling
        if self.bot.metrics is not None:
            self.bot.metrics.set_connected(self.name, connected)

    @property
    def username(self) -> str:
        return self.application.bot.username

    async def publish_commands(self) -> None:
        """Publish the command menus: one per language (English as the default, for every
        app language without its own) and per scope (everyone; chat administrators, who
        also get the admin commands).

        The setMyCommands calls go out together; when any fails, the first failure (a
        rejected token before any other) is raised once all of them have been tried.
        """
        from telegram import (
            BotCommand,
            BotCommandScopeAllChatAdministrators,
            BotCommandScopeDefault,
        )
        from telegram.error import InvalidToken

        calls = []
        for language in LANGUAGES:
            topics = len(self.bot.topic_commands(language))
            for admins, scope in ((False, BotCommandScopeDefault()),
                                  (True, BotCommandScopeAllChatAdministrators())):
                menu = _fit(self.bot.commands(language, admins=admins), topics)
                commands = [BotCommand(name, description[:256] or name)
                            for name, description in menu]
                calls.append(self.application.bot.set_my_commands(
                    commands, scope=scope,
                    language_code=None if language == ENGLISH else language))
        results = await asyncio.gather(*calls, return_exceptions=True)
        failures = [r for r in results if isinstance(r, BaseException)]
        if failures:
            raise next((f for f in failures if isinstance(f, InvalidToken)), failures[0])

    # --- Platform protocol -----------------------------------------------------

    async def is_admin(self, message: IncomingMessage) -> bool:
        """Private chats belong to the user; in groups ask Telegram, caching the answer."""
        if not message.is_group:
            return True
        if message.user_id == message.chat_id:
            # An anonymous admin: on_message gives such a sender the group's own id (user
            # ids are positive, group ids negative, so no person can pose as one). Only
            # admins can post as the group, and getChatMember would ask about
            # GroupAnonymousBot, which is never an admin.
            return True
        from telegram.constants import ChatMemberStatus

        key = (message.chat_id, message.user_id)
        now = time.monotonic()
        cached = self._admins.get(key)
        if cached is not None and cached[0] > now:
            return cached[1]
        member = await self.application.bot.get_chat_member(_chat_ref(message.chat_id),
                                                             int(message.user_id))
        admin = member.status in (ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.OWNER)
        if len(self._admins) >= ADMIN_CACHE_MAX:
            self._admins.clear()
        self._admins[key] = (now + ADMIN_TTL, admin)
        return admin

    async def send(self, chat_id: str, reply: Reply) -> None:
        """Post a reply unprompted (the daily fact)."""
        if not await self._send(_chat_ref(chat_id), reply, bulk=True):
            raise ChatGone(chat_id)

    # --- handlers --------------------------------------------------------------

    async def on_message(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Answer a text message when it is meant for us."""
        message = update.message
        if message is None or message.text is None or message.from_user is None:
            return
        from telegram import MessageEntity
        from telegram.constants import ChatType

        chat = message.chat
        is_group = chat.type in (ChatType.GROUP, ChatType.SUPERGROUP)
        text = message.text
        command = any(e.type == MessageEntity.BOT_COMMAND and e.offset == 0
                      for e in message.entities) or text.startswith("/")
        mentioned = self._mentions_us(message)
        # An anonymous admin posts as the group itself (from: GroupAnonymousBot).
        as_group = is_group and message.sender_chat is not None \
            and message.sender_chat.id == chat.id
        replied = (message.reply_to_message is not None
                   and message.reply_to_message.from_user is not None
                   and message.reply_to_message.from_user.id == context.bot.id)
        if mentioned and not command:
            text = self._strip_mention(text)
        incoming = IncomingMessage(
            text=text, platform=self.name, chat_id=str(chat.id),
            user_id=str(chat.id) if as_group else str(message.from_user.id),
            is_group=is_group,
            # A command is judged by the core: known ones are answered, others' are not.
            addressed=not is_group or mentioned or replied,
            bot_username=self.username,
            # The member's app language; none for an admin posting as the group.
            language=None if as_group else message.from_user.language_code)
        await self._seen(incoming.chat_id)
        reply = await self.bot.handle(incoming, self)
        if reply is None:
            return
        fact = reply.kind is ReplyKind.FACT
        # A fact replies to the question, in private chats too: Telegram hands that message
        # back with a press of "Not what I asked", across processes and restarts.
        await self._send(chat.id, reply,
                         reply_to=message.message_id if is_group or fact else None,
                         thread_id=_thread_id(message),
                         question=self._strip_mention(message.text) if fact else None)

    async def on_inline_query(self, update: Update, context: ContextTypes.DEFAULT_TYPE
                              ) -> None:
        """Offer up to ten matching facts, or each topic's lead for an empty query."""
        query = update.inline_query
        if query is None:
            return
        from telegram import InlineQueryResultArticle, InputTextMessageContent
        from telegram.constants import ParseMode

        text = query.query[:256]
        results = []
        for reply in self.bot.search(text, limit=10, language=query.from_user.language_code):
            digest = hashlib.sha256(f"{reply.topic}:{reply.quote}".encode()).hexdigest()[:32]
            found = self.bot.topic(reply.topic) if reply.topic else None
            title = found[1].described(reply.language) if found else (reply.topic or "Fact")
            if text.strip() and reply.topic and reply.fact is not None:
                self._inline_asked[query.from_user.id, reply.topic, reply.fact] = text
            results.append(InlineQueryResultArticle(
                id=digest, title=title[:100], description=render_plain(reply)[:200],
                input_message_content=InputTextMessageContent(render_html(reply),
                                                              parse_mode=ParseMode.HTML),
                reply_markup=self._keyboard(reply)))
        # Personal: the buttons and titles are in this member's language, and Telegram
        # would otherwise hand the same answer to anyone typing the same query.
        await query.answer(results, cache_time=60, is_personal=True)

    async def on_callback(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """The buttons under a fact: "Another fact" gives the chat the topic's next fact,
        "Source" shows the citation, "Not what I asked" tells the curators (the presser
        alone sees the thanks), "Show context" shows the article's paragraph around it."""
        query = update.callback_query
        if query is None:
            return
        message = query.message
        t = await self._presser_strings(query.from_user.language_code,
                                        str(message.chat.id) if message else None)
        press = parse_callback_data(query.data)
        found = self.bot.topic(press.topic) if press is not None else None
        if press is None or found is None:
            await query.answer(t("button.gone"))
            return
        if press.action == SOURCE:
            await query.answer(t("button.source_alert", source=found[0].source.line())[:200],
                               show_alert=True)
        elif press.action == WRONG:
            await self._wrong(query, press, t)
        elif press.action == CONTEXT:
            await self._context(query, press, t)
        else:
            await self._more(query, press, t)

    async def _more(self, query: CallbackQuery, press: ButtonPress, t: Strings) -> None:
        """"Another fact": the topic's next fact, posted to the chat or edited in place."""
        found = self.bot.topic(press.topic)
        assert found is not None  # on_callback looked
        pack, topic = found
        if len(topic.facts) == 1:  # another post or edit would only repeat it
            await query.answer(t("button.only_fact"))
            return
        from telegram.constants import ChatType

        message = query.message
        if message is None:  # an inline message: in a group, every edit is seen by all
            verdict = self._inline_verdict(query)
            if verdict is not Verdict.ANSWER:
                await query.answer(t("slow_down")[:200] if verdict is Verdict.SLOW_DOWN
                                   else None)
                return
        if message is None and query.inline_message_id and press.shown is not None:
            # The inline message shows fact `shown`: the next one is sure to differ, where
            # the user's rotation may well land on the very fact on screen.
            fact = topic.facts[(press.shown + 1) % len(topic.facts)]
            await self._edit_inline(query, render_fact(pack, topic, fact, t=t), t)
            return
        if message is not None:
            is_group = message.chat.type in (ChatType.GROUP, ChatType.SUPERGROUP)
            chat_id = str(message.chat.id)
        else:  # a fact sent inline: we cannot post into that chat, only edit our message
            is_group, chat_id = False, f"inline:{query.from_user.id}"
        incoming = IncomingMessage(text=f"/{topic.command}", platform=self.name,
                                   chat_id=chat_id, user_id=str(query.from_user.id),
                                   is_group=is_group, addressed=True,
                                   bot_username=self.username, language=t.language)
        reply = await self.bot.handle(incoming, self)
        if reply is None or reply.kind is ReplyKind.SLOW_DOWN:
            await query.answer(reply.text[:200] if reply else None)
            return
        if message is not None:
            await query.answer()
            # Another answer to the same question: a reply to it, carrying it on.
            question, asked = self._asked_in(message)
            await self._send(message.chat.id, reply, reply_to=asked,
                             thread_id=_thread_id(message), question=question or None)
        elif query.inline_message_id:
            await self._edit_inline(query, reply, t)
        else:
            await query.answer()

    async def _wrong(self, query: CallbackQuery, press: ButtonPress, t: Strings) -> None:
        """"Not what I asked": the core records the vote (once per member and message, held
        to the cooldown); its thanks goes to the presser alone, as a toast."""
        message = query.message
        user = query.from_user
        if message is not None:
            chat_id, is_group = str(message.chat.id), _is_group(message)
            key = f"{chat_id}:{message.message_id}"
            question = self._asked_in(message)[0]
        elif query.inline_message_id:  # counted as a group chat of its own, as for presses
            chat_id = key = f"inline:{query.inline_message_id}"
            is_group = True
            question = self._inline_asked.get((user.id, press.topic, press.shown), "")
        else:
            await query.answer()
            return
        text = await self.bot.feedback(Press(
            self.name, chat_id, str(user.id), press.topic, press.shown, key=press.key,
            reply_key=key, question=question, language=t.language, is_group=is_group))
        await query.answer(text[:200], show_alert=False)

    async def _context(self, query: CallbackQuery, press: ButtonPress, t: Strings) -> None:
        """"Show context": the article's paragraph around the fact, as a reply to the fact
        in its chat, or in place of an inline message; held to the cooldown like a message."""
        message = query.message
        user = query.from_user
        if message is not None:
            chat_id, is_group = str(message.chat.id), _is_group(message)
        elif query.inline_message_id:
            chat_id, is_group = f"inline:{query.inline_message_id}", True
        else:
            await query.answer()
            return
        asked = Press(self.name, chat_id, str(user.id), press.topic, press.shown, key=press.key,
                      language=t.language, is_group=is_group)
        # In a chat, its own /cooldown (shared across processes); inline, the inline count.
        if message is None:
            verdict = self._inline_verdict(query)
        else:
            verdict = await self.bot.press_verdict(asked)
        if verdict is not Verdict.ANSWER:
            await query.answer(t("slow_down")[:200] if verdict is Verdict.SLOW_DOWN else None)
            return
        reply = self.bot.context(asked)
        if reply is None:  # the article or the topic changed since the fact was sent
            await query.answer(t("context.none")[:200])
            return
        if message is not None:
            await query.answer()
            await self._send(message.chat.id, reply, reply_to=message.message_id,
                             thread_id=_thread_id(message))
        else:
            # The inline message keeps the fact's buttons: "Another fact" moves on from it.
            await self._edit_inline(query, reply, t, same=None,
                                    keyboard=self._buttons(press.topic, press.shown,
                                                           reply.language, reply.context))

    async def _presser_strings(self, code: str | None, chat_id: str | None) -> Strings:
        """A presser's language: their app's, else their chat's /language, else English."""
        language = supported(code)
        if language is None and chat_id is not None:
            try:  # cached per chat by the store
                settings = await self.bot.store.chat_settings(ChatKey(self.name, chat_id))
            except Exception as exc:  # a toast in English rather than none
                log.debug("telegram: could not read chat %s's settings: %r", chat_id, exc)
            else:
                language = supported(settings.language)
        return strings(language)

    def _asked_in(self, message: MaybeInaccessibleMessage) -> tuple[str, int | None]:
        """The question a fact of ours answers, and the member's message that asked it.

        Telegram gives our message back with the one it replied to; where it does not (the
        question was deleted, the message is too old), this process may remember it.
        """
        from telegram import Message

        asked = message.reply_to_message if isinstance(message, Message) else None
        if asked is not None and asked.text and not (
                asked.from_user is not None and asked.from_user.id == self.application.bot.id):
            return self._strip_mention(asked.text), asked.message_id
        return self._asked.get((str(message.chat.id), message.message_id), ("", None))

    def _inline_verdict(self, query: CallbackQuery) -> Verdict:
        """The cooldown on presses on an inline message, counted as in a group chat.

        The bot never learns which chat an inline message is in, and it may be a busy
        group: each inline message counts as a chat of its own, the presser as its member.
        """
        if self.bot.limiter is None:
            return Verdict.ANSWER
        press = IncomingMessage(text="", platform=self.name,
                                chat_id=f"inline:{query.inline_message_id}",
                                user_id=str(query.from_user.id), is_group=True, addressed=True)
        return self.bot.limiter.check(press)

    async def _edit_inline(self, query: CallbackQuery, reply: Reply, t: Strings, *,
                           same: str | None = "button.only_fact",
                           keyboard: InlineKeyboardMarkup | None = None) -> None:
        """Show ``reply`` in place of an inline message, then answer the button press
        (with the text of ``same`` when it was on screen already)."""
        from telegram.constants import ParseMode
        from telegram.error import BadRequest

        try:
            await self.application.bot.edit_message_text(
                render_html(reply), inline_message_id=query.inline_message_id,
                parse_mode=ParseMode.HTML, reply_markup=keyboard or self._keyboard(reply))
        except BadRequest as exc:
            if "not modified" not in str(exc):
                raise
            # Telegram refuses an edit to the same text; the user saw nothing change.
            await query.answer(t(same) if same else None)
            return
        await query.answer()

    async def on_my_chat_member(self, update: Update, context: ContextTypes.DEFAULT_TYPE
                                ) -> None:
        """Stop a chat's daily fact when the bot is blocked or removed; note when it is back."""
        change = update.my_chat_member
        if change is None:
            return
        from telegram import ChatMemberRestricted
        from telegram.constants import ChatMemberStatus, ChatType

        chat_id = str(change.chat.id)
        member = change.new_chat_member
        if member.status in (ChatMemberStatus.LEFT, ChatMemberStatus.BANNED):
            how = "blocked" if change.chat.type == ChatType.PRIVATE else "removed"
            log.info("telegram: the bot was %s in chat %s (%s); no more daily facts there",
                     how, chat_id, member.status)
            await self._mark_left(chat_id, change.date)
        elif not isinstance(member, ChatMemberRestricted) or member.is_member:
            await self._mark_left(chat_id, None)  # added back: member, admin, or restricted

    async def on_migrate(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A group became a supergroup: its settings and daily fact move to the new id.

        Telegram says so twice, in the old group (migrate_to_chat_id) and in the new
        supergroup (migrate_from_chat_id); the second move finds nothing left to move.
        """
        message = update.effective_message
        if message is None:
            return
        if message.migrate_to_chat_id:
            await self._migrate(str(message.chat.id), str(message.migrate_to_chat_id))
        elif message.migrate_from_chat_id:
            await self._migrate(str(message.migrate_from_chat_id), str(message.chat.id))

    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Log the traceback, apologise where there is a chat, and keep running."""
        from telegram import Update
        from telegram.error import TelegramError

        update_id = update.update_id if isinstance(update, Update) else None
        log.error("telegram update %s failed", update_id, exc_info=context.error)
        metrics = self.bot.metrics
        if metrics is not None and not isinstance(context.error, TelegramError):
            metrics.platform_error(self.name, "other")  # a Bot API failure was counted already
        chat = update.effective_chat if isinstance(update, Update) else None
        if chat is None:
            return
        message = update.effective_message if isinstance(update, Update) else None
        user = update.effective_user if isinstance(update, Update) else None
        apology = strings(supported(user.language_code if user else None))("apology")
        try:
            await context.bot.send_message(chat.id, apology, message_thread_id=_thread_id(message))
        except Exception:
            log.warning("could not send the apology to chat %s", chat.id, exc_info=True)

    # --- helpers ---------------------------------------------------------------

    def _mentions_us(self, message: Any) -> bool:
        from telegram import MessageEntity

        ours = f"@{self.username}".casefold()
        for entity, text in message.parse_entities([MessageEntity.MENTION,
                                                    MessageEntity.TEXT_MENTION]).items():
            if entity.type == MessageEntity.MENTION and text.casefold() == ours:
                return True
            if entity.type == MessageEntity.TEXT_MENTION and entity.user is not None \
                    and entity.user.id == self.application.bot.id:
                return True
        return False

    def _strip_mention(self, text: str) -> str:
        if self._username_re is None:
            self._username_re = re.compile(rf"@{re.escape(self.username)}\b", re.IGNORECASE)
        return " ".join(self._username_re.sub(" ", text).split())

    def _keyboard(self, reply: Reply, *, asked: bool = True) -> InlineKeyboardMarkup | None:
        if reply.kind is not ReplyKind.FACT or not reply.topic:
            return None
        return self._buttons(reply.topic, reply.fact, reply.language, reply.quote, asked=asked)

    def _buttons(self, topic: str, index: int | None, language: str, quote: str | None, *,
                 asked: bool = True) -> InlineKeyboardMarkup:
        """The buttons under fact ``index`` of ``topic``, labelled in ``language``: two rows
        of two, so that the labels fit on a phone in every language. ``asked`` False: a fact
        nobody asked for (the daily fact), without "Not what I asked"."""
        fact = fact_key(quote) if quote else ""
        key = (language, topic, index, fact, asked)
        keyboard = self._keyboards.get(key)
        if keyboard is None:
            from telegram import InlineKeyboardButton, InlineKeyboardMarkup

            t = strings(language)
            # callback_data is at most 64 bytes: "more:" + a 32-character command + ":N".
            rows = [[
                InlineKeyboardButton(t("button.more"),
                                     callback_data=callback_data(MORE, topic, index)),
                InlineKeyboardButton(t("button.source"),
                                     callback_data=callback_data(SOURCE, topic)),
            ]]
            if index is not None:  # the other two name the fact
                context = InlineKeyboardButton(
                    t("button.context"), callback_data=callback_data(CONTEXT, topic, index, fact))
                rows.append([InlineKeyboardButton(
                    t("button.wrong"), callback_data=callback_data(WRONG, topic, index, fact)),
                    context] if asked else [context])
            keyboard = InlineKeyboardMarkup(rows)
            if len(self._keyboards) < ADMIN_CACHE_MAX:
                self._keyboards[key] = keyboard
        return keyboard

    # --- the chat lifecycle ----------------------------------------------------------

    async def _seen(self, chat_id: str) -> None:
        """A message from a chat marked left: the bot is there again (a missed update)."""
        try:  # cached per chat by the store, and the core reads the same settings next
            settings = await self.bot.store.chat_settings(ChatKey(self.name, chat_id))
        except Exception as exc:  # the core meets the same failure next, and reports it
            log.debug("telegram: could not read chat %s's settings: %r", chat_id, exc)
            return
        if settings.left_at is not None:
            await self._mark_left(chat_id, None)

    async def _mark_left(self, chat_id: str, when: dtm.datetime | None) -> None:
        """Record that the bot left the chat at ``when`` (which stops its daily fact), or not."""
        try:
            await self.bot.store.set_left(ChatKey(self.name, chat_id), when)
        except Exception as exc:  # the store logs its own failures; this chat is one line
            log.warning("telegram: could not record the bot's membership of chat %s: %r",
                        chat_id, exc)

    async def _migrate(self, old: str, new: str) -> None:
        log.info("telegram: group %s is now supergroup %s; its settings move with it", old, new)
        try:
            await self.bot.store.migrate_chat(ChatKey(self.name, old), ChatKey(self.name, new))
        except Exception as exc:  # the store logs its own failures; this chat is one line
            log.warning("telegram: could not move the settings of chat %s to %s: %r",
                        old, new, exc)

    async def _send(self, chat_id: int | str, reply: Reply, reply_to: int | None = None,
                    thread_id: int | None = None, *, bulk: bool = False,
                    question: str | None = None) -> bool:
        """Post ``reply``; False when the chat no longer takes the bot's messages.

        A 403 (blocked, removed) stops the chat's daily fact, in one log line. A group
        upgraded to a supergroup has its settings moved and the message sent there, once.
        ``question``: what the reply answers, remembered for "Not what I asked".
        """
        from telegram.error import ChatMigrated, Forbidden

        try:
            try:
                sent = await self._post(chat_id, reply, reply_to, thread_id, bulk=bulk)
            except ChatMigrated as exc:
                old, chat_id = chat_id, exc.new_chat_id
                await self._migrate(str(old), str(chat_id))
                # Once, to the new id: the message replied to and its topic were the old chat's.
                reply_to = None
                sent = await self._post(chat_id, reply, None, None, bulk=bulk)
        except Forbidden as exc:
            log.info("telegram: chat %s refused the bot's message (%s); no more daily facts "
                     "there", chat_id, exc.message)
            await self._mark_left(str(chat_id), dtm.datetime.now(dtm.UTC))
            return False
        if question:
            self._asked[str(chat_id), sent] = (question, reply_to)
        return True

    async def _post(self, chat_id: int | str, reply: Reply, reply_to: int | None,
                    thread_id: int | None, *, bulk: bool = False) -> int:
        """Send one message; its message id."""
        from telegram import ReplyParameters
        from telegram.constants import ParseMode

        parameters = None if reply_to is None else ReplyParameters(
            reply_to, allow_sending_without_reply=True)
        message = await self.application.bot.send_message(
            chat_id, render_html(reply), parse_mode=ParseMode.HTML,
            # A broadcast (the daily fact) answers no question: no "Not what I asked".
            reply_markup=self._keyboard(reply, asked=not bulk), reply_parameters=parameters,
            message_thread_id=thread_id, rate_limit_args=BULK if bulk else None)
        return message.message_id


def _fit(menu: list[tuple[str, str]], topics: int) -> list[tuple[str, str]]:
    """A menu within MAX_COMMANDS: topics come first, so the built-ins are kept whole and
    the last topics left out (they still work when typed)."""
    if len(menu) <= MAX_COMMANDS:
        return menu
    builtins = menu[topics:]
    return menu[:max(0, MAX_COMMANDS - len(builtins))] + builtins[:MAX_COMMANDS]


def _is_group(message: MaybeInaccessibleMessage) -> bool:
    from telegram.constants import ChatType

    return message.chat.type in (ChatType.GROUP, ChatType.SUPERGROUP)


def _thread_id(message: object) -> int | None:
    """The forum topic a message is in, so an answer lands there and not in General."""
    from telegram import Message

    if isinstance(message, Message) and message.is_topic_message:
        return message.message_thread_id
    return None


def _chat_ref(chat_id: str) -> int | str:
    """Telegram chat ids are integers; ``@channel`` names stay text."""
    return int(chat_id) if chat_id.lstrip("-").isdigit() else chat_id


def status_kind(status: int | None) -> str | None:
    """What a Bot API answer's HTTP status means: None for success, else the kind of
    failure as factbot.metrics.ERROR_KINDS names them (None status: no answer at all)."""
    if status is not None and 200 <= status <= 299:
        return None
    if status is None or status >= 500:
        return "network"
    if status == 429:
        return "rate_limited"
    if status in (401, 403, 404):  # 401 and 404: the token was rejected
        return "forbidden"
    if status == 409:  # another process polls, or a webhook is set
        return "conflict"
    return "bad_request" if status == 400 else "other"


class _ApiWatch:
    """Counts failed Bot API calls by kind and follows whether polling gets through.

    Made before the adapter (the Application's requests come first), it reads the bot's
    metrics at each call: none, nothing to do.
    """

    def __init__(self, bot: FactBot) -> None:
        self.bot = bot
        self.polling = False  # set by serve() once polling has started

    def answered(self, status: int | None, polled: bool) -> None:
        metrics = self.bot.metrics
        if metrics is None:
            return
        kind = status_kind(status)
        if kind is not None:
            metrics.platform_error(TelegramAdapter.name, kind)
        if polled and self.polling:
            metrics.set_connected(TelegramAdapter.name, kind is None)


def _make_request(connection_pool_size: int,
                  watch: Callable[[int | None], None] | None = None) -> Any:
    """PTB's HTTPX request, where a body that is not JSON is an error without a traceback.

    PTB logs such a body (a proxy's error page) with a traceback at ERROR before raising;
    its docs invite overriding ``parse_json_payload``. The error raised is the same.
    ``watch`` hears how each call ended: its HTTP status, or None when nothing answered.
    """
    from telegram.error import TelegramError
    from telegram.request import HTTPXRequest

    class JSONRequest(HTTPXRequest):
        async def do_request(self, *args: Any, **kwargs: Any) -> tuple[int, bytes]:
            if watch is None:
                return await super().do_request(*args, **kwargs)
            try:
                status, payload = await super().do_request(*args, **kwargs)
            except Exception:  # no connection, a timeout: PTB raises a NetworkError
                watch(None)
                raise
            watch(status)
            return status, payload

        @staticmethod
        def parse_json_payload(payload: bytes) -> dict[str, Any]:
            try:
                parsed: dict[str, Any] = json.loads(payload.decode("utf-8", "replace"))
            except ValueError:
                log.debug("telegram: a Bot API answer is not JSON (%d bytes)", len(payload))
                raise TelegramError("Invalid server response") from None
            return parsed

    return JSONRequest(connection_pool_size=connection_pool_size)


def build_application(bot: FactBot, token: str | Secret, *, base_url: str = "",
                      concurrent_updates: int = 8, pool_size: int | None = None,
                      max_retries: int = 3) -> tuple[Application[Any, Any, Any, Any, Any, Any],
                                                      TelegramAdapter]:
    """Build the Application and its adapter with handlers installed; nothing connects yet."""
    from telegram.ext import Application

    secret = token.reveal() if isinstance(token, Secret) else token
    workers = max(1, concurrent_updates)
    watch = _ApiWatch(bot)
    throttle = SendThrottle()
    builder = (Application.builder().token(secret)
               .concurrent_updates(workers if workers > 1 else False)
               .request(_make_request(pool_size or max(4, POOL_PER_UPDATE * workers)
                                      + DAILY_IN_FLIGHT,
                                      functools.partial(watch.answered, polled=False)))
               # PTB's default for long polling
               .get_updates_request(_make_request(1, functools.partial(watch.answered,
                                                                       polled=True)))
               .rate_limiter(_make_rate_limiter(max_retries, throttle)))
    if base_url:
        builder = builder.base_url(base_url)
        if base_url.rstrip("/").endswith("/bot"):
            builder = builder.base_file_url(base_url.rstrip("/")[:-4] + "/file/bot")
    application = builder.build()
    adapter = TelegramAdapter(bot, application)
    adapter.api_watch = watch
    adapter.throttle = throttle
    adapter.install()
    return application, adapter


def _polling_stopped(polling: asyncio.Task[Any] | None) -> ConfigError:
    """The one-line error for polling that ended on its own, never holding the token."""
    from telegram.error import InvalidToken

    failure = polling.exception() if polling is not None and not polling.cancelled() else None
    if isinstance(failure, InvalidToken):
        return ConfigError("TELEGRAM_BOT_TOKEN was rejected by the Bot API while running "
                           "(revoked or replaced? check the token from @BotFather)")
    # The type only: a library message may hold a request URL, and those hold the token.
    return ConfigError("telegram polling stopped unexpectedly"
                       + (f" ({type(failure).__name__})" if failure else ""))


def _api_error(exc: Exception, token: str) -> str:
    """What the Bot API (or a proxy in front of it) answered, on one line, token masked.

    A server may echo the request path, which holds the token: a proxy's 502 page in
    full, a 400 description lower-cased by python-telegram-bot.
    """
    text = " ".join(mask_secrets(str(exc), token_forms(token, "telegram")).split())
    if len(text) > MAX_ERROR_DETAIL:  # a whole HTML page is no error line
        text = text[:MAX_ERROR_DETAIL - 1] + "…"
    return text or type(exc).__name__


def _start_up_error(exc: Exception, base_url: str, token: str) -> FactbotError:
    """The one-line error for a Bot API that failed getMe at start-up."""
    from telegram.error import Forbidden, InvalidToken, NetworkError, TelegramError

    if isinstance(exc, InvalidToken):  # its message holds the token: never show it
        return ConfigError("TELEGRAM_BOT_TOKEN was rejected by the Bot API "
                           "(check the token from @BotFather)")
    if isinstance(exc, Forbidden):
        return ConfigError("the Bot API refused TELEGRAM_BOT_TOKEN (403 Forbidden): "
                           "check the token from @BotFather")
    where = redact_url(base_url) or "https://api.telegram.org"
    if isinstance(exc, NetworkError):  # no connection, a timeout, a 5xx
        return UnreachableError(f"cannot reach the Telegram Bot API at {where} "
                                f"(TELEGRAM_API_BASE_URL): {_api_error(exc, token)}")
    # A 200 whose body is not JSON, JSON that is no Bot API answer, a 400 or a 429: a
    # proxy or an outage in between, which a later start may not meet.
    detail = _api_error(exc, token)
    if not isinstance(exc, TelegramError):  # KeyError 'result' says little on its own
        detail = f"{type(exc).__name__}: {detail}"
    return UnreachableError(f"the Telegram Bot API at {where} (TELEGRAM_API_BASE_URL) "
                            f"gave an answer factbot cannot use: {detail}")


async def _close_requests(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Close the HTTP clients of an Application whose initialize() failed or was stopped.

    ``Bot.shutdown`` does nothing for a bot whose getMe never succeeded.
    """
    await application.bot.shutdown()
    await application.bot.request.shutdown()


async def _stop_updater(updater: Any, polling: asyncio.Task[Any] | None) -> None:
    """Stop polling or the webhook within about 2 x STOP_GRACE, whatever the Bot API does.

    PTB's stop ends a long poll at once, but a polling loop asleep in its back-off after
    errors (up to 30 s) wakes only at the end of it; and stopping confirms the offset
    with one more getUpdates, which an unwell Bot API may hold for the read timeout.
    """
    from telegram.error import InvalidToken

    stopping = asyncio.ensure_future(updater.stop())
    if polling is not None and not polling.done():
        # The stop event ends a long poll within a few loop turns; still running after
        # the grace, the loop is asleep between retries, and cancelling it wakes it.
        await asyncio.wait({polling}, timeout=STOP_GRACE / 2)
        if not polling.done():
            polling.cancel()
    done, _ = await asyncio.wait({stopping}, timeout=STOP_GRACE)
    if not done:
        log.warning("telegram: the Bot API did not answer the last getUpdates within %.0f s; "
                    "updates it sent last may come again after a restart", STOP_GRACE)
        stopping.cancel()
        await asyncio.gather(stopping, return_exceptions=True)
        return
    try:
        stopping.result()
    except InvalidToken:  # stop() re-raises the polling task's end: reported
        log.debug("telegram: polling had ended on a rejected token")


def _check_worker(register: bool, webhook_url: str | None, secret: Secret) -> None:
    """Refuse a worker (register_webhook false) that could not share the one webhook."""
    if register:
        return
    if not webhook_url:  # polling deletes the webhook the other workers serve
        raise ConfigError("telegram.register_webhook is false, which is for webhook workers: "
                          "set telegram.webhook_url (FACTBOT_TELEGRAM_WEBHOOK_URL) too")
    if not secret:  # a random one per worker: Telegram knows none of them, every POST a 403
        raise ConfigError("telegram.register_webhook is false but telegram.webhook_secret "
                          "(FACTBOT_TELEGRAM_WEBHOOK_SECRET) is not set: every worker needs "
                          "the secret `factbot telegram set-webhook` registered")


def _worker_updater(application: Application[Any, Any, Any, Any, Any, Any]) -> Any:
    """An Updater whose start_webhook serves without calling setWebhook.

    PTB's start_webhook always registers the webhook (its ``_bootstrap``), and N workers
    would each register it again; here `factbot telegram set-webhook` registers it once.
    Only the bootstrap is left out: the server and its secret check are PTB's own.
    """
    from telegram.ext import Updater

    class WorkerUpdater(Updater):
        __slots__ = ()

        async def _bootstrap(self, *args: Any, **kwargs: Any) -> None:
            log.debug("telegram: webhook registered elsewhere (register_webhook: false)")

    return WorkerUpdater(bot=application.bot, update_queue=application.update_queue)


async def set_webhook(settings: Settings, webhook_url: str | None = None) -> str:
    """Register the webhook URL and secret with Telegram once; the line to print."""
    from telegram import Bot
    from telegram.error import BadRequest, InvalidToken, TelegramError

    config = settings.telegram
    token = config.token
    if not token:
        raise ConfigError("TELEGRAM_BOT_TOKEN is not set (nor telegram.token in the config file)")
    url = webhook_url or config.webhook_url
    if not url:
        raise ConfigError("set-webhook needs --webhook-url or telegram.webhook_url "
                          "(FACTBOT_TELEGRAM_WEBHOOK_URL)")
    if urlsplit(url).scheme != "https":
        raise ConfigError(f"--webhook-url {url!r} must be an https:// URL")
    if not config.webhook_secret:  # workers check the secret: they must know it beforehand
        raise ConfigError("set-webhook needs telegram.webhook_secret "
                          "(FACTBOT_TELEGRAM_WEBHOOK_SECRET), the one every worker is given")
    os.environ.setdefault("PTB_TIMEDELTA", "true")
    undo_filter = protect_token(token.reveal())
    kwargs: dict[str, Any] = {"base_url": config.api_base_url} if config.api_base_url else {}
    tbot = Bot(token.reveal(), request=_make_request(1), **kwargs)
    try:
        try:
            await tbot.initialize()  # getMe: a rejected token is told apart from an outage
            await tbot.set_webhook(url=url, secret_token=config.webhook_secret.reveal(),
                                   allowed_updates=ALLOWED_UPDATES)
        except BadRequest as exc:  # Telegram refused the URL (not https, a bad port ...)
            if isinstance(exc, InvalidToken):
                raise _start_up_error(exc, config.api_base_url, token) from None
            raise ConfigError(f"Telegram refused the webhook {url}: "
                              f"{_api_error(exc, token.reveal())}") from None
        except (TelegramError, ValueError, KeyError) as exc:
            raise _start_up_error(exc, config.api_base_url, token) from None
        finally:
            await _close_requests_of(tbot)
    finally:
        undo_filter()
    return (f"telegram: webhook set to {url} with the secret from telegram.webhook_secret; "
            f"start the workers with register_webhook: false")


async def _close_requests_of(tbot: Any) -> None:
    with contextlib.suppress(Exception):  # closing after a failure: the failure is reported
        await tbot.shutdown()
    await tbot.request.shutdown()


def set_webhook_main(args: argparse.Namespace, settings: Settings) -> int:
    """``factbot telegram set-webhook``: one line out, exit 2 or 75 on failure."""
    print(asyncio.run(set_webhook(settings, getattr(args, "webhook_url", None))))
    return 0


def _listen(value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(f"--listen {value!r} must be HOST:PORT, e.g. 0.0.0.0:8443")
    return host.strip("[]"), int(port)


async def serve(bot: FactBot, settings: Settings, args: argparse.Namespace,
                stop: asyncio.Event) -> None:
    """Run the Telegram bot until ``stop`` is set, then shut down cleanly."""
    import telegram
    from telegram.error import InvalidToken, TelegramError

    # Opt into PTB's timedelta periods: RetryAfter otherwise warns on every 429.
    os.environ.setdefault("PTB_TIMEDELTA", "true")
    config = settings.telegram
    token = config.token
    if not token:
        raise ConfigError("TELEGRAM_BOT_TOKEN is not set (nor telegram.token in the config file)")
    webhook_url = getattr(args, "webhook_url", None) or config.webhook_url
    listen = getattr(args, "listen", None) or config.listen
    if listen and not webhook_url:
        raise ConfigError("--listen needs --webhook-url (the public URL Telegram posts to)")
    if webhook_url and urlsplit(webhook_url).scheme != "https":
        raise ConfigError(f"--webhook-url {webhook_url!r} must be an https:// URL")
    _check_worker(config.register_webhook, webhook_url, config.webhook_secret)
    host, port = _listen(listen or DEFAULT_LISTEN)

    undo_filter = protect_token(token.reveal())
    application, adapter = build_application(bot, token, base_url=config.api_base_url,
                                              concurrent_updates=config.concurrent_updates)
    if not config.register_webhook:
        application.updater = _worker_updater(application)
    daily: asyncio.Task[None] | None = None
    try:
        try:
            # Racing the stop: a Bot API that never answers holds getMe for the read timeout.
            initialized = await unless_stopped(application.initialize(), stop)
        except (TelegramError, ValueError, TypeError, KeyError) as exc:
            await _close_requests(application)
            if not isinstance(exc, TelegramError) and not raised_in(exc, telegram, json):
                raise  # not PTB reading an answer: a bug of factbot's, with its traceback
            raise _start_up_error(exc, config.api_base_url, token) from None
        if not initialized:
            await _close_requests(application)
            return
        updater = application.updater
        assert updater is not None  # the builder always makes one

        async def start() -> None:
            try:
                await adapter.publish_commands()
            except InvalidToken:
                raise
            except TelegramError as exc:  # the menu is cosmetic: commands work without it
                log.warning("telegram: could not set a command menu, carrying on (commands "
                            "work without it): %s", exc)
            if webhook_url:
                secret = config.webhook_secret.reveal() or secrets.token_urlsafe(32)
                await updater.start_webhook(
                    listen=host, port=port, url_path=urlsplit(webhook_url).path.lstrip("/"),
                    webhook_url=webhook_url, secret_token=secret,
                    allowed_updates=ALLOWED_UPDATES)
                log.info("telegram: @%s serving a webhook at %s (listening on %s:%d)",
                         adapter.username, webhook_url, host, port)
            else:
                await updater.start_polling(allowed_updates=ALLOWED_UPDATES,
                                            bootstrap_retries=-1)
                log.info("telegram: @%s polling for updates", adapter.username)
            await application.start()
            adapter.set_connected(True, polling=not webhook_url)

        polling: asyncio.Task[Any] | None = None
        try:
            before = asyncio.all_tasks()
            # Racing the stop too: PTB retries its bootstrap (deleteWebhook) without end.
            started = await unless_stopped(start(), stop)
            # PTB ends its polling task on InvalidToken but leaves updater.running
            # true, so the task itself is what tells us polling has stopped.
            polling = next((t for t in asyncio.all_tasks() - before
                            if t.get_name() == POLLING_TASK), None)
            if not started:
                return
            daily = asyncio.create_task(bot.daily.loop(adapter), name="telegram-daily")
            while not stop.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), WATCH_SECONDS)
                if not stop.is_set() and (not updater.running
                                          or (polling is not None and polling.done())):
                    raise _polling_stopped(polling)
        finally:
            adapter.set_connected(False)
            if daily is not None:
                daily.cancel()
                for result in await asyncio.gather(daily, return_exceptions=True):
                    if isinstance(result, Exception):
                        log.error("the daily-fact loop failed", exc_info=result)
            if updater.running:
                await _stop_updater(updater, polling)
            if application.running:
                await application.stop()
            await application.shutdown()
    finally:
        adapter.uninstall()
        undo_filter()
