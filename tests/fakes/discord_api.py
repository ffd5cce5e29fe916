"""A fake Discord on 127.0.0.1: enough REST v10 and JSON gateway to drive real discord.py.

REST: ``/users/@me``, ``/oauth2/applications/@me``, ``/gateway/bot``, command sets
(global and per guild: bulk overwrite with PUT, read with GET, kept in ``commands``),
interaction callbacks (a message response answers with its message id, like Discord's
``with_response``), webhook follow-ups, channel messages, and reading back a message it made
or was given (``messages``). Gateway: HELLO,
IDENTIFY -> READY (+ a GUILD_CREATE per guild), heartbeat ACKs, RESUME -> RESUMED,
op 7 RECONNECT on demand, and dispatches from the test.
Everything the bot sent is recorded for assertions. Like Discord, the fake answers
400 "Invalid Form Body" (code 50035, with the path of each bad field) to command
sets, messages and callbacks over Discord's limits; rejections are kept in
``rejected``. Measured on discord.py 2.7.1:
JSON bodies need ``Content-Type: application/json`` exactly, and a 429 needs a
``Via`` header or discord.py takes it for a Cloudflare ban.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import json
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

TOKEN = "fake-bot-token.SECRET-do-not-log"
APP_ID = 900000000000000001
BOT_ID = APP_ID
GUILD_ID = 910000000000000001
CHANNEL_ID = 920000000000000001
USER_ID = 930000000000000001
TIMESTAMP = "2026-01-01T00:00:00+00:00"


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    # Not web.json_response: its "; charset=utf-8" makes discord.py read the body as text.
    return web.Response(body=json.dumps(data).encode(), status=status,
                        headers={"Content-Type": "application/json", **(headers or {})})


# --- what Discord rejects ---------------------------------------------------------------
# https://discord.com/developers/docs/interactions/application-commands and
# https://discord.com/developers/docs/resources/message#embed-limits

COMMANDS_MAX = 100  # chat-input commands per scope
OPTIONS_MAX = 25
CHOICES_MAX = 25
EMBEDS_MAX = 10
CONTENT_MAX = 2000
CUSTOM_ID_MAX = 100
BUTTON_LABEL_MAX = 80
# Discord's locales (https://discord.com/developers/docs/reference#locales): no Malay.
LOCALES = frozenset((
    "id", "da", "de", "en-GB", "en-US", "es-ES", "es-419", "fr", "hr", "it", "lt", "hu", "nl",
    "no", "pl", "pt-BR", "ro", "fi", "sv-SE", "vi", "tr", "cs", "el", "bg", "ru", "uk", "hi",
    "th", "zh-CN", "ja", "zh-TW", "ko"))
EMBED_TOTAL_MAX = 6000
EMBED_FIELDS_MAX = 25
EMBED_LIMITS = {"title": 256, "description": 4096}
FIELD_LIMITS = {"name": 256, "value": 1024}

Errors = dict[str, Any]


def _add(errors: Errors, path: tuple[str, ...], code: str, message: str) -> None:
    """Nest an error under ``path`` the way Discord's 50035 body does."""
    node = errors
    for key in path:
        node = node.setdefault(key, {})
    node.setdefault("_errors", []).append({"code": code, "message": message})


def _length(errors: Errors, path: tuple[str, ...], value: Any, low: int, high: int) -> None:
    if not isinstance(value, str):
        _add(errors, path, "BASE_TYPE_REQUIRED" if value is None else "STRING_TYPE_CONVERT",
             "This field is required" if value is None else "Could not interpret as string.")
    elif not low <= len(value) <= high:
        _add(errors, path, "BASE_TYPE_BAD_LENGTH", f"Must be between {low} and {high} in length.")


def _command_name(errors: Errors, path: tuple[str, ...], name: Any) -> None:
    """^[-_\\p{L}\\p{N}]{1,32}$ and lower case (Python's re has no \\p{..}: isalnum is close)."""
    if not isinstance(name, str) or not 1 <= len(name) <= 32 \
            or not all(c in "-_" or c.isalnum() for c in name) or name != name.lower():
        _add(errors, path, "APPLICATION_COMMAND_INVALID_NAME", f"Command name is invalid: {name!r}")


def command_errors(commands: Any) -> Errors:
    """What Discord would reject in a bulk overwrite of application commands."""
    errors: Errors = {}
    if not isinstance(commands, list):
        _add(errors, (), "LIST_TYPE_CONVERT", "Only iterables may be used in a ListType")
        return errors
    chat_input = [c for c in commands if isinstance(c, dict) and c.get("type", 1) == 1]
    if len(chat_input) > COMMANDS_MAX:
        _add(errors, (), "APPLICATION_COMMANDS_TOO_MANY",
             f"Maximum number of application commands reached ({COMMANDS_MAX}).")
    seen: set[str] = set()
    for i, command in enumerate(commands):
        at = (str(i),)
        if not isinstance(command, dict):
            _add(errors, at, "DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType")
            continue
        _command_name(errors, (*at, "name"), command.get("name"))
        if command.get("name") in seen:
            _add(errors, (*at, "name"), "APPLICATION_COMMANDS_DUPLICATE_NAME",
                 f"Application command names must be unique: {command.get('name')!r}")
        seen.add(str(command.get("name")))
        _length(errors, (*at, "description"), command.get("description"), 1, 100)
        _localizations(errors, at, command)
        options = command.get("options") or []
        if len(options) > OPTIONS_MAX:
            _add(errors, (*at, "options"), "BASE_TYPE_MAX_LENGTH",
                 f"Must be {OPTIONS_MAX} or fewer in length.")
        for j, option in enumerate(options):
            where = (*at, "options", str(j))
            _command_name(errors, (*where, "name"), option.get("name"))
            _length(errors, (*where, "description"), option.get("description"), 1, 100)
            _localizations(errors, where, option)
            for k, choice in enumerate(option.get("choices") or []):
                _length(errors, (*where, "choices", str(k), "name"), choice.get("name"), 1, 100)
    return errors


def _localizations(errors: Errors, at: tuple[str, ...], item: dict[str, Any]) -> None:
    """Localized descriptions: known locales, 1-100 characters like the English one."""
    for locale, text in (item.get("description_localizations") or {}).items():
        where = (*at, "description_localizations", str(locale))
        if locale not in LOCALES:
            _add(errors, where, "INVALID_LOCALE", f"Invalid locale: {locale!r}")
        _length(errors, where, text, 1, 100)


def message_errors(data: Any) -> Errors:
    """What Discord would reject in a message body (content, embeds, components)."""
    errors: Errors = {}
    if not isinstance(data, dict):
        return errors
    content = data.get("content")
    if isinstance(content, str) and len(content) > CONTENT_MAX:
        _add(errors, ("content",), "BASE_TYPE_MAX_LENGTH",
             f"Must be {CONTENT_MAX} or fewer in length.")
    embeds = data.get("embeds") or []
    if len(embeds) > EMBEDS_MAX:
        _add(errors, ("embeds",), "BASE_TYPE_MAX_LENGTH",
             f"Must be {EMBEDS_MAX} or fewer in length.")
    for i, embed in enumerate(embeds):
        _embed_errors(errors, ("embeds", str(i)), embed)
    for i, row in enumerate(data.get("components") or []):
        for j, item in enumerate(row.get("components") or []):
            where = ("components", str(i), "components", str(j))
            if "custom_id" in item:
                _length(errors, (*where, "custom_id"), item["custom_id"], 1, CUSTOM_ID_MAX)
            if "label" in item:
                _length(errors, (*where, "label"), item["label"], 0, BUTTON_LABEL_MAX)
    choices = data.get("choices")
    if choices is not None:  # an autocomplete result
        if len(choices) > CHOICES_MAX:
            _add(errors, ("choices",), "BASE_TYPE_MAX_LENGTH",
                 f"Must be {CHOICES_MAX} or fewer in length.")
        for k, choice in enumerate(choices):
            _length(errors, ("choices", str(k), "name"), choice.get("name"), 1, 100)
            value = choice.get("value")
            if isinstance(value, str):
                _length(errors, ("choices", str(k), "value"), value, 1, 100)
    return errors


def _embed_errors(errors: Errors, at: tuple[str, ...], embed: dict[str, Any]) -> None:
    total = 0
    for key, limit in EMBED_LIMITS.items():
        text = embed.get(key)
        if text is not None:
            _length(errors, (*at, key), text, 1, limit)
            total += len(text)
    for key, inner, limit in (("footer", "text", 2048), ("author", "name", 256)):
        part = embed.get(key)
        if part is not None:
            _length(errors, (*at, key, inner), part.get(inner), 1, limit)
            total += len(part.get(inner) or "")
    fields = embed.get("fields") or []
    if len(fields) > EMBED_FIELDS_MAX:
        _add(errors, (*at, "fields"), "BASE_TYPE_MAX_LENGTH",
             f"Must be {EMBED_FIELDS_MAX} or fewer in length.")
    for j, item in enumerate(fields):
        for key, limit in FIELD_LIMITS.items():
            _length(errors, (*at, "fields", str(j), key), item.get(key), 1, limit)
            total += len(item.get(key) or "")
    if total > EMBED_TOTAL_MAX:
        _add(errors, at, "MAX_EMBED_SIZE_EXCEEDED",
             f"Embed size exceeds maximum size of {EMBED_TOTAL_MAX}")


def invalid_form_body(errors: Errors) -> web.Response:
    """Discord's answer to a body it rejects."""
    return _json({"code": 50035, "errors": errors, "message": "Invalid Form Body"}, status=400)


def user(user_id: int, name: str, *, bot: bool = False) -> dict[str, Any]:
    return {"id": str(user_id), "username": name, "discriminator": "0", "global_name": name,
            "avatar": None, "bot": bot, "public_flags": 0}


@dataclass
class Callback:
    """One interaction callback the bot POSTed, with when it arrived.

    The body is parsed once, when the fake checks it against Discord's limits.
    """

    interaction_id: str
    raw: bytes
    received: float
    message_id: str | None = None  # the message a message response made (type 4)

    @functools.cached_property
    def body(self) -> dict[str, Any]:
        return dict(json.loads(self.raw))

    @property
    def type(self) -> int:
        return int(self.body["type"])

    @property
    def data(self) -> dict[str, Any]:
        return dict(self.body.get("data") or {})

    @property
    def embeds(self) -> list[dict[str, Any]]:
        return list(self.data.get("embeds") or [])

    @property
    def ephemeral(self) -> bool:
        return bool(int(self.data.get("flags") or 0) & 64)

    @property
    def custom_ids(self) -> list[str]:
        return [c["custom_id"] for row in self.data.get("components") or []
                for c in row.get("components", []) if "custom_id" in c]


@dataclass
class _Session:
    session_id: str
    token: str
    seq: int = 0
    shard: list[int] | None = None
    socket: web.WebSocketResponse | None = None


@dataclass
class FakeDiscord:
    """The fake server. ``async with FakeDiscord() as fake:`` serves on a free port."""

    token: str = TOKEN
    extra_tokens: tuple[str, ...] = ()
    heartbeat_interval_ms: int = 41_250
    message_content_allowed: bool = True  # False: close with 4014 like an unapproved intent
    # Recorded traffic.
    synced: list[tuple[int | None, list[dict[str, Any]]]] = field(default_factory=list)
    callbacks: dict[str, Callback] = field(default_factory=dict)
    channel_messages: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    followups: list[dict[str, Any]] = field(default_factory=list)
    requests: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)
    identifies: list[dict[str, Any]] = field(default_factory=list)
    resumes: list[dict[str, Any]] = field(default_factory=list)
    sent_at: dict[str, float] = field(default_factory=dict)
    # Fault injection: route key ("PUT commands", "POST callback", ...) -> 429s to send first.
    rate_limits: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    retry_after: float = 0.05
    rate_limited: list[str] = field(default_factory=list)
    # Bodies answered 400 for breaking Discord's limits: (route key, Discord's error tree).
    rejected: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    # Faults of an unwell Discord, by route key ("GET me" is the login, "GET application",
    # "PUT commands"): "hang" never answers, "garbage" answers 200 with a body that is not
    # JSON, a number answers with that status. Every request to the route gets it.
    faults: dict[str, str | int] = field(default_factory=dict)
    # More guilds the bot is in, after GUILD_ID (ids GUILD_ID + 1, ...), with no channels.
    extra_guilds: int = 0
    # The gateway: "hang" never completes the websocket handshake, "silent" completes it
    # and then neither speaks nor reads, "hang-resume" does the same on a RESUME, "down"
    # answers the handshake 503 (the client retries with back-off).
    gateway_fault: str | None = None

    def __post_init__(self) -> None:
        self._ids = itertools.count(950000000000000001)
        self._sessions: dict[str, _Session] = {}
        self._waiters: dict[str, asyncio.Future[Callback]] = {}
        self._ready: dict[str, asyncio.Event] = defaultdict(asyncio.Event)
        self._resumed: dict[str, asyncio.Event] = defaultdict(asyncio.Event)
        self._sockets: set[web.WebSocketResponse] = set()
        self._runner: web.AppRunner | None = None
        self._released = asyncio.Event()  # ends every hang, when the fake closes
        self.port = 0
        # The command sets as Discord keeps them (with ids), by guild; None is the global set.
        self.commands: dict[int | None, list[dict[str, Any]]] = {}
        # Messages by id, as GET /channels/{c}/messages/{m} returns them: those the bot
        # posted and those a test gave (``remember``).
        self.messages: dict[str, dict[str, Any]] = {}

    # --- lifecycle -------------------------------------------------------------------

    async def __aenter__(self) -> FakeDiscord:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def start(self, port: int = 0) -> None:
        app = web.Application()
        api = "/api/v10"
        app.router.add_get(f"{api}/users/@me", self._me)
        app.router.add_get(f"{api}/oauth2/applications/@me", self._application)
        app.router.add_get(f"{api}/gateway/bot", self._gateway_bot)
        app.router.add_get(f"{api}/gateway", self._gateway_bot)
        app.router.add_put(f"{api}/applications/{{app}}/commands", self._put_commands)
        app.router.add_put(f"{api}/applications/{{app}}/guilds/{{guild}}/commands",
                           self._put_commands)
        app.router.add_get(f"{api}/applications/{{app}}/commands", self._get_commands)
        app.router.add_get(f"{api}/applications/{{app}}/guilds/{{guild}}/commands",
                           self._get_commands)
        app.router.add_post(f"{api}/interactions/{{iid}}/{{itoken}}/callback", self._callback)
        app.router.add_post(f"{api}/webhooks/{{app}}/{{itoken}}", self._followup)
        app.router.add_patch(f"{api}/webhooks/{{app}}/{{itoken}}/messages/{{mid}}",
                             self._edit_followup)
        app.router.add_post(f"{api}/channels/{{channel}}/messages", self._channel_message)
        app.router.add_get(f"{api}/channels/{{channel}}/messages/{{mid}}", self._get_message)
        app.router.add_get("/gateway/", self._gateway)
        app.router.add_get("/gateway", self._gateway)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port)
        await site.start()
        self.port = int(self._runner.addresses[0][1])

    async def close(self) -> None:
        self._released.set()
        for socket in list(self._sockets):
            await socket.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def api_base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v10"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/gateway/"

    def next_id(self) -> str:
        return str(next(self._ids))

    # --- REST ------------------------------------------------------------------------

    def _record(self, request: web.Request) -> None:
        headers = {k: v for k, v in request.headers.items()
                   if k.lower() in ("authorization", "content-type", "user-agent")}
        self.requests.append((request.method, request.path, headers))

    def _authorised(self, request: web.Request) -> bool:
        return request.headers.get("Authorization") in {
            f"Bot {t}" for t in (self.token, *self.extra_tokens)}

    def _limited(self, key: str) -> web.Response | None:
        if self.rate_limits.get(key, 0) > 0:
            self.rate_limits[key] -= 1
            self.rate_limited.append(key)
            return _json({"message": "You are being rate limited.",
                          "retry_after": self.retry_after, "global": False}, status=429,
                         headers={"Via": "1.1 google", "X-RateLimit-Scope": "user"})
        return None

    async def _fault(self, key: str) -> web.Response | None:
        """The response an injected fault gives to ``key``, after hanging if it hangs."""
        fault = self.faults.get(key)
        if fault is None:
            return None
        if fault == "hang":
            await self._released.wait()
            return _json({"message": "the fake is closing"}, status=503)
        if fault == "garbage":  # a proxy's error page, labelled as JSON
            return web.Response(body=b"<html><body>upstream error</body></html>", status=200,
                                headers={"Content-Type": "application/json"})
        return _json({"message": f"{fault}: injected fault", "code": 0}, status=int(fault))

    def _reject(self, key: str, errors: Errors) -> web.Response | None:
        if not errors:
            return None
        self.rejected.append((key, errors))
        return invalid_form_body(errors)

    async def _me(self, request: web.Request) -> web.Response:
        self._record(request)
        faulty = await self._fault("GET me")
        if faulty is not None:
            return faulty
        if not self._authorised(request):
            return _json({"message": "401: Unauthorized", "code": 0}, status=401)
        return _json(user(BOT_ID, "factbot", bot=True))

    async def _application(self, request: web.Request) -> web.Response:
        self._record(request)
        faulty = await self._fault("GET application")
        if faulty is not None:
            return faulty
        if not self._authorised(request):
            return _json({"message": "401: Unauthorized", "code": 0}, status=401)
        return _json({"id": str(APP_ID), "name": "factbot", "description": "", "icon": None,
                      "bot_public": True, "bot_require_code_grant": False,
                      "owner": user(USER_ID, "owner"), "verify_key": "0" * 64, "flags": 0,
                      "interactions_endpoint_url": None})

    async def _gateway_bot(self, request: web.Request) -> web.Response:
        self._record(request)
        return _json({"url": self.gateway_url.rstrip("/"), "shards": 1,
                      "session_start_limit": {"total": 1000, "remaining": 1000,
                                              "reset_after": 0, "max_concurrency": 1}})

    async def _put_commands(self, request: web.Request) -> web.Response:
        self._record(request)
        if not self._authorised(request):
            return _json({"message": "401: Unauthorized", "code": 0}, status=401)
        limited = self._limited("PUT commands") or await self._fault("PUT commands")
        if limited is not None:
            return limited
        if request.content_type != "application/json":
            return _json({"message": "expected JSON"}, status=400)
        body = await request.json()
        rejected = self._reject("PUT commands", command_errors(body))
        if rejected is not None:
            return rejected
        guild = int(request.match_info["guild"]) if "guild" in request.match_info else None
        self.synced.append((guild, body))
        self.commands[guild] = self.command_set(body, guild)
        return _json(self.commands[guild])

    def command_set(self, body: list[dict[str, Any]], guild: int | None = None
                    ) -> list[dict[str, Any]]:
        """The commands of a bulk overwrite as Discord stores and returns them."""
        return [{"id": self.next_id(), "application_id": str(APP_ID), "version": "1",
                 "type": command.get("type", 1), "options": [], **command,
                 **({"guild_id": str(guild)} if guild else {})} for command in body]

    async def _get_commands(self, request: web.Request) -> web.Response:
        self._record(request)
        if not self._authorised(request):
            return _json({"message": "401: Unauthorized", "code": 0}, status=401)
        limited = self._limited("GET commands") or await self._fault("GET commands")
        if limited is not None:
            return limited
        guild = int(request.match_info["guild"]) if "guild" in request.match_info else None
        return _json(self.commands.get(guild, []))

    async def _callback(self, request: web.Request) -> web.Response:
        self._record(request)
        limited = self._limited("POST callback")
        if limited is not None:
            return limited
        iid = request.match_info["iid"]
        if request.content_type == "application/json":
            raw = await request.read()
        else:  # multipart with a payload_json part (attachments)
            form = await request.post()
            raw = str(form["payload_json"]).encode()
        callback = Callback(iid, raw, time.perf_counter())
        rejected = self._reject("POST callback", message_errors(callback.data))
        if rejected is not None:
            return rejected
        answer: dict[str, Any] = {"interaction": {"id": iid, "type": 2}}
        if callback.type == 4:  # CHANNEL_MESSAGE_WITH_SOURCE: Discord names the message
            message = self._message(CHANNEL_ID, callback.data)
            callback.message_id = message["id"]
            answer["interaction"].update(response_message_id=message["id"],
                                         response_message_ephemeral=callback.ephemeral)
            answer["resource"] = {"type": 4, "message": message}
        self.callbacks[iid] = callback
        waiter = self._waiters.pop(iid, None)
        if waiter is not None and not waiter.done():
            waiter.set_result(callback)
        return _json(answer)

    def _message(self, channel_id: int, body: dict[str, Any]) -> dict[str, Any]:
        message = {"id": self.next_id(), "channel_id": str(channel_id),
                "author": user(BOT_ID, "factbot", bot=True), "content": body.get("content", ""),
                "timestamp": TIMESTAMP, "edited_timestamp": None, "tts": False,
                "mention_everyone": False, "mentions": [], "mention_roles": [],
                "attachments": [], "embeds": body.get("embeds", []), "pinned": False,
                "type": 0, "flags": body.get("flags", 0),
                "components": body.get("components", [])}
        if body.get("message_reference"):
            message["type"] = 19  # REPLY
            # discord.py sends the ids as numbers; Discord's own payloads carry strings.
            message["message_reference"] = {k: str(v) if k.endswith("_id") else v
                                            for k, v in body["message_reference"].items()}
        self.remember(message)
        return message

    def remember(self, message: dict[str, Any]) -> None:
        """Keep a message so that GET /channels/{c}/messages/{m} returns it."""
        self.messages[str(message["id"])] = message

    async def _get_message(self, request: web.Request) -> web.Response:
        self._record(request)
        if not self._authorised(request):
            return _json({"message": "401: Unauthorized", "code": 0}, status=401)
        fault = await self._fault("GET message")
        if fault is not None:
            return fault
        message = self.messages.get(request.match_info["mid"])
        if message is None or message["channel_id"] != request.match_info["channel"]:
            return _json({"message": "Unknown Message", "code": 10008}, status=404)
        return _json(message)

    async def _followup(self, request: web.Request) -> web.Response:
        self._record(request)
        body = await request.json()
        rejected = self._reject("POST followup", message_errors(body))
        if rejected is not None:
            return rejected
        self.followups.append(body)
        return _json(self._message(CHANNEL_ID, body))

    async def _edit_followup(self, request: web.Request) -> web.Response:
        self._record(request)
        body = await request.json()
        rejected = self._reject("PATCH followup", message_errors(body))
        if rejected is not None:
            return rejected
        self.followups.append(body)
        return _json(self._message(CHANNEL_ID, body))

    async def _channel_message(self, request: web.Request) -> web.Response:
        self._record(request)
        if not self._authorised(request):
            return _json({"message": "401: Unauthorized", "code": 0}, status=401)
        channel = int(request.match_info["channel"])
        body = await request.json()
        rejected = self._reject("POST message", message_errors(body))
        if rejected is not None:
            return rejected
        self.channel_messages.append((channel, body))
        return _json(self._message(channel, body))

    # --- gateway ---------------------------------------------------------------------

    async def _gateway(self, request: web.Request) -> web.StreamResponse:
        self._record(request)
        if self.gateway_fault == "hang":
            await self._released.wait()
        if self.gateway_fault == "down":
            return web.Response(status=503, text="gateway unavailable")
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        self._sockets.add(socket)
        session: _Session | None = None
        try:
            if self.gateway_fault == "silent":
                await self._released.wait()
                return socket
            await socket.send_str(json.dumps(
                {"op": 10, "d": {"heartbeat_interval": self.heartbeat_interval_ms},
                 "s": None, "t": None}))
            async for frame in socket:
                if frame.type is not WSMsgType.TEXT:
                    continue
                message = json.loads(frame.data)
                op, data = message.get("op"), message.get("d")
                if op == 1:
                    await socket.send_str(json.dumps({"op": 11, "d": None}))
                elif op == 2:
                    session = await self._identify(socket, data)
                    if session is None:
                        break
                elif op == 6:
                    if self.gateway_fault == "hang-resume":
                        self.resumes.append({k: v for k, v in data.items() if k != "token"})
                        await self._released.wait()
                        break
                    session = await self._resume(socket, data)
                    if session is None:
                        break
        finally:
            self._sockets.discard(socket)
            if session is not None and session.socket is socket:
                session.socket = None
        return socket

    async def _identify(self, socket: web.WebSocketResponse, data: dict[str, Any]
                        ) -> _Session | None:
        self.identifies.append({k: v for k, v in data.items() if k != "token"})
        if data.get("token") not in (self.token, *self.extra_tokens):
            await socket.close(code=4004, message=b"Authentication failed.")
            return None
        if int(data.get("intents") or 0) & (1 << 15) and not self.message_content_allowed:
            await socket.close(code=4014, message=b"Disallowed intent(s).")
            return None
        session = _Session(session_id=f"session-{self.next_id()}", token=data["token"],
                           shard=data.get("shard"), socket=socket)
        self._sessions[session.session_id] = session
        ready: dict[str, Any] = {
            "v": 10, "user": user(BOT_ID, "factbot", bot=True),
            "guilds": [{"id": str(g), "unavailable": True} for g in self.guild_ids],
            "session_id": session.session_id, "resume_gateway_url": self.gateway_url,
            "application": {"id": str(APP_ID), "flags": 0}, "private_channels": [],
            "relationships": []}
        if session.shard is not None:
            ready["shard"] = session.shard
        await self._send(session, "READY", ready)
        for guild_id in self.guild_ids:
            await self._send(session, "GUILD_CREATE", self.guild(guild_id))
        self._ready[session.token].set()
        return session

    async def _resume(self, socket: web.WebSocketResponse, data: dict[str, Any]
                      ) -> _Session | None:
        self.resumes.append({k: v for k, v in data.items() if k != "token"})
        session = self._sessions.get(data.get("session_id", ""))
        if session is None or data.get("token") != session.token:
            await socket.send_str(json.dumps({"op": 9, "d": False}))
            return None
        session.socket = socket
        await self._send(session, "RESUMED", {})
        self._resumed[session.token].set()
        return session

    async def _send(self, session: _Session, event: str, data: dict[str, Any]) -> None:
        if session.socket is None:
            raise RuntimeError("no live gateway connection for this session")
        session.seq += 1
        await session.socket.send_str(json.dumps({"op": 0, "t": event, "s": session.seq,
                                                  "d": data}))

    def _session(self, token: str | None = None) -> _Session:
        live = [s for s in self._sessions.values()
                if s.socket is not None and (token is None or s.token == token)]
        if not live:
            raise RuntimeError("no live gateway session")
        return live[-1]

    async def wait_ready(self, token: str | None = None) -> None:
        await self._ready[token or self.token].wait()

    async def wait_resumed(self, token: str | None = None) -> None:
        await self._resumed[token or self.token].wait()

    async def reconnect(self, token: str | None = None) -> None:
        """Ask the client to reconnect (op 7); it should RESUME."""
        session = self._session(token or self.token)
        self._resumed[session.token].clear()
        assert session.socket is not None
        await session.socket.send_str(json.dumps({"op": 7, "d": None}))

    async def dispatch(self, event: str, data: dict[str, Any], token: str | None = None) -> None:
        await self._send(self._session(token or self.token), event, data)

    # --- payload builders --------------------------------------------------------------

    @staticmethod
    def channel() -> dict[str, Any]:
        return {"id": str(CHANNEL_ID), "type": 0, "guild_id": str(GUILD_ID), "name": "general",
                "position": 0, "permission_overwrites": [], "nsfw": False, "parent_id": None,
                "topic": None, "last_message_id": None, "rate_limit_per_user": 0, "flags": 0}

    @property
    def guild_ids(self) -> list[int]:
        return [GUILD_ID + i for i in range(1 + self.extra_guilds)]

    def guild(self, guild_id: int = GUILD_ID) -> dict[str, Any]:
        everyone = {"id": str(guild_id), "name": "@everyone", "permissions": "0",
                    "position": 0, "color": 0, "hoist": False, "managed": False,
                    "mentionable": False, "flags": 0}
        channels = [self.channel()] if guild_id == GUILD_ID else []
        # The extra guilds are larger, the later ones less so: the ids and the sizes differ
        # in order.
        members = 2 if guild_id == GUILD_ID else 100 - (guild_id - GUILD_ID)
        return {"id": str(guild_id), "name": "Fans", "icon": None, "owner_id": str(USER_ID),
                "features": [], "roles": [everyone], "channels": channels,
                "threads": [], "members": [], "member_count": members, "emojis": [],
                "stickers": [],
                "voice_states": [], "presences": [], "stage_instances": [],
                "guild_scheduled_events": [], "soundboard_sounds": [], "unavailable": False,
                "large": False, "joined_at": TIMESTAMP, "verification_level": 0,
                "default_message_notifications": 0, "explicit_content_filter": 0,
                "mfa_level": 0, "nsfw_level": 0, "premium_tier": 0,
                "preferred_locale": "en-US", "system_channel_flags": 0}

    def interaction(self, kind: int, data: dict[str, Any], *, in_guild: bool = True,
                    manage_guild: bool = False, message: dict[str, Any] | None = None,
                    user_id: int = USER_ID, locale: str = "en-US") -> dict[str, Any]:
        """An interaction from user ``user_id`` whose Discord client is set to ``locale``."""
        iid = self.next_id()
        payload: dict[str, Any] = {
            "id": iid, "application_id": str(APP_ID), "type": kind, "token": f"itoken-{iid}",
            "version": 1, "attachment_size_limit": 8 * 1024 * 1024, "data": data,
            "channel_id": str(CHANNEL_ID), "locale": locale, "app_permissions": "0",
            "entitlements": [], "authorizing_integration_owners": {"0": str(GUILD_ID)}}
        if in_guild:
            payload.update(
                guild_id=str(GUILD_ID), guild_locale="en-US", context=0,
                channel=self.channel(),
                member={"user": user(user_id, "fan"), "roles": [], "joined_at": TIMESTAMP,
                        "deaf": False, "mute": False, "flags": 0,
                        "permissions": str(1 << 5 if manage_guild else 0)})
        else:
            payload.update(context=1, user=user(user_id, "fan"),
                           channel={"id": str(CHANNEL_ID), "type": 1, "recipients": [
                               user(user_id, "fan")], "last_message_id": None})
        if message is not None:
            payload["message"] = message
        return payload

    def _command(self, name: str, in_guild: bool) -> dict[str, Any]:
        """The command part of an interaction's data. Like Discord's, it names the guild
        whose set the command came from (discord.py looks guild commands up by it). Of a
        command in both sets, Discord shows both copies: the user picks the guild's."""
        data: dict[str, Any] = {"id": self.next_id(), "name": name, "type": 1}
        if in_guild and any(c["name"] == name for c in self.commands.get(GUILD_ID, [])):
            data["guild_id"] = str(GUILD_ID)
        return data

    def slash(self, name: str, options: dict[str, Any] | None = None, **kwargs: Any
              ) -> dict[str, Any]:
        data = self._command(name, kwargs.get("in_guild", True))
        if options:
            data["options"] = [{"name": k, "type": 3, "value": v} for k, v in options.items()]
        return self.interaction(2, data, **kwargs)

    def autocomplete(self, name: str, option: str, value: str, **kwargs: Any) -> dict[str, Any]:
        data = self._command(name, kwargs.get("in_guild", True))
        data["options"] = [{"name": option, "type": 3, "value": value, "focused": True}]
        return self.interaction(4, data, **kwargs)

    def button(self, custom_id: str, *, message_id: str | None = None, resolve: bool = True,
               **kwargs: Any) -> dict[str, Any]:
        """A click on a button of an earlier bot message that carried ``custom_id``: the
        message ``message_id`` when given (one the bot posted or answered with), else a new
        one. Like Discord's, a reply's message carries the message it replied to
        (``referenced_message``) when the fake still has it, unless ``resolve`` is False
        (the bot must then fetch it)."""
        message = self.messages.get(message_id) if message_id is not None else None
        if message is None:
            components = [{"type": 1, "components": [
                {"type": 2, "style": 2, "label": "Another fact", "custom_id": custom_id}]}]
            message = self._message(CHANNEL_ID, {"embeds": [], "components": components})
        message = dict(message)
        if message_id is not None:
            message["id"] = message_id
        replied_to = str((message.get("message_reference") or {}).get("message_id"))
        if resolve and replied_to in self.messages:
            message["referenced_message"] = self.messages[replied_to]
        data = {"custom_id": custom_id, "component_type": 2}
        return self.interaction(3, data, message=message, **kwargs)

    def mention(self, text: str, *, user_id: int = USER_ID) -> dict[str, Any]:
        """A MESSAGE_CREATE in the guild channel that mentions the bot."""
        message = {"id": self.next_id(), "channel_id": str(CHANNEL_ID), "guild_id": str(GUILD_ID),
                   "author": user(user_id, "fan"),
                   "member": {"roles": [], "joined_at": TIMESTAMP, "deaf": False, "mute": False,
                              "flags": 0},
                   "content": f"<@{BOT_ID}> {text}", "timestamp": TIMESTAMP,
                   "edited_timestamp": None, "tts": False, "mention_everyone": False,
                   "mentions": [user(BOT_ID, "factbot", bot=True)], "mention_roles": [],
                   "attachments": [], "embeds": [], "pinned": False, "type": 0, "flags": 0,
                   "components": []}
        self.remember(message)  # a reply to it can name it, as on Discord
        return message

    async def interact(self, payload: dict[str, Any], token: str | None = None,
                       timeout: float = 10.0) -> Callback:
        """Dispatch INTERACTION_CREATE and wait for the bot's callback."""
        waiter: asyncio.Future[Callback] = asyncio.get_running_loop().create_future()
        self._waiters[payload["id"]] = waiter
        self.sent_at[payload["id"]] = time.perf_counter()
        await self.dispatch("INTERACTION_CREATE", payload, token)
        try:
            return await asyncio.wait_for(waiter, timeout)
        finally:
            self._waiters.pop(payload["id"], None)

    async def send_interaction(self, payload: dict[str, Any], token: str | None = None
                               ) -> asyncio.Future[Callback]:
        """Dispatch without waiting; the future resolves on the callback (for the benchmark)."""
        waiter: asyncio.Future[Callback] = asyncio.get_running_loop().create_future()
        self._waiters[payload["id"]] = waiter
        self.sent_at[payload["id"]] = time.perf_counter()
        await self.dispatch("INTERACTION_CREATE", payload, token)
        return waiter


async def _main() -> None:  # pragma: no cover - a manual playground
    async with FakeDiscord() as fake:
        print(f"DISCORD_API_BASE_URL={fake.api_base_url}")
        print(f"DISCORD_GATEWAY_URL={fake.gateway_url}")
        await asyncio.Event().wait()


if __name__ == "__main__":  # pragma: no cover
    asyncio.run(_main())
