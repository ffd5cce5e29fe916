"""The dashboard's web layer: routes, access, sessions, CSRF and security headers.

Access. Listening on a loopback address without a token, whoever reaches the port is the
curator (and an operator, who may reload the packs); the Host header must then name the
loopback address, so a web page cannot reach the dashboard through DNS rebinding. With a
token, every page asks for it: as ``Authorization: Bearer TOKEN``, or once in the login
form, which sets an HttpOnly, SameSite=Strict session cookie (a random id, never the
token). The token is compared in constant time and a wrong one costs WRONG_TOKEN_DELAY.

The one action that changes anything, "reload packs", is a POST carrying the session's
CSRF token (a hidden field), checked in constant time.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jinja2
from aiohttp import web

from factbot.dashboard import views
from factbot.lru import LRU
from factbot.storage.base import BaseStore, EvalRun

log = logging.getLogger(__name__)

HERE = Path(__file__).parent
COOKIE = "factbot_dashboard"
WRONG_TOKEN_DELAY = 1.0  # seconds: guessing the token costs this much a try
MAX_SESSIONS = 1024  # the oldest is forgotten first (its holder logs in again)
SESSION_TTL = 12 * 3600.0  # seconds a login lasts
clock = time.monotonic  # the sessions' clock (a test moves it, not the event loop's)
MAX_QUESTION = 600  # the matcher reads no further (matching.analysis.MAX_CHARS)
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
       "form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
}
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "[::1]")
PAGES = ("/", "/unanswered", "/try", "/health", "/accuracy")  # where a reload returns to

Loader = Callable[[], Awaitable[views.Loaded]]
Recorder = Callable[[list[EvalRun]], Awaitable[None]]


@dataclass
class Session:
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    until: float = field(default_factory=lambda: clock() + SESSION_TTL)


@dataclass
class State:
    """What the app serves from; set up by make_app, replaced in part by a reload."""

    store: BaseStore
    loader: Loader  # loads, checks and evaluates the packs (views.load in a thread)
    recorder: Recorder  # keeps evaluations in the store
    loaded: views.Loaded
    token: str  # "" when local only
    local_port: int | None = None  # with no token: the loopback port the Host must name
    sessions: LRU[str, Session] = field(default_factory=lambda: LRU(MAX_SESSIONS))
    message: str = ""  # the last reload's outcome, shown once on the next page
    record_error: str = ""
    reloading: asyncio.Lock = field(default_factory=asyncio.Lock)
    guessing: asyncio.Lock = field(default_factory=asyncio.Lock)
    templates: jinja2.Environment = field(default_factory=lambda: _templates())


STATE: web.AppKey[State] = web.AppKey("state", State)


def _templates() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(HERE / "templates"),
                             autoescape=True, undefined=jinja2.StrictUndefined,
                             trim_blocks=True, lstrip_blocks=True)
    env.filters["pct"] = lambda v: "–" if v is None else f"{v:.1%}"
    env.filters["score"] = lambda v: f"{v:.2f}"
    env.filters["when"] = lambda v: "" if v is None else v.strftime("%Y-%m-%d %H:%M UTC")
    env.filters["sentence"] = lambda v: v[:1].upper() + v[1:]
    return env


# --- access --------------------------------------------------------------------------------


def _bytes(text: str) -> bytes:
    # A header or form may carry undecodable bytes (surrogate escapes): compared as they came.
    return text.encode("utf-8", "surrogateescape")


def token_matches(expected: str, given: str) -> bool:
    """Constant time in the given token's content (hmac.compare_digest on bytes)."""
    return bool(expected) and hmac.compare_digest(_bytes(expected), _bytes(given))


async def wrong_token(state: State) -> None:
    """The cost of a wrong token: WRONG_TOKEN_DELAY, one wrong try after another (guesses
    sent in parallel wait their turn), while a right token never waits."""
    async with state.guessing:
        await asyncio.sleep(WRONG_TOKEN_DELAY)


def host_is_local(host: str, port: int | None) -> bool:
    """Whether a Host header names a loopback address (and ``port``, when given)."""
    if host.startswith("["):
        name, _, rest = host.partition("]")
        name, given = name + "]", rest.removeprefix(":")
    else:
        name, _, given = host.partition(":")
    return name.lower() in LOOPBACK_HOSTS and (port is None or given == str(port))


def _session(request: web.Request) -> tuple[str, Session] | None:
    sid = request.cookies.get(COOKIE, "")
    sessions = request.app[STATE].sessions
    found = sessions.get(sid) if sid else None
    if found is not None and found.until < clock():
        sessions.pop(sid, None)  # expired: log in again
        found = None
    return (sid, found) if found is not None else None


def _bearer(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" else None


def _new_session(state: State, response: web.StreamResponse, secure: bool) -> Session:
    sid = secrets.token_urlsafe(32)
    session = Session()
    state.sessions[sid] = session
    response.set_cookie(COOKIE, sid, httponly=True, samesite="Strict", secure=secure,
                        path="/")
    return session


@web.middleware
async def access(request: web.Request,
                 handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
                 ) -> web.StreamResponse:
    state = request.app[STATE]
    if not state.token:
        # Local only: the Host must be the loopback address (no DNS rebinding).
        if not host_is_local(request.host, state.local_port):
            raise web.HTTPMisdirectedRequest(text="this dashboard answers on its loopback "
                                                  "address only\n")
        return await handler(request)
    bearer = _bearer(request)
    if bearer is not None:
        if not token_matches(state.token, bearer):
            await wrong_token(state)
            raise web.HTTPUnauthorized(text="wrong token\n",
                                       headers={"WWW-Authenticate": "Bearer"})
        return await handler(request)
    if request.path.startswith("/static/") or request.path == "/login" \
            or _session(request) is not None:
        return await handler(request)
    if request.method == "GET":
        raise web.HTTPSeeOther("/login")
    raise web.HTTPUnauthorized(text="log in first\n")


def _operator(request: web.Request) -> bool:
    """Whether the request comes from an operator, who may reload: with no token, whoever
    reaches the loopback address; with one, whoever holds it (the access middleware has
    refused a wrong bearer token before any handler runs)."""
    state = request.app[STATE]
    return not state.token or _bearer(request) is not None or _session(request) is not None


async def _headers(request: web.Request, response: web.StreamResponse) -> None:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if not request.path.startswith("/static/"):
        response.headers["Cache-Control"] = "no-store"


# --- pages ---------------------------------------------------------------------------------


def _render(request: web.Request, name: str, status: int = 200, **context: Any
            ) -> web.Response:
    state = request.app[STATE]
    response = web.Response(content_type="text/html", charset="utf-8", status=status)
    found = _session(request)
    if found is not None:
        session = found[1]
    elif state.token:
        session = Session()  # not logged in: no form that changes anything is shown
    else:
        session = _new_session(state, response, request.secure)
    message, state.message = state.message, ""
    response.text = state.templates.get_template(name).render(
        page=name.removesuffix(".html"), csrf=session.csrf, operator=_operator(request),
        token_needed=bool(state.token), loaded=state.loaded, message=message,
        request_path=request.path if request.path in PAGES else "/health",
        record_error=state.record_error, **context)
    return response


def _days(request: web.Request) -> int:
    try:
        days = int(request.query.get("days", "30"))
    except ValueError:
        days = 30
    return days if days in views.PERIODS else 30


async def overview(request: web.Request) -> web.Response:
    state = request.app[STATE]
    data = await views.overview(state.store, _days(request), datetime.now(UTC).date())
    return _render(request, "overview.html", periods=views.PERIODS, **data)


async def unanswered(request: web.Request) -> web.Response:
    state = request.app[STATE]
    data = await views.unanswered(state.store, state.loaded.bot, _days(request),
                                  datetime.now(UTC))
    return _render(request, "unanswered.html", periods=views.PERIODS, **data)


async def try_question(request: web.Request) -> web.Response:
    text = request.query.get("q", "")[:MAX_QUESTION]
    result = views.explain(request.app[STATE].loaded.bot, text) if text.strip() else None
    return _render(request, "try.html", q=text, result=result)


async def health(request: web.Request) -> web.Response:
    loaded = request.app[STATE].loaded
    return _render(request, "health.html", **views.health(loaded.report, loaded.facts))


async def accuracy(request: web.Request) -> web.Response:
    state = request.app[STATE]
    try:
        history = await state.store.eval_history(limit=200)
    except Exception as exc:  # an older store: the runs of this process still show
        log.warning("reading the evaluation history failed: %s", exc)
        history = []
    seen = {(r.pack, r.at) for r in history}
    history += [r for r in state.loaded.evals if (r.pack, r.at) not in seen]
    return _render(request, "accuracy.html", **views.accuracy(history))


async def reload_packs(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE]
    if not _operator(request):
        raise web.HTTPForbidden(text="only operators may reload the packs\n")
    form = await request.post()
    bearer = _bearer(request) is not None  # not sent by a browser on its own: no CSRF
    if not bearer:
        found = _session(request)
        given = form.get("csrf")
        if found is None or not isinstance(given, str) \
                or not hmac.compare_digest(_bytes(found[1].csrf), _bytes(given)):
            raise web.HTTPForbidden(text="the form is stale or forged (CSRF check); open the "
                                         "page again\n")
    async with state.reloading:
        state.message = await reload(state)
    back = form.get("back") if not bearer else None
    raise web.HTTPSeeOther(back if back in PAGES else "/health")


async def reload(state: State) -> str:
    """Load the packs again and evaluate them; on a fault keep the last good ones."""
    from factbot.errors import FactbotError

    try:
        loaded = await state.loader()
    except FactbotError as exc:
        log.error("reload refused, still showing the last good packs: %s", exc)
        return f"Reload refused, still showing the last good packs: {exc}"
    except Exception:  # a bug, MemoryError: the page stays up on the last good packs
        log.exception("reload failed, still showing the last good packs")
        return "Reload failed, still showing the last good packs (the log has the details)"
    state.loaded = loaded
    await record(state, loaded.evals)
    topics = sum(len(p.topics) for p in loaded.bot.packs)
    return (f"Reloaded {len(loaded.bot.packs)} pack(s), {topics} topics, and evaluated "
            f"{len(loaded.evals)} labelled set(s). The bot itself reloads on SIGHUP or "
            f"/reload.")


async def record(state: State, runs: list[EvalRun]) -> None:
    try:
        await state.recorder(runs)
        state.record_error = ""
    except Exception as exc:  # shown on the page: the history is not kept, the rest works
        log.warning("keeping the evaluations in the store failed: %s", exc)
        state.record_error = f"these evaluations were not kept in the store: {exc}"


async def login_page(request: web.Request) -> web.Response:
    if not request.app[STATE].token:
        raise web.HTTPSeeOther("/")
    return _render(request, "login.html", error="")


async def login(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE]
    if not state.token:
        raise web.HTTPSeeOther("/")
    form = await request.post()
    given = form.get("token")
    if not isinstance(given, str) or not token_matches(state.token, given):
        await wrong_token(state)
        return _render(request, "login.html", status=403, error="That token is not right.")
    response = web.HTTPSeeOther("/")
    _new_session(state, response, request.secure)
    raise response


async def logout(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE]
    found = _session(request)
    form = await request.post()
    given = form.get("csrf")
    response = web.HTTPSeeOther("/login" if state.token else "/")
    # Only with the session's own CSRF token: another site cannot log a curator out.
    if found is not None and isinstance(given, str) \
            and hmac.compare_digest(_bytes(found[1].csrf), _bytes(given)):
        state.sessions.pop(found[0], None)
        response.del_cookie(COOKIE, path="/")
    raise response


def make_app(store: BaseStore, loaded: views.Loaded, loader: Loader, recorder: Recorder, *,
             token: str = "", local_port: int | None = None) -> web.Application:
    """The dashboard on ``store`` and the packs ``loaded``. ``token`` "": local only (the
    Host header must name a loopback address, and ``local_port`` when given)."""
    app = web.Application(middlewares=[access], client_max_size=64 * 1024)
    app[STATE] = State(store=store, loader=loader, recorder=recorder, loaded=loaded,
                       token=token, local_port=local_port)
    app.on_response_prepare.append(_headers)
    app.router.add_get("/", overview)
    app.router.add_get("/unanswered", unanswered)
    app.router.add_get("/try", try_question)
    app.router.add_get("/health", health)
    app.router.add_get("/accuracy", accuracy)
    app.router.add_post("/reload", reload_packs)
    app.router.add_get("/login", login_page)
    app.router.add_post("/login", login)
    app.router.add_post("/logout", logout)
    for name, kind in STATIC.items():
        app.router.add_get(f"/static/{name}", _static(name, kind))
    return app


STATIC = {"dashboard.js": "text/javascript", "dashboard.css": "text/css",
          "favicon.svg": "image/svg+xml"}


def _static(name: str, kind: str) -> Callable[[web.Request], Awaitable[web.Response]]:
    """The few static files, read once: no directory is served, so no path to traverse."""
    body = (HERE / "static" / name).read_bytes()

    async def handler(request: web.Request) -> web.Response:
        return web.Response(body=body, content_type=kind, charset="utf-8",
                            headers={"Cache-Control": "max-age=3600"})

    return handler


# --- the command ---------------------------------------------------------------------------

DEFAULT_LISTEN = "127.0.0.1:8080"


def parse_listen(listen: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[::1]:PORT`` for IPv6); a ConfigError naming --listen otherwise."""
    from factbot.errors import ConfigError

    host, sep, port = listen.rpartition(":")
    if not sep or not host or not port.isdigit() or int(port) > 65535:
        raise ConfigError(f"--listen {listen!r}: expected HOST:PORT, like {DEFAULT_LISTEN}")
    return host.removeprefix("[").removesuffix("]"), int(port)


def is_loopback(host: str) -> bool:
    import ipaddress

    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def dashboard_main(args: Any, settings: Any) -> int:
    """``factbot dashboard``: refuse a non-loopback address without a token, then serve."""
    from factbot.cli import _until_signal
    from factbot.errors import ConfigError

    host, port = parse_listen(getattr(args, "listen", None) or DEFAULT_LISTEN)
    token = settings.dashboard.token.reveal() if settings.dashboard.token else ""
    if not is_loopback(host) and not token:
        raise ConfigError(f"--listen {host}:{port}: the dashboard listens beyond this machine "
                          f"only with a token; set FACTBOT_DASHBOARD_TOKEN (or dashboard.token "
                          f"in the config file)")
    return asyncio.run(_until_signal(serve(args, settings, host, port, token)))


async def serve(args: Any, settings: Any, host: str, port: int, token: str,
                ready: Callable[[str], None] | None = None) -> int:
    """Open the store read-only, load and evaluate the packs, serve until cancelled."""
    from factbot.storage import db_location, make_store

    db = getattr(args, "db", None)
    where = db_location(db, settings)

    async def loader() -> views.Loaded:
        return await asyncio.to_thread(views.load, settings)

    async with make_store(db, settings, read_only=True) as store:
        if isinstance(where, str):  # PostgreSQL: the one connection writes its runs too
            async def recorder(runs: list[EvalRun]) -> None:
                for run in runs:
                    await store.record_eval(run)
        else:  # SQLite: the file is open read-only; a short write beside the bot's
            async def recorder(runs: list[EvalRun]) -> None:
                if not runs:
                    return
                async with make_store(db, settings, create=False) as writer:
                    for run in runs:
                        await writer.record_eval(run)

        loaded = await loader()
        app = make_app(store, loaded, loader, recorder, token=token,
                       local_port=None if token else port)
        await record(app[STATE], loaded.evals)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        try:
            site = web.TCPSite(runner, host, port)
            await site.start()
            bound = int(runner.addresses[0][1])  # the port chosen, for --listen HOST:0
            if not token:
                app[STATE].local_port = bound
            shown = f"[{host}]" if ":" in host else host
            url = f"http://{shown}:{bound}/"
            print(f"factbot dashboard on {url} ("
                  f"{'token required' if token else 'this machine only, no token'})",
                  flush=True)
            if ready is not None:
                ready(url)
            await asyncio.Event().wait()
        finally:
            await runner.cleanup()
    return 0
