"""The dashboard's web layer through aiohttp's test client: pages, access, headers, CSRF.

A store seeded with a month of questions (tests/dashboard_seed.py), the default packs
loaded, checked and evaluated once for the module.
"""

from __future__ import annotations

import asyncio
import logging
import re
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from aiohttp import ClientResponse, web
from aiohttp.test_utils import TestClient, TestServer

from factbot.dashboard import app as dashboard
from factbot.dashboard import views
from factbot.settings import Settings
from factbot.storage import MemoryStore
from factbot.storage.base import EvalRun
from factbot.storage.sqlite import SqliteStore
from tests.dashboard_seed import Seeded, seed
from tests.test_cli_storage import env, factbot  # noqa: F401 (env: a fixture)
from tests.test_sqlite_lock import holder  # noqa: F401 (a fixture)

TOKEN = "dashboard-token-" + "x7" * 12
PAGES = ("/", "/?days=7", "/?days=90", "/unanswered", "/unanswered?days=7", "/try",
         "/try?q=is+k-pop+popular+in+malaysia", "/try?q=what+is+the+visa+fee+for+korea",
         "/health", "/accuracy")


@pytest.fixture(scope="module")
def loaded() -> views.Loaded:
    return views.load(Settings())


class Harness:
    def __init__(self, seeded: Seeded, loaded: views.Loaded) -> None:
        self.seeded = seeded
        self.loaded = loaded
        self.loads = 0
        self.recorded: list[EvalRun] = []

    async def loader(self) -> views.Loaded:
        self.loads += 1
        return self.loaded

    async def recorder(self, runs: list[EvalRun]) -> None:
        self.recorded += runs
        for run in runs:
            await self.seeded.store.record_eval(run)

    def app(self, token: str = "") -> web.Application:
        return dashboard.make_app(self.seeded.store, self.loaded, self.loader, self.recorder,
                                  token=token)


@pytest.fixture
async def harness(loaded: views.Loaded) -> Harness:
    return Harness(await seed(), loaded)


Client = Callable[..., Awaitable[TestClient[Any, Any]]]


@pytest.fixture
async def client(harness: Harness) -> AsyncIterator[Client]:
    opened: list[TestClient[Any, Any]] = []

    async def make(token: str = "") -> TestClient[Any, Any]:
        c: TestClient[Any, Any] = TestClient(TestServer(harness.app(token), host="127.0.0.1"))
        await c.start_server()
        opened.append(c)
        return c

    yield make
    for c in opened:
        await c.close()


@pytest.fixture
def penalties(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Each wrong token's penalty, recorded instead of slept."""
    paid: list[int] = []

    async def record(state: dashboard.State) -> None:
        paid.append(1)

    monkeypatch.setattr(dashboard, "wrong_token", record)
    return paid


def harness_state(c: TestClient[Any, Any]) -> dashboard.State:
    assert isinstance(c.server, TestServer) and c.server.app is not None
    return c.server.app[dashboard.STATE]


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "no CSRF field in the page"
    return found.group(1)


def check_headers(response: ClientResponse, page: bool = True) -> None:
    h = response.headers
    csp = h["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert h["X-Content-Type-Options"] == "nosniff"
    assert h["X-Frame-Options"] == "DENY"
    assert h["Referrer-Policy"] == "no-referrer"
    if page:
        assert h["Cache-Control"] == "no-store"


# --- pages ---------------------------------------------------------------------------------


async def test_every_page_renders_with_the_security_headers_and_no_inline_script(
        client: Client) -> None:
    c = await client()
    for path in PAGES:
        response = await c.get(path)
        assert response.status == 200, path
        check_headers(response)
        html = await response.text()
        # Scripts only from /static: the CSP would block an inline one anyway.
        assert re.findall(r"<script(?![^>]*\bsrc=)", html) == [], path
        assert " style=" not in html and "<style" not in html, path
    for path in ("/static/dashboard.js", "/static/dashboard.css"):
        response = await c.get(path)
        assert response.status == 200
        check_headers(response, page=False)
    missing = await c.get("/nowhere")
    assert missing.status == 404
    check_headers(missing)


async def test_overview_charts_have_a_point_per_day_and_platform(
        client: Client, harness: Harness) -> None:
    c = await client()
    html = await (await c.get("/?days=30")).text()
    asked = html[html.index('id="asked-chart"'):html.index('id="outcome-chart"')]
    series = re.findall(r'data-series="(\w+)" data-points="(\d+)"', asked)
    assert sorted(series) == [("discord", "30"), ("telegram", "30")]
    values = {name: [float(v) for v in re.findall(r'data-value="([\d.]+)"', part)]
              for name, part in re.findall(r'data-series="(\w+)"(.*?)</g>', asked, re.S)}
    assert values == {p: [float(n) for n in harness.seeded.asked[p]] for p in values}
    outcomes = html[html.index('id="outcome-chart"'):]
    assert len(re.findall(r"<rect [^>]*data-value", outcomes)) == 30 * 3  # answered, I don't
    # know, Not what I asked: the seed has votes


async def test_unanswered_groups_rewordings_and_suggests_yaml(client: Client,
                                                              harness: Harness) -> None:
    c = await client()
    html = await (await c.get("/unanswered?days=30")).text()
    groups = re.findall(r'<article class="group">(.*?)</article>', html, re.S)
    concert = next(g for g in groups if "<li>when is the next blackpink concert " in g)
    # One group of the concert's wordings, each counted as seeded, with a keyword for it.
    count = int(re.search(r'class="count"[^>]*>(\d+)×', concert).group(1))  # type: ignore[union-attr]
    wordings = {text: int(n) for text, n in
                re.findall(r'<li>([^<]+?) <span class="n">(\d+)×</span></li>', concert)}
    # "kuala lumpur" is one of the pack's generic terms: it does not set a wording apart.
    assert set(wordings) == {"when is the next blackpink concert", "blackpink concert kl when",
                             "is there a blackpink concert in kuala lumpur"}
    assert wordings == {t: harness.seeded.misses[t] for t in wordings}
    assert count == sum(wordings.values())
    assert "- command: hallyu\n  keywords: [concert]" in concert
    assert 'data-copy="yaml-' in concert
    # The most asked group comes first.
    counts = [int(n) for n in re.findall(r'class="count"[^>]*>(\d+)×', html)]
    assert counts == sorted(counts, reverse=True)


async def test_try_a_question_shows_the_bots_own_decision(client: Client,
                                                         loaded: views.Loaded) -> None:
    c = await client()
    for text in ("is k-pop popular in malaysia", "when is the next blackpink concert",
                 "what is the visa fee for korea"):
        html = await (await c.get("/try", params={"q": text})).text()
        decision = loaded.bot.decide(text)
        heading = re.search(r'<section class="decision[^"]*" id="decision">\s*<h2>(.*?)</h2>',
                            html, re.S)
        assert heading is not None
        expected = f"Answered: /{decision.intent}" if decision.intent else "“I don't know”"
        assert heading.group(1) == expected
    html = await (await c.get("/try", params={"q": "when is the next blackpink concert"})).text()
    assert 'class="refused-by">asks when<' in html
    assert "<td>concert</td>" not in html and "<code>concert</code>" in html  # unknown word


async def test_health_shows_the_check_report(client: Client, loaded: views.Loaded) -> None:
    c = await client()
    html = await (await c.get("/health")).text()
    topics = [t.command for p in loaded.report.packs for t in p.topics]
    assert topics and all(f"<td>/{t}</td>" in html for t in topics)
    assert html.count('<ul class="unreachable">') == (1 if any(
        f.check == "unreachable" for f in loaded.report.warnings) else 0)


async def test_accuracy_shows_the_history_and_this_load(client: Client,
                                                        loaded: views.Loaded) -> None:
    c = await client()
    html = await (await c.get("/accuracy")).text()
    points = re.findall(r'data-series="on-topic top-1" data-points="(\d+)"', html)
    assert points == ["4"]  # three seeded runs and the evaluation of this load
    assert f"{loaded.evals[0].top1:.1%}" in html


async def test_no_page_shows_a_user_id_or_its_hash(client: Client, harness: Harness) -> None:
    c = await client()
    for path in PAGES:
        html = await (await c.get(path)).text()
        for raw, hashed in zip(harness.seeded.raw_ids, harness.seeded.hashes, strict=True):
            assert raw not in html and hashed not in html, path


# --- access --------------------------------------------------------------------------------


async def test_local_only_answers_a_loopback_host_and_nothing_else(client: Client) -> None:
    c = await client()
    assert (await c.get("/", headers={"Host": "localhost"})).status == 200
    rebound = await c.get("/", headers={"Host": "evil.example:8080"})
    assert rebound.status == 421
    check_headers(rebound)


def test_host_is_local() -> None:
    assert dashboard.host_is_local("127.0.0.1:8080", 8080)
    assert dashboard.host_is_local("[::1]:8080", 8080)
    assert dashboard.host_is_local("LOCALHOST:8080", None)
    assert not dashboard.host_is_local("127.0.0.1:8081", 8080)
    assert not dashboard.host_is_local("127.0.0.1.evil.example:8080", 8080)


async def test_with_a_token_every_page_needs_it(client: Client, penalties: list[int]) -> None:
    c = await client(TOKEN)
    response = await c.get("/", allow_redirects=False)
    assert response.status == 303 and response.headers["Location"] == "/login"
    check_headers(response)
    assert (await c.get("/login")).status == 200
    assert (await c.get("/static/dashboard.css")).status == 200
    assert (await c.get("/", headers={"Authorization": f"Bearer {TOKEN}"})).status == 200
    assert penalties == []
    wrong = await c.get("/", headers={"Authorization": f"Bearer {TOKEN[:-1]}y"})
    assert wrong.status == 401
    check_headers(wrong)
    assert penalties == [1]
    assert (await c.post("/reload", data={"csrf": "x"})).status == 401


async def test_the_token_is_compared_in_constant_time(client: Client,
                                                       monkeypatch: pytest.MonkeyPatch,
                                                       penalties: list[int]) -> None:
    compared: list[tuple[bytes, bytes]] = []
    real = dashboard.hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr(dashboard.hmac, "compare_digest", spy)
    c = await client(TOKEN)
    await c.get("/", headers={"Authorization": "Bearer nope"})
    await c.post("/login", data={"token": "nope"})
    assert compared == [(TOKEN.encode(), b"nope")] * 2
    assert penalties == [1, 1]


async def test_wrong_guesses_wait_their_turn(harness: Harness,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    state = dashboard.State(store=harness.seeded.store, loader=harness.loader,
                            recorder=harness.recorder, loaded=harness.loaded, token=TOKEN)
    active: list[int] = []
    overlap: list[int] = []

    async def fake_sleep(delay: float) -> None:
        active.append(1)
        overlap.append(len(active))
        await real_sleep(0)
        await real_sleep(0)
        active.pop()

    real_sleep = asyncio.sleep
    monkeypatch.setattr(dashboard.asyncio, "sleep", fake_sleep)
    await asyncio.gather(*(dashboard.wrong_token(state) for _ in range(5)))
    assert overlap == [1] * 5  # one penalty at a time


async def test_the_login_form_sets_a_strict_httponly_session_cookie(
        client: Client, penalties: list[int], caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    c = await client(TOKEN)
    bad = await c.post("/login", data={"token": "guess"}, allow_redirects=False)
    assert bad.status == 403 and "That token is not right." in await bad.text()
    assert "Set-Cookie" not in bad.headers and penalties == [1]
    good = await c.post("/login", data={"token": TOKEN}, allow_redirects=False)
    assert good.status == 303
    cookie = good.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/" in cookie
    assert TOKEN not in cookie
    page = await c.get("/")
    assert page.status == 200 and TOKEN not in await page.text()
    assert TOKEN not in caplog.text
    forged = await c.post("/logout", data={"csrf": "from another site"},
                          allow_redirects=False)
    assert forged.status == 303 and "Set-Cookie" not in forged.headers
    assert (await c.get("/", allow_redirects=False)).status == 200  # still logged in
    logout = await c.post("/logout", data={"csrf": csrf_of(await page.text())},
                          allow_redirects=False)
    assert logout.status == 303
    assert (await c.get("/", allow_redirects=False)).status == 303  # the session is gone


async def test_a_token_of_undecodable_bytes_is_a_wrong_token_not_an_error(
        client: Client, penalties: list[int]) -> None:
    c = await client(TOKEN)
    assert c.server.host is not None and c.server.port is not None
    reader, writer = await asyncio.open_connection(c.server.host, c.server.port)
    writer.write(b"GET / HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \xff\xfe\r\n"
                 b"Connection: close\r\n\r\n")
    await writer.drain()
    answer = await asyncio.wait_for(reader.read(4096), 10)
    writer.close()
    assert answer.startswith(b"HTTP/1.1 401"), answer[:100]
    assert penalties == [1]


async def test_reload_needs_the_sessions_csrf_token(client: Client, harness: Harness) -> None:
    c = await client()
    html = await (await c.get("/health")).text()
    token = csrf_of(html)
    for forged in ({}, {"csrf": ""}, {"csrf": token[:-2] + "zz"}):
        refused = await c.post("/reload", data=forged, allow_redirects=False)
        assert refused.status == 403, forged
        assert "CSRF" in await refused.text()
    assert harness.loads == 0
    done = await c.post("/reload", data={"csrf": token, "back": "/accuracy"},
                        allow_redirects=False)
    assert done.status == 303 and done.headers["Location"] == "/accuracy"
    assert harness.loads == 1 and harness.recorded == harness.loaded.evals
    shown = await (await c.get("/accuracy")).text()
    assert "Reloaded 1 pack(s)" in shown and "SIGHUP" in shown
    # Another browser (no session cookie) cannot post the form, with or without a token.
    other = await client()
    assert (await other.post("/reload", data={"csrf": token},
                             allow_redirects=False)).status == 403


async def test_a_reload_that_fails_keeps_the_last_good_packs(client: Client,
                                                             harness: Harness) -> None:
    from factbot.errors import PackError

    async def broken() -> views.Loaded:
        raise PackError("facts/x/pack.yaml", 3, "a quote is not in the article")

    c = await client()
    state = harness_state(c)
    state.loader = broken
    token = csrf_of(await (await c.get("/")).text())
    await c.post("/reload", data={"csrf": token, "back": "/"}, allow_redirects=False)
    html = await (await c.get("/health")).text()
    assert "Reload refused, still showing the last good packs" in html
    assert state.loaded is harness.loaded


async def test_a_bearer_token_holder_may_reload_without_a_form(client: Client,
                                                               harness: Harness) -> None:
    c = await client(TOKEN)
    done = await c.post("/reload", headers={"Authorization": f"Bearer {TOKEN}"},
                        allow_redirects=False)
    assert done.status == 303 and harness.loads == 1


# --- the command ---------------------------------------------------------------------------


def test_listening_beyond_loopback_without_a_token_exits_2_in_one_line(
        env: dict[str, str]) -> None:  # noqa: F811
    done = factbot("dashboard", "--listen", "0.0.0.0:8080", env=env)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1
    assert done.stderr.startswith("factbot: error: --listen 0.0.0.0:8080: the dashboard "
                                  "listens beyond this machine only with a token; set "
                                  "FACTBOT_DASHBOARD_TOKEN")
    bad = factbot("dashboard", "--listen", "nowhere", env=env)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "--listen 'nowhere'" in \
        bad.stderr


def test_loopback_names() -> None:
    assert all(dashboard.is_loopback(h) for h in ("127.0.0.1", "127.0.0.2", "::1",
                                                  "localhost"))
    assert not any(dashboard.is_loopback(h) for h in ("0.0.0.0", "::", "10.0.0.1",
                                                      "example.org"))


async def test_the_command_reads_sqlite_read_only_and_keeps_its_evaluations(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "state.db"
    async with SqliteStore(db) as store:
        await seed(store, days=3, per_day=3, evals=False)
    await serve_and_get(str(db), ("/", "/unanswered", "/accuracy"))
    async with SqliteStore(db, read_only=True) as store:
        runs = await store.eval_history()
    assert [r.pack for r in runs] == ["korea-malaysia"]
    assert runs[0].at <= datetime.now(UTC) and runs[0].questions > 0
    # Nothing but the evaluation was written: the seeded rows are as they were.
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM eval_runs").fetchone() == (1,)


async def test_a_memory_store_works_too() -> None:
    # The views need only the store interface: an empty store gives empty pages, no error.
    data = await views.overview(MemoryStore(), 7, datetime.now(UTC).date())
    assert data["questions"] == 0 and data["asked_chart"] is None


async def serve_and_get(db: str, paths: tuple[str, ...]) -> None:
    """``factbot dashboard --db DB`` on a free port, each path fetched: all must be 200."""
    import aiohttp

    args = type("Args", (), {"db": db})()
    urls: asyncio.Queue[str] = asyncio.Queue()
    server = asyncio.create_task(dashboard.serve(args, Settings(), "127.0.0.1", 0, "",
                                                 ready=urls.put_nowait))
    try:
        url = await asyncio.wait_for(urls.get(), 60)
        async with aiohttp.ClientSession() as session:
            for path in paths:
                async with session.get(url.rstrip("/") + path) as response:
                    assert response.status == 200, path
    finally:
        server.cancel()
        with pytest.raises(asyncio.CancelledError):
            await server


async def test_the_command_on_postgresql_reads_and_keeps_its_evaluations(
        postgres_url: str) -> None:
    from factbot.storage.postgres import PostgresStore

    async with PostgresStore(postgres_url) as store:
        seeded = await seed(store, days=3, per_day=3, evals=False)
    await serve_and_get(postgres_url, ("/", "/unanswered", "/accuracy"))
    async with PostgresStore(postgres_url) as store:
        runs = await store.eval_history()
        activity = await store.activity(seeded.now.date())
    assert [r.pack for r in runs] == ["korea-malaysia"]
    assert activity  # the seeded day is there to chart


async def test_the_command_reads_the_file_a_running_bot_holds(
        tmp_path: Path, env: dict[str, str], holder: Any) -> None:  # noqa: F811
    # `factbot chat` holds tmp_path/x.db (its flock): the dashboard reads beside it, and
    # writes only its evaluation, through SQLite's own locking.
    await serve_and_get(str(tmp_path / "x.db"), ("/", "/unanswered", "/accuracy"))
    assert holder.poll() is None
    async with SqliteStore(tmp_path / "x.db", read_only=True) as store:
        assert [r.pack for r in await store.eval_history()] == ["korea-malaysia"]


async def test_a_session_ends_after_its_time(client: Client, monkeypatch: pytest.MonkeyPatch,
                                             penalties: list[int]) -> None:
    c = await client(TOKEN)
    await c.post("/login", data={"token": TOKEN}, allow_redirects=False)
    assert (await c.get("/", allow_redirects=False)).status == 200
    later = dashboard.clock() + dashboard.SESSION_TTL + 1
    monkeypatch.setattr(dashboard, "clock", lambda: later)
    gone = await c.get("/", allow_redirects=False)
    assert gone.status == 303 and gone.headers["Location"] == "/login"


async def test_what_members_typed_is_shown_as_text_never_as_markup(
        client: Client, harness: Harness) -> None:
    hostile = '<script>alert(1)</script> "><img src=x onerror=alert(2)>'
    for n in range(3):
        await harness.seeded.store.record_unmatched("telegram", hostile, f"h{n}")
    c = await client()
    for path in ("/unanswered?days=7", "/try?q=" + quote(hostile)):
        html = await (await c.get(path)).text()
        assert "<script>alert" not in html and "<img src=x" not in html, path
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html, path


async def test_evaluations_the_store_would_not_keep_are_said_so_and_still_shown(
        client: Client, harness: Harness) -> None:
    from factbot.errors import StorageError

    async def failing(runs: list[EvalRun]) -> None:
        raise StorageError("state.db: read-only: factbot must be able to write its state there")

    c = await client()
    state = harness_state(c)
    state.recorder = failing
    token = csrf_of(await (await c.get("/accuracy")).text())
    await c.post("/reload", data={"csrf": token, "back": "/accuracy"}, allow_redirects=False)
    html = await (await c.get("/accuracy")).text()
    assert "These evaluations were not kept in the store: state.db: read-only" in html
    assert f"{harness.loaded.evals[0].top1:.1%}" in html  # this load's run, from memory
