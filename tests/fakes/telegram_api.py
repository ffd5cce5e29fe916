"""A fake Telegram Bot API server on 127.0.0.1, for the real python-telegram-bot to talk to.

It keeps an update queue served by long-polling ``getUpdates`` (honouring
``offset``, ``limit`` and ``timeout``), records every call the bot makes, and can
fail chosen methods with a status code (429 with ``retry_after``, 500) to test
recovery, or answer them as a proxy or server that repeats the request path, token and
all (``fail_echoing_path``). A chat can refuse every sendMessage to it as Telegram does when
the bot was blocked or removed (``block``: 403) or the group became a supergroup
(``upgrade_group``: 400 with ``migrate_to_chat_id``); ``my_chat_member`` and
``migrate_updates`` build the updates Telegram sends about it. Like Telegram it refuses a
message over 4096 characters and an edit that leaves a message's text as it was (it remembers
the texts it sent, edited or was told about with ``chose_inline``). Point the bot at it with
``base_url=api.base_url``.

Members have an app language (``language=`` on the update builders: ``language_code``). A
message sent in reply to a member's message carries it as ``reply_to_message``, as Telegram's
do, and ``callback(data, message=posted)`` presses a button on a message the bot sent
(``posted``). ``setMyCommands`` is checked as Telegram checks it and each menu kept in
``menus`` by (scope type, language code); callback data over 64 bytes and alerts over 200
characters are refused.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import itertools
import json
import re
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

from aiohttp import web

BOT_ID = 777000111
GROUP_ANONYMOUS_BOT = 1087968824  # the "from" of messages anonymous group admins send
BOT_USERNAME = "factbot_test_bot"
MAX_TEXT = 4096  # Telegram's limit, in UTF-16 code units of the text after entity parsing
# What the Bot API answers a send to a chat the bot can no longer post in, word for word.
BLOCKED = "Forbidden: bot was blocked by the user"
KICKED = "Forbidden: bot was kicked from the group chat"
NOT_MEMBER = "Forbidden: bot is not a member of the supergroup chat"
UPGRADED = "Bad Request: group chat was upgraded to a supergroup chat"

# python-telegram-bot form-encodes: plain strings raw, everything else JSON-encoded.
_JSON_FIELDS = {"reply_markup", "results", "commands", "entities", "reply_parameters",
                "allowed_updates", "link_preview_options", "button", "scope"}
# Update types Telegram sends only to a bot that names them in allowed_updates.
_ASKED_FOR_ONLY = {"chat_member", "message_reaction", "message_reaction_count"}
_INT_FIELDS = {"offset", "limit", "message_id", "user_id", "cache_time", "max_connections",
               "message_thread_id"}
MAX_COMMANDS = 100  # setMyCommands: Telegram's limits
_COMMAND = re.compile(r"[a-z0-9_]{1,32}", re.ASCII)
MAX_DESCRIPTION = 256
MAX_CALLBACK_DATA = 64  # bytes
MAX_ANSWER_TEXT = 200  # answerCallbackQuery text, characters


@dataclass
class Call:
    """One Bot API request as the fake received it, and when (on the fake's ``clock``)."""

    method: str
    params: dict[str, Any]
    at: float = field(default_factory=time.perf_counter)
    status: int = 200  # what the fake answered


@dataclass
class Failure:
    status: int
    retry_after: int | None
    times: int
    description: str | None = None
    body: bytes | None = None  # answered as is, with the status
    hang: bool = False  # never answered (until the fake closes)
    echo: str = ""  # "html": a proxy's 502 page; "json": a 400 description; both show the path


class ApiError(Exception):
    """Raised by a fake method to answer with a Bot API error."""

    def __init__(self, status: int, description: str,
                 parameters: dict[str, Any] | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters


class _Visible(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text = ""

    def handle_data(self, data: str) -> None:
        self.text += data


def visible_length(text: str, parse_mode: str | None) -> int:
    """The message's length as Telegram counts it: UTF-16 units of the shown text."""
    if parse_mode == "HTML":
        reader = _Visible()
        reader.feed(text)
        reader.close()
        text = reader.text
    return len(text.encode("utf-16-le")) // 2


def _decode(params: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in params.items():
        if key in _JSON_FIELDS:
            out[key] = json.loads(value)
        elif key in _INT_FIELDS or (key == "chat_id" and value.lstrip("-").isdigit()):
            out[key] = int(value)
        elif key == "timeout":
            out[key] = float(value)
        elif value in ("true", "false") and key.startswith(("is_", "show_", "disable_",
                                                            "drop_", "allow_")):
            out[key] = value == "true"
        else:
            out[key] = value
    return out


class FakeBotAPI:
    """The Bot API as far as factbot uses it, with a queue of updates to hand out."""

    def __init__(self, token: str = "123456:TEST-fake-token", *, delay: float = 0.0,
                 username: str = BOT_USERNAME, bot_id: int = BOT_ID, port: int = 0,
                 control: bool = False, clock: Callable[[], float] = time.perf_counter
                 ) -> None:
        self.token = token
        # Stamps each call and delivery: the benchmark's timings; a test's own clock, to
        # assert when a request came without reading the wall clock.
        self.clock = clock
        self.delay = delay
        self.username = username
        self.bot_id = bot_id
        self.calls: list[Call] = []
        self.ok_counts: dict[str, int] = {}  # successful calls per method
        self.updates: list[dict[str, Any]] = []
        self.delivered: dict[int, int] = {}  # update_id -> times handed out
        self.delivered_at: dict[int, float] = {}
        self.admins: set[tuple[int, int]] = set()  # (chat_id, user_id)
        self.webhook: dict[str, Any] | None = None
        self.texts: dict[tuple[int, int], str] = {}  # (chat_id, message_id) -> current text
        self.inline_texts: dict[str, str] = {}  # inline_message_id -> current text
        # Messages as Telegram keeps them: members' (built by message()) and the bot's
        # (sendMessage), by (chat_id, message_id); ``posted``: the bot's, in order.
        self.messages: dict[tuple[int, int], dict[str, Any]] = {}
        self.posted: list[dict[str, Any]] = []
        # The command menus set, by (scope type, language code or ""): the commands.
        self.menus: dict[tuple[str, str], list[dict[str, str]]] = {}
        self.refused: dict[int, ApiError] = {}  # chat_id -> the error every send there gets
        # The update types getUpdates hands out: the last allowed_updates asked for, kept as
        # Telegram keeps it; until then (or for []), every type but those one must ask for.
        self.allowed_updates: list[str] = []
        self._failures: dict[str, list[Failure]] = {}
        self.echoed: list[str] = []  # bodies of the answers that repeated the request path
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1000)
        self._changed = asyncio.Condition()
        self._closing = False
        self._released = asyncio.Event()  # ends every hanging call, when the fake closes
        self._runner: web.AppRunner | None = None
        # Flood control as Telegram applies it, off unless set: messages (sendMessage,
        # editMessageText) over ``per_second`` in any second, or over ``per_group_minute`` in
        # a minute to one group, are answered 429 with retry_after 1 (counted on arrival).
        self.per_second: int | None = None
        self.per_group_minute: int | None = None
        self._posted: collections.deque[float] = collections.deque()
        self._posted_in: dict[int, collections.deque[float]] = {}
        self.flooded = 0  # messages answered 429 by that flood control
        self.port = port
        self.control = control  # /_fake/* routes, for driving the fake from another process

    # --- lifecycle -------------------------------------------------------------

    async def start(self) -> FakeBotAPI:
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        if self.control:
            app.router.add_post("/_fake/push", self._control_push)
            app.router.add_post("/_fake/reset", self._control_reset)
            app.router.add_get("/_fake/wait", self._control_wait)
            app.router.add_get("/_fake/timings", self._control_timings)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self.port))
        self.port = sock.getsockname()[1]
        await web.SockSite(self._runner, sock).start()
        return self

    async def close(self) -> None:
        """Release pending long polls, then stop serving."""
        self._closing = True
        self._released.set()
        async with self._changed:
            self._changed.notify_all()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeBotAPI:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    # --- test controls ---------------------------------------------------------

    def fail(self, method: str, status: int, *, retry_after: int | None = None,
             times: int = 1, description: str | None = None) -> None:
        """Answer the next ``times`` calls of ``method`` with an error."""
        self._failures.setdefault(method, []).append(
            Failure(status, retry_after, times, description))

    def garble(self, method: str, *, times: int = 1,
               body: bytes = b"<html><body>upstream error</body></html>") -> None:
        """Answer the next ``times`` calls of ``method`` 200 with ``body``: by default one
        that is not JSON, else JSON that is no Bot API answer."""
        self._failures.setdefault(method, []).append(Failure(200, None, times, body=body))

    def hang(self, method: str, *, times: int = 1) -> None:
        """Never answer the next ``times`` calls of ``method`` (until the fake closes)."""
        self._failures.setdefault(method, []).append(Failure(503, None, times, hang=True))

    def fail_echoing_path(self, method: str, echo: str, *, times: int = 1) -> None:
        """Answer ``method`` with an error that repeats the request path, token included.

        ``echo="html"``: a reverse proxy's 502 HTML page; ``echo="json"``: a 400 Bot API
        error whose description quotes the path. Each body sent is kept in ``echoed``.
        """
        if echo not in ("html", "json"):
            raise ValueError(f"echo must be 'html' or 'json', not {echo!r}")
        status = 502 if echo == "html" else 400
        self._failures.setdefault(method, []).append(Failure(status, None, times, echo=echo))

    def refuse_chat(self, chat_id: int, status: int, description: str,
                    parameters: dict[str, Any] | None = None) -> None:
        """Answer every sendMessage to ``chat_id`` with this error, until ``allow_chat``."""
        self.refused[chat_id] = ApiError(status, description, parameters)

    def allow_chat(self, chat_id: int) -> None:
        self.refused.pop(chat_id, None)

    def block(self, chat_id: int, description: str = BLOCKED) -> None:
        """The bot was blocked by the user, or removed from the group (``description``)."""
        self.refuse_chat(chat_id, 403, description)

    def upgrade_group(self, old: int, new: int) -> None:
        """The group ``old`` became the supergroup ``new``: sends to ``old`` get the 400."""
        self.refuse_chat(old, 400, UPGRADED, {"migrate_to_chat_id": new})

    def chose_inline(self, result: dict[str, Any], inline_message_id: str = "inline-msg-1"
                     ) -> str:
        """A user sent inline ``result``; returns its "Another fact" callback data."""
        self.inline_texts[inline_message_id] = result["input_message_content"]["message_text"]
        data: str = result["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
        return data

    async def push(self, update: dict[str, Any]) -> int:
        """Queue one update (the update_id is assigned here) and wake the long poll."""
        update_id = next(self._update_ids)
        self.updates.append({"update_id": update_id, **update})
        async with self._changed:
            self._changed.notify_all()
        return update_id

    async def push_many(self, updates: list[dict[str, Any]]) -> list[int]:
        ids = []
        for update in updates:
            update_id = next(self._update_ids)
            self.updates.append({"update_id": update_id, **update})
            ids.append(update_id)
        async with self._changed:
            self._changed.notify_all()
        return ids

    def sent(self, method: str = "sendMessage") -> list[dict[str, Any]]:
        """Parameters of every call of ``method``, failed ones included."""
        return [c.params for c in self.calls if c.method == method]

    def succeeded(self, method: str = "sendMessage") -> list[dict[str, Any]]:
        return [c.params for c in self.calls if c.method == method and c.status == 200]

    async def wait_for(self, predicate: Callable[[], bool], timeout: float = 10.0) -> None:
        """Wait until ``predicate()`` holds; fail the test after a generous timeout."""
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                methods = [c.method for c in self.calls]
                raise AssertionError(f"timed out waiting; calls so far: {methods}")
            await asyncio.sleep(0.005)

    # --- update builders -------------------------------------------------------

    @staticmethod
    def user(user_id: int, name: str = "Ana", language: str | None = None) -> dict[str, Any]:
        """A member; ``language``: their app's language_code ("ko", "ms"), as Telegram sends
        it when the client shares it."""
        user: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": name,
                                "username": name.lower()}
        if language is not None:
            user["language_code"] = language
        return user

    def message(self, text: str, *, chat_id: int = 501, user_id: int = 501,
                chat_type: str = "private", reply_to_bot: bool = False,
                thread_id: int | None = None, anonymous_admin: bool = False,
                language: str | None = None) -> dict[str, Any]:
        """A text-message update with the entities Telegram would attach.

        ``thread_id`` puts it in a forum topic; ``anonymous_admin`` sends it as the group
        itself, from GroupAnonymousBot, as Telegram does for an admin who stays anonymous.
        """
        chat: dict[str, Any] = {"id": chat_id, "type": chat_type}
        if chat_type == "private":
            chat["first_name"] = "Ana"
        else:
            chat["title"] = "Test group"
        if thread_id is not None:
            chat["is_forum"] = True
        sender = self.user(user_id, language=language)
        if anonymous_admin:
            sender = {"id": GROUP_ANONYMOUS_BOT, "is_bot": True, "first_name": "Group",
                      "username": "GroupAnonymousBot"}
        message: dict[str, Any] = {
            "message_id": next(self._message_ids), "date": int(time.time()), "chat": chat,
            "from": sender, "text": text}
        if anonymous_admin:
            message["sender_chat"] = chat
        if thread_id is not None:
            message["message_thread_id"] = thread_id
            message["is_topic_message"] = True
        entities = _entities(text)
        if entities:
            message["entities"] = entities
        if reply_to_bot:
            message["reply_to_message"] = {
                "message_id": next(self._message_ids), "date": int(time.time()),
                "chat": chat, "from": self.bot_user(), "text": "an earlier fact"}
        self.messages[chat_id, message["message_id"]] = message
        return {"message": message}

    def my_chat_member(self, chat_id: int, status: str, *, old_status: str = "member",
                       chat_type: str = "group", user_id: int = 501,
                       date: int | None = None) -> dict[str, Any]:
        """The bot's own membership changed: "kicked" (blocked, or banned from a group),
        "left" (removed), "member" or "administrator" (added, or unblocked)."""
        chat: dict[str, Any] = {"id": chat_id, "type": chat_type}
        if chat_type == "private":
            chat["first_name"] = "Ana"
        else:
            chat["title"] = "Test group"
        return {"my_chat_member": {
            "chat": chat, "from": self.user(user_id), "date": date or int(time.time()),
            "old_chat_member": self._bot_member(old_status),
            "new_chat_member": self._bot_member(status)}}

    def _bot_member(self, status: str) -> dict[str, Any]:
        member: dict[str, Any] = {"status": status, "user": self.bot_user()}
        if status == "kicked":
            member["until_date"] = 0  # forever, as Telegram sends it
        elif status == "administrator":
            member.update(can_be_edited=False, is_anonymous=False, **dict.fromkeys((
                "can_manage_chat", "can_delete_messages", "can_manage_video_chats",
                "can_restrict_members", "can_promote_members", "can_change_info",
                "can_invite_users", "can_post_stories", "can_edit_stories",
                "can_delete_stories"), True))
        return member

    def migrate_updates(self, old: int, new: int, *, user_id: int = 501
                        ) -> list[dict[str, Any]]:
        """The two service messages of a group upgraded to a supergroup, in Telegram's order:
        ``migrate_to_chat_id`` in the old group, ``migrate_from_chat_id`` in the new one."""
        date = int(time.time())
        in_old = {"message_id": next(self._message_ids), "date": date,
                  "chat": {"id": old, "type": "group", "title": "Test group"},
                  "from": self.user(user_id), "migrate_to_chat_id": new}
        in_new = {"message_id": 1, "date": date,
                  "chat": {"id": new, "type": "supergroup", "title": "Test group"},
                  "from": self.user(user_id), "migrate_from_chat_id": old}
        return [{"message": in_old}, {"message": in_new}]

    def inline_query(self, query: str, *, user_id: int = 501, language: str | None = None
                     ) -> dict[str, Any]:
        return {"inline_query": {"id": f"iq{next(self._message_ids)}",
                                 "from": self.user(user_id, language=language), "query": query,
                                 "offset": ""}}

    def callback(self, data: str, *, chat_id: int = 501, user_id: int = 501,
                 chat_type: str = "private", inline: bool = False,
                 inline_message_id: str = "inline-msg-1", thread_id: int | None = None,
                 language: str | None = None, message: dict[str, Any] | None = None,
                 without_reply_to: bool = False) -> dict[str, Any]:
        """A button press on one of our messages (in a forum topic with ``thread_id``).

        ``message``: a message the bot sent (from ``posted``), pressed as Telegram hands it
        back, the member's message it replied to included; ``without_reply_to``: as Telegram
        hands it back when that message was deleted.
        """
        query: dict[str, Any] = {"id": f"cb{next(self._message_ids)}",
                                 "from": self.user(user_id, language=language),
                                 "chat_instance": "ci1", "data": data}
        if inline:
            query["inline_message_id"] = inline_message_id
        elif message is not None:
            query["message"] = {k: v for k, v in message.items()
                                if not (without_reply_to and k == "reply_to_message")}
        else:
            chat: dict[str, Any] = {"id": chat_id, "type": chat_type, "title": "Test group"}
            ours: dict[str, Any] = {"message_id": next(self._message_ids),
                                    "date": int(time.time()), "chat": chat,
                                    "from": self.bot_user(), "text": "a fact"}
            if thread_id is not None:
                chat["is_forum"] = True
                ours["message_thread_id"] = thread_id
                ours["is_topic_message"] = True
            self.texts[chat_id, ours["message_id"]] = ours["text"]
            query["message"] = ours
        return {"callback_query": query}

    def bot_user(self) -> dict[str, Any]:
        return {"id": self.bot_id, "is_bot": True, "first_name": "Factbot",
                "username": self.username}

    # --- control routes (bench/telegram.py runs the fake in its own process) --------

    async def _control_push(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.delay = float(body.get("delay", self.delay))
        return web.json_response(await self.push_many(body["updates"]))

    async def _control_reset(self, request: web.Request) -> web.Response:
        self.calls.clear()
        self.ok_counts.clear()
        self.delivered.clear()
        self.delivered_at.clear()
        return web.json_response(True)

    async def _control_wait(self, request: web.Request) -> web.Response:
        """Answer once ``count`` calls of ``method`` have succeeded."""
        method, count = request.query["method"], int(request.query["count"])
        while self.ok_counts.get(method, 0) < count:
            await asyncio.sleep(0.002)
        return web.json_response(True)

    async def _control_timings(self, request: web.Request) -> web.Response:
        """When each update was handed out, and when each sendMessage for a chat arrived."""
        sends = [[c.params["chat_id"], c.at] for c in self.calls
                 if c.method == "sendMessage" and c.status == 200]
        return web.json_response({"delivered": self.delivered_at, "sends": sends})

    # --- the API ---------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return _error(401, "Unauthorized")
        method = request.match_info["method"]
        raw: dict[str, str] = dict(request.query)
        if request.content_type == "application/json":
            body = await request.json()
            raw.update({k: v if isinstance(v, str) else json.dumps(v) for k, v in body.items()})
        else:
            raw.update({k: str(v) for k, v in (await request.post()).items()})
        params = _decode(raw)
        call = Call(method, params, at=self.clock())
        self.calls.append(call)
        if self.delay and method != "getUpdates":
            await asyncio.sleep(self.delay)
        failures = self._failures.get(method)
        if failures:
            failure = failures[0]
            failure.times -= 1
            if failure.times <= 0:
                failures.pop(0)
            call.status = failure.status
            if failure.hang:
                await self._released.wait()
            if failure.body is not None:
                return web.Response(body=failure.body, status=failure.status,
                                    content_type="application/json")
            if failure.echo:
                return self._echo(request, failure)
            if failure.retry_after is not None:
                return _error(failure.status, f"Too Many Requests: retry after "
                                              f"{failure.retry_after}",
                              {"retry_after": failure.retry_after})
            return _error(failure.status, failure.description or "Internal Server Error")
        if method in ("sendMessage", "editMessageText") and self._flooding(call):
            call.status = 429
            self.flooded += 1
            return _error(429, "Too Many Requests: retry after 1", {"retry_after": 1})
        handler = getattr(self, f"_api_{method}", None)
        if handler is None:
            return _error(404, f"Not Found: method {method} is not faked")
        try:
            result = await handler(params)
        except ApiError as exc:
            call.status = exc.status
            return _error(exc.status, exc.description, exc.parameters)
        self.ok_counts[method] = self.ok_counts.get(method, 0) + 1
        return web.json_response({"ok": True, "result": result})

    def _flooding(self, call: Call) -> bool:
        """Whether this message is over the flood limits; counts it when it is not."""
        now, chat = call.at, call.params.get("chat_id")
        while self._posted and self._posted[0] <= now - 1.0:
            self._posted.popleft()
        if self.per_second is not None and len(self._posted) >= self.per_second:
            return True
        group = self._posted_in.setdefault(chat, collections.deque()) \
            if isinstance(chat, int) and chat < 0 else None
        if group is not None:
            while group and group[0] <= now - 60.0:
                group.popleft()
            if self.per_group_minute is not None and len(group) >= self.per_group_minute:
                return True
            group.append(now)
        self._posted.append(now)
        return False

    def _echo(self, request: web.Request, failure: Failure) -> web.Response:
        path = request.raw_path  # as it came over the wire, token and all
        if failure.echo == "html":
            body = (f"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
                    f"<center><h1>502 Bad Gateway</h1></center>\r\n"
                    f"<p>The upstream server failed for {request.method} {path}</p>\r\n"
                    f"<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n")
            self.echoed.append(body)
            return web.Response(status=failure.status, text=body, content_type="text/html")
        description = f"Bad Request: no such route: {request.method} {path}"
        self.echoed.append(description)
        return _error(failure.status, description)

    async def _api_getMe(self, params: dict[str, Any]) -> Any:
        return {**self.bot_user(), "can_join_groups": True,
                "can_read_all_group_messages": False, "supports_inline_queries": True}

    async def _api_getUpdates(self, params: dict[str, Any]) -> Any:
        offset = int(params.get("offset", 0))
        limit = int(params.get("limit", 100))
        timeout = float(params.get("timeout", 0))
        if offset:  # confirms everything before it, as Telegram does
            self.updates = [u for u in self.updates if u["update_id"] >= offset]
        if "allowed_updates" in params:
            self.allowed_updates = list(params["allowed_updates"])

        def ready() -> bool:
            # Like Telegram, a type the bot did not ask for is never delivered.
            self.updates = [u for u in self.updates if self._wanted(u)]
            return bool(self.updates) or self._closing

        if not ready() and timeout > 0:
            async with self._changed:
                with contextlib.suppress(TimeoutError):  # an empty answer, as Telegram gives
                    await asyncio.wait_for(self._changed.wait_for(ready), timeout)
        if self.delay:
            await asyncio.sleep(self.delay)
        batch = self.updates[:limit]
        now = self.clock()
        for update in batch:
            update_id = update["update_id"]
            self.delivered[update_id] = self.delivered.get(update_id, 0) + 1
            self.delivered_at.setdefault(update_id, now)
        return batch

    def _wanted(self, update: dict[str, Any]) -> bool:
        kind = next(k for k in update if k != "update_id")
        if not self.allowed_updates:
            return kind not in _ASKED_FOR_ONLY
        return kind in self.allowed_updates

    async def _api_deleteWebhook(self, params: dict[str, Any]) -> Any:
        self.webhook = None
        return True

    async def _api_setWebhook(self, params: dict[str, Any]) -> Any:
        self.webhook = params
        return True

    async def _api_setMyCommands(self, params: dict[str, Any]) -> Any:
        commands = params["commands"]
        if len(commands) > MAX_COMMANDS:
            raise ApiError(400, "Bad Request: BOT_COMMANDS_TOO_MUCH")
        for command in commands:
            if not _COMMAND.fullmatch(command.get("command", "")):
                raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            if not 1 <= len(command.get("description", "")) <= MAX_DESCRIPTION:
                raise ApiError(400, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
        language = params.get("language_code", "")
        if language and not re.fullmatch(r"[a-z]{2}", language):  # ISO 639-1, or none
            raise ApiError(400, "Bad Request: LANG_CODE_INVALID")
        scope = params.get("scope", {"type": "default"})["type"]
        self.menus[scope, language] = commands
        return True

    async def _api_answerInlineQuery(self, params: dict[str, Any]) -> Any:
        for result in params.get("results", []):
            _check_markup(result)
        return True

    async def _api_answerCallbackQuery(self, params: dict[str, Any]) -> Any:
        if len(params.get("text", "")) > MAX_ANSWER_TEXT:
            raise ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
        return True

    async def _api_sendMessage(self, params: dict[str, Any]) -> Any:
        chat_id = params["chat_id"]
        if chat_id in self.refused:
            raise self.refused[chat_id]
        text = params.get("text", "")
        _check_length(text, params)
        _check_markup(params)
        message: dict[str, Any] = {
            "message_id": next(self._message_ids), "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "supergroup"},
            "from": self.bot_user(), "text": text}
        if "message_thread_id" in params:
            message["message_thread_id"] = params["message_thread_id"]
            message["is_topic_message"] = True
        if "reply_markup" in params:
            message["reply_markup"] = params["reply_markup"]
        replied = params.get("reply_parameters", {}).get("message_id")
        if replied is not None:
            original = self.messages.get((chat_id, replied))
            if original is None and not params["reply_parameters"].get(
                    "allow_sending_without_reply"):
                raise ApiError(400, "Bad Request: message to be replied not found")
            if original is not None:  # one level deep, as Telegram nests it
                message["reply_to_message"] = {k: v for k, v in original.items()
                                               if k != "reply_to_message"}
        self.texts[chat_id, message["message_id"]] = text
        self.messages[chat_id, message["message_id"]] = message
        self.posted.append(message)
        return message

    async def _api_editMessageText(self, params: dict[str, Any]) -> Any:
        text = params.get("text", "")
        _check_length(text, params)
        _check_markup(params)
        if "inline_message_id" in params:
            inline_id = params["inline_message_id"]
            if self.inline_texts.get(inline_id) == text:
                raise ApiError(400, "Bad Request: message is not modified: specified new "
                                    "message content and reply markup are exactly the same "
                                    "as a current content and reply markup of the message")
            self.inline_texts[inline_id] = text
            return True
        chat_id, message_id = params["chat_id"], params["message_id"]
        if self.texts.get((chat_id, message_id)) == text:
            raise ApiError(400, "Bad Request: message is not modified")
        self.texts[chat_id, message_id] = text
        return {"message_id": message_id, "date": int(time.time()),
                "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "supergroup"},
                "from": self.bot_user(), "text": text}

    async def _api_getChatMember(self, params: dict[str, Any]) -> Any:
        chat_id, user_id = int(params["chat_id"]), int(params["user_id"])
        user = self.user(user_id)
        if (chat_id, user_id) not in self.admins:
            return {"status": "member", "user": user}
        rights = ("can_be_edited", "can_manage_chat", "can_delete_messages",
                  "can_manage_video_chats", "can_restrict_members", "can_promote_members",
                  "can_change_info", "can_invite_users", "can_post_stories",
                  "can_edit_stories", "can_delete_stories")
        return {"status": "administrator", "user": user, "is_anonymous": False,
                **dict.fromkeys(rights, True)}


def _entities(text: str) -> list[dict[str, Any]]:
    """The bot_command entity at offset 0 and @mentions, in UTF-16 offsets as Telegram sends."""
    entities: list[dict[str, Any]] = []

    def utf16(s: str) -> int:
        return len(s.encode("utf-16-le")) // 2

    if text.startswith("/"):
        head = text.split(maxsplit=1)[0]
        entities.append({"type": "bot_command", "offset": 0, "length": utf16(head)})
    position = 0
    for word in text.split(" "):
        if word.startswith("@") and len(word) > 1:
            name = word.rstrip(".,!?:;")
            entities.append({"type": "mention", "offset": utf16(text[:position]),
                             "length": utf16(name)})
        position += len(word) + 1
    return entities


def _check_length(text: str, params: dict[str, Any]) -> None:
    if not text.strip():
        raise ApiError(400, "Bad Request: message text is empty")
    if visible_length(text, params.get("parse_mode")) > MAX_TEXT:
        raise ApiError(400, "Bad Request: message is too long")


def _check_markup(params: dict[str, Any]) -> None:
    for row in params.get("reply_markup", {}).get("inline_keyboard", []):
        for button in row:
            if len(button.get("callback_data", "").encode()) > MAX_CALLBACK_DATA:
                raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")


def _error(status: int, description: str, parameters: dict[str, Any] | None = None
           ) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if parameters:
        body["parameters"] = parameters
    return web.json_response(body, status=status)
