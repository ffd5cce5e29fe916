"""FactBot: the platform-neutral bot every adapter wraps.

``handle`` takes one IncomingMessage and returns the Reply to send, or None to
stay quiet. Matching (factbot.matcher), deciding (factbot.router) and saying
(factbot.render) are separate steps. Built-in commands are declared with ``@command``
(factbot.commands) here and in the features (factbot.features), and dispatched in one
place, ``_answer``, which also checks who may run them.
"""

from __future__ import annotations

import asyncio
import contextvars
import dataclasses
import hashlib
import hmac
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, TypeVar

from factbot.catalogue import Catalogue
from factbot.commands import Access, Context, Menu, Option, command, declared, table
from factbot.errors import PackError
from factbot.features.cooldown import CooldownLimiter, Cooldowns, Verdict
from factbot.features.daily import DailyFacts
from factbot.features.language import ChatLanguage
from factbot.features.stats import Stats
from factbot.features.switches import TopicSwitches
from factbot.i18n import ENGLISH, ENGLISH_STRINGS, LANGUAGES, choose, strings, supported
from factbot.lru import LRU
from factbot.matcher import Candidate, Matcher
from factbot.matching.index import Index
from factbot.messages import IncomingMessage, Reply, ReplyKind, fact_key
from factbot.packs import FactPack, Topic, load_packs, paragraphs
from factbot.render import (
    MAX_NEAR,
    render_context,
    render_fact,
    render_fallback,
    render_help,
    render_info,
    render_slow_down,
    render_source,
    render_start,
    render_topics,
)
from factbot.router import THRESHOLD, Decision, decide, parse_command
from factbot.settings import CooldownSettings
from factbot.storage import BaseStore, ChatKey, MemoryStore
from factbot.storage.base import ChatSettings

if TYPE_CHECKING:  # imported only by `factbot run` with metrics on (prometheus_client)
    from factbot.metrics import Metrics

log = logging.getLogger(__name__)
T = TypeVar("T")
ANY_TOPIC = "*"  # the rotation key of /fact with no topic: a round over every topic
MAX_TEXT = 4096  # longer messages are read this far (Telegram's own limit)
MAX_CACHED_TEXT = 256  # only short messages repeat often enough to be worth caching
# /source names the pack of the chat's last fact; chats beyond this many recent ones
# get the first pack's source, as a chat that never asked does.
LAST_PACK_CHATS = 10_000
NOT_ADMIN = ENGLISH_STRINGS("not_admin")
NOT_OPERATOR = ENGLISH_STRINGS("not_operator")
# A fallback suggests the topics a question scored at least this on ("Did you mean /trade?"):
# close to an answer, but under THRESHOLD or too close to call between two topics.
NEAR = 0.25
# Set where the cooldown silences a sender, so that a measured handle() can tell that None
# from a message that was not for us. A context variable: concurrent messages cannot mix.
_SILENCED: contextvars.ContextVar[bool] = contextvars.ContextVar("factbot_silenced",
                                                                 default=False)
# The outcome (factbot.metrics.OUTCOMES) of each kind of reply; any other is a command's.
_OUTCOME = {ReplyKind.FACT: "fact", ReplyKind.FALLBACK: "fallback",
            ReplyKind.SLOW_DOWN: "cooldown"}


def _clean(text: str) -> str:
    """At most MAX_TEXT characters, and no lone surrogates (they cannot be stored or sent)."""
    text = text[:MAX_TEXT]
    if text.isascii():
        return text
    return text.encode("utf-8", "replace").decode("utf-8")


class Platform(Protocol):
    """What the core may ask of an adapter."""

    name: str

    async def is_admin(self, message: IncomingMessage) -> bool:
        """Whether the sender may change this chat's settings."""
        ...

    async def send(self, chat_id: str, reply: Reply) -> None:
        """Post a reply to a chat unprompted (the daily fact)."""
        ...


@dataclass(frozen=True, slots=True)
class Press:
    """A member's press of a button under a fact reply ("Not what I asked", "Show context")."""

    platform: str
    chat_id: str
    user_id: str
    topic: str
    fact: int | None  # the fact's index in its topic, as the button carries it
    key: str = ""  # messages.fact_key of the quote shown: without it, no fact is named
    reply_key: str = ""  # the reply's own id on the platform: one vote per member per reply
    question: str = ""  # what was asked, where the platform still has it
    language: str | None = None  # the member's app language
    is_group: bool = True


@dataclass(frozen=True, slots=True)
class ReloadResult:
    ok: bool  # False: refused, the last good packs stay
    changed: bool  # the command menus differ from before
    message: str


class FactBot:
    """Answers messages with verbatim, cited facts from the loaded packs."""

    def __init__(self, packs: Sequence[FactPack], store: BaseStore | None = None, *,
                 threshold: float = THRESHOLD, salt: str = "",
                 cooldown: CooldownSettings | None = None,
                 facts_dir: Path | None = None, operators: Iterable[str] = (),
                 index: Index | None = None) -> None:
        self.facts_dir = facts_dir  # where reload() reads the packs again; None: no reload
        # "platform:user id" of the people who run the bot: only they may /reload from a chat.
        self.operators = frozenset(operators)
        self.store: BaseStore = store if store is not None else MemoryStore()
        self.threshold = threshold
        self._salt = salt  # empty: the store's own random salt
        self._storage_failed = False
        self.metrics: Metrics | None = None  # see instrument()
        self._last_pack: LRU[ChatKey, str] = LRU(LAST_PACK_CHATS)  # a reload may replace it
        # Adapters register here to re-publish their command menus after a reload.
        self.reload_listeners: list[Callable[[], Awaitable[None]]] = []
        self.load(packs, index)
        # Features get what they need: the store, the packs of the moment, their settings.
        self.switches = TopicSwitches(self.store)
        self.daily = DailyFacts(self.store, self._current)
        self.stats = Stats(self.store)
        self.cooldowns = Cooldowns(self.store, cooldown)
        self.language = ChatLanguage(self.store)
        owners: list[object] = [self, self.switches, self.daily, self.stats, self.cooldowns,
                                self.language]
        handlers = {c.name: (owner, c) for owner in owners for c in declared(type(owner))}
        self._commands = {c.name: handlers[c.name] for c in table()}

    def load(self, packs: Sequence[FactPack], index: Index | None = None) -> None:
        """Swap in a new set of packs in one step: a reader sees old or new, never a mix."""
        # A new cache goes with new packs.
        self.catalogue = Catalogue(packs, index)  # with a decision cache of its own
        if self.metrics is not None:
            self.metrics.loaded(self.catalogue.packs)

    def instrument(self, metrics: Metrics) -> None:
        """Count and time messages, store calls, reloads and daily facts in ``metrics``.

        ``handle`` and ``_guard`` are replaced on this bot by measured versions, so that a
        bot without metrics runs the same code as before, without even a branch
        (bench/matcher.py's ``full handle()``).
        """
        self.metrics = metrics
        self.daily.metrics = metrics
        metrics.loaded(self.packs)
        self.handle = self._measured_handle  # type: ignore[method-assign]  # see above
        self._guard = self._measured_guard  # type: ignore[method-assign]

    def _current(self) -> Catalogue:
        return self.catalogue

    @property
    def packs(self) -> tuple[FactPack, ...]:
        return self.catalogue.packs

    @property
    def matcher(self) -> Matcher:
        return self.catalogue.matcher

    @property
    def limiter(self) -> CooldownLimiter | None:
        return self.cooldowns.limiter

    def decide(self, text: str, catalogue: Catalogue | None = None) -> Decision:
        """What ``text`` asks for; repeated messages ("/hallyu", "kpop") skip the matcher."""
        catalogue = catalogue or self.catalogue
        decisions = catalogue.decisions
        found = decisions.get(text)
        if found is None:
            found = decide(catalogue.matcher, text, self.threshold)
            if len(text) <= MAX_CACHED_TEXT:
                decisions[text] = found
        return found

    async def reload(self) -> ReloadResult:
        """Load the packs again from ``facts_dir``; on any fault keep serving the last good ones.

        Listeners (adapters re-publishing their menus) run only when the commands changed.
        """
        result = await self._reload()
        if self.metrics is not None:
            self.metrics.reloaded(result.ok)
        return result

    async def _reload(self) -> ReloadResult:
        if self.facts_dir is None:
            return ReloadResult(False, False, "this bot was not started from a facts directory")
        try:
            # Reading and validating files happens off the event loop; the swap happens on it.
            packs = await asyncio.to_thread(load_packs, self.facts_dir)
        except PackError as exc:
            log.error("reload refused, still serving the last good packs: %s", exc)
            return ReloadResult(False, False, f"refused: {exc}")
        except Exception:  # MemoryError, RecursionError, a bug: none may stop the bot
            log.exception("reload failed, still serving the last good packs")
            return ReloadResult(False, False, "failed: the packs could not be loaded (the log "
                                              "has the details)")
        before = self.menus()
        self.load(packs)
        changed = self.menus() != before
        log.info("reloaded %d pack(s) from %s%s", len(packs), self.facts_dir,
                 "; commands changed" if changed else "")
        if changed:
            for listener in list(self.reload_listeners):
                try:
                    await listener()
                except Exception:
                    log.exception("a reload listener failed to re-register the commands")
        topics = sum(len(p.topics) for p in packs)
        return ReloadResult(True, changed, f"reloaded {len(packs)} pack(s), {topics} topics"
                            + ("; the command menus were updated" if changed else ""))

    # --- menus -------------------------------------------------------------------

    def topic_commands(self, language: str = ENGLISH) -> list[tuple[str, str]]:
        """Each topic's command and description (in ``language`` where the pack has it)."""
        return [(t.command, t.described(language)) for p in self.packs for t in p.topics]

    def commands(self, language: str = ENGLISH, admins: bool = False) -> list[tuple[str, str]]:
        """A command menu: the topics, then the built-ins offered to everyone, and with
        ``admins`` those offered to admins too, described in ``language``."""
        t = strings(language)
        shown = (Menu.EVERYONE, Menu.ADMINS) if admins else (Menu.EVERYONE,)
        return self.topic_commands(language) + [(c.name, t.command(c)) for c in table()
                                                if c.menu in shown]

    def menus(self) -> dict[tuple[str, bool], list[tuple[str, str]]]:
        """Every menu, by (language, for admins): what a reload compares."""
        return {(lang, admins): self.commands(lang, admins)
                for lang in LANGUAGES for admins in (False, True)}

    def topic(self, name: str) -> tuple[FactPack, Topic] | None:
        return self.catalogue.topic(name)

    def search(self, text: str, limit: int = 10, language: str | None = None) -> list[Reply]:
        """Facts for an inline query, best first; an empty query gives each topic's lead."""
        topics = self.catalogue.topics
        t = strings(choose(language, text, None))
        if not text.strip():
            return [render_fact(p, topic, topic.facts[0], t=t)
                    for p, topic in topics.values()][:limit]
        decision = self.decide(text)
        out: list[Reply] = []
        seen: set[str] = set()
        if decision.intent in topics:
            pack, topic = topics[decision.intent]
            first = decision.candidate.fact if decision.candidate else None
            for fact in ([first] if first else []) + list(topic.facts):
                if fact is not None and fact.quote not in seen:
                    seen.add(fact.quote)
                    out.append(render_fact(pack, topic, fact, decision.score, t))
        return out[:limit]

    # --- handling -------------------------------------------------------------

    async def handle(self, message: IncomingMessage, platform: Platform | None = None
                     ) -> Reply | None:
        """Answer one message, or return None to stay quiet."""
        text = _clean(message.text)
        if text != message.text:
            message = dataclasses.replace(message, text=text)
        command_ = parse_command(message.text)
        if command_ is not None:
            if command_.target and message.bot_username \
                    and command_.target != message.bot_username.casefold():
                return None  # /cmd@otherbot is for another bot
        elif message.is_group and not message.addressed:
            return None  # group chatter that is not for us
        catalogue = self.catalogue  # one snapshot for the whole message
        decision = self.decide(message.text, catalogue)
        if command_ is not None and decision.intent is None and message.is_group \
                and not command_.target and not message.addressed:
            return None  # another bot's command (/ban, /roll): not ours to refuse
        chat = ChatKey(message.platform, message.chat_id)
        settings = await self._guard(self.store.chat_settings(chat), ChatSettings())
        t = strings(choose(message.language, message.text, settings.language))
        verdict = self.cooldowns.check(message, settings)
        if verdict is Verdict.SHARED:  # several processes on one database count together
            verdict = await self.cooldowns.confirm(message, settings)
        if verdict is Verdict.SLOW_DOWN:
            return render_slow_down(t)
        if verdict is Verdict.QUIET:
            _SILENCED.set(True)
            return None
        return await self._answer(Context(message, chat, settings, platform, catalogue, t),
                                  decision)

    async def _measured_handle(self, message: IncomingMessage, platform: Platform | None = None
                               ) -> Reply | None:
        """``handle``, counted by outcome and timed: ``instrument`` puts it in its place."""
        metrics = self.metrics
        assert metrics is not None  # set by instrument()
        silenced = _SILENCED.set(False)
        start = time.perf_counter()
        outcome = "error"
        try:
            reply = await type(self).handle(self, message, platform)  # the unmeasured one
            if reply is not None:
                outcome = _OUTCOME.get(reply.kind, "command")
            else:
                outcome = "cooldown" if _SILENCED.get() else "ignored"
            return reply
        finally:
            metrics.message(message.platform, outcome, time.perf_counter() - start)
            _SILENCED.reset(silenced)

    async def _answer(self, ctx: Context, decision: Decision) -> Reply:
        intent = decision.intent
        entry = self._commands.get(intent) if intent else None
        if entry is not None:
            owner, spec = entry
            needed = spec.required(decision.args)
            if not await self.permitted(needed, ctx.message, ctx.platform):
                return render_info(ctx.t("not_operator" if needed is Access.OPERATOR
                                         else "not_admin"), ctx.t)
            return await spec.handler(owner, ctx, decision.args)
        catalogue = ctx.catalogue
        found = catalogue.topic(intent) if intent else None
        if found is None:
            return await self._fallback(ctx, decision)
        pack, topic = found
        if topic.command in ctx.settings.disabled:  # not a miss to show the curators
            return render_fallback(catalogue.packs, decision.score,
                                   catalogue.enabled(ctx.settings), ctx.t)
        if decision.by_command:
            return await self._topic_reply(ctx, topic, decision.args, pack)
        return await self._fact_reply(ctx, pack, topic, decision.candidate, decision.score)

    async def permitted(self, needed: Access, message: IncomingMessage,
                        platform: Platform | None) -> bool:
        """The one permission check: who may run a command, from its declaration."""
        if needed is Access.ANYONE:
            return True
        if needed is Access.OPERATOR:
            return f"{message.platform}:{message.user_id}" in self.operators
        if not message.is_group:
            return True  # a private chat's settings are its one member's
        if platform is None:
            return False
        try:
            return await platform.is_admin(message)
        except Exception:
            log.exception("%s: could not check whether the sender is an admin",
                          message.platform)
            return False

    # --- built-in commands: the answers themselves ------------------------------------

    @command("fact", "A fact on a topic: /fact TOPIC, or any fact with /fact alone",
             kind=ReplyKind.FACT,
             phrases=("random fact", "a fact", "any fact", "fun fact", "surprise me",
                      "another fact", "tell me something", "fakta", "fakta menarik",
                      "fakta rawak", "재미있는 사실", "아무거나"),
             options=(Option("topic", "A topic name, alias or keyword", kind="topic",
                             required=True),))
    async def fact(self, ctx: Context, args: str) -> Reply:
        if not args.strip():
            return await self._any_fact(ctx)
        return await self._named_topic(ctx, args) \
            or await self._fallback(ctx, Decision(None), args)

    @command("ask", "Ask a question in your own words", kind=ReplyKind.FACT,
             options=(Option("question", "Your question, in your own words",
                             required=True),))
    async def ask(self, ctx: Context, args: str) -> Reply:
        # "/ask /hallyu" may name a topic; a bare question is cached like any message.
        question = self.decide(args, ctx.catalogue) if args.strip() else Decision(None)
        if question.intent == "ask":
            question = Decision(None)
        if question.intent is None:
            return await self._fallback(ctx, question, args)
        return await self._answer(ctx, question)

    @command("help", "How to ask and what the bot can do", bare=True, kind=ReplyKind.HELP,
             phrases=("help", "how to use", "how do i use", "how does this work",
                      "how does this bot work", "how do you work", "commands", "command",
                      "usage", "instructions", "guide", "bantuan", "tolong", "cara guna",
                      "macam mana nak guna", "macam mana guna", "camne nak guna", "nak guna",
                      "cara pakai", "도움말", "도움", "사용법", "어떻게 써", "어떻게 사용"))
    async def help(self, ctx: Context, args: str) -> Reply:
        return render_help(ctx.catalogue.packs, ctx.t)

    @command("source", "Where the facts come from", bare=True, kind=ReplyKind.SOURCE,
             phrases=("source", "sources", "article", "where from", "where is this from",
                      "where does this come from", "cite", "citation", "reference", "news",
                      "original", "quotes", "quote", "these quotes", "published",
                      "publisher", "story", "where did you get", "where do you get",
                      "where do u get", "who wrote", "dari mana", "info dari mana", "sumber",
                      "rujukan", "artikel", "berita", "출처", "기사", "원문", "뉴스"))
    async def source(self, ctx: Context, args: str) -> Reply:
        packs = ctx.catalogue.packs
        named = self._last_pack.get(ctx.chat)
        # Not known (another process showed it, a restart, an old chat): every source,
        # never one that may not be the fact's.
        return render_source([p for p in packs if p.name == named] or packs, ctx.t)

    @command("start", "Start here: what this bot knows", bare=True, menu=Menu.NONE,
             kind=ReplyKind.HELP, phrases=("start", "begin", "get started", "mula", "시작"))
    async def start(self, ctx: Context, args: str) -> Reply:
        # "/start hallyu": a deep link (t.me/bot?start=hallyu) to one topic.
        if args.strip():
            found = await self._named_topic(ctx, args)
            if found is not None:
                return found
        return render_start(ctx.catalogue.packs, ctx.t)

    @command("reload", "Operators: reload the fact packs", access=Access.OPERATOR,
             menu=Menu.ADMINS, private=True)
    async def reload_packs(self, ctx: Context, args: str) -> Reply:
        result = await self.reload()
        t = ctx.t
        if not result.ok:
            return render_info(t("reload.refused", result=result.message), t)
        catalogue = self.catalogue
        done = t("reload.done", packs=len(catalogue.packs), topics=len(catalogue.topics))
        return render_info(f"{done} {t('reload.menus')}" if result.changed else done, t)

    # --- facts ---------------------------------------------------------------------

    async def _named_topic(self, ctx: Context, args: str) -> Reply | None:
        """The topic ``args`` names (``/fact hallyu``), unless unknown or off in this chat."""
        catalogue = ctx.catalogue
        target = catalogue.matcher.resolve_command(args.split()[0])
        if target is None or target[0].topic is None \
                or target[0].topic.command in ctx.settings.disabled:
            return None
        return await self._topic_reply(ctx, target[0].topic, "", None)

    async def _any_fact(self, ctx: Context) -> Reply:
        """The chat's next topic in turn, and that topic's next fact."""
        catalogue, chat, settings = ctx.catalogue, ctx.chat, ctx.settings
        topics = [(p, t) for p in catalogue.packs for t in p.topics
                  if t.command not in settings.disabled]
        if not topics:
            return render_topics(catalogue.packs, set(), ctx.t)
        turn = await self._guard(self.store.next_rotation(chat, ANY_TOPIC, len(topics)), 0)
        pack, topic = topics[turn % len(topics)]
        return await self._topic_reply(ctx, topic, "", pack)

    async def _topic_reply(self, ctx: Context, topic: Topic, args: str,
                           pack: FactPack | None) -> Reply:
        """A command asks for a topic: the fact its arguments name, else the next one."""
        catalogue, chat = ctx.catalogue, ctx.chat
        if pack is None:
            pack, _ = catalogue.topics[topic.command]
        ranked = catalogue.matcher.rank_facts(topic, args) if args else []
        if ranked:
            index = ranked[0][1]
        else:
            index = await self._guard(self.store.next_rotation(chat, topic.command,
                                                               len(topic.facts)), 0)
        return await self._fact_reply(ctx, pack, topic, None, 1.0, index)

    async def _fact_reply(self, ctx: Context, pack: FactPack, topic: Topic,
                          candidate: Candidate | None, score: float, index: int = 0) -> Reply:
        fact = candidate.fact if candidate and candidate.fact else topic.facts[index]
        chat = ctx.chat
        self._last_pack[chat] = pack.name
        await self._guard(self.store.record_usage(chat.platform, topic.command, fact.quote),
                          None)
        return render_fact(pack, topic, fact, score, ctx.t)

    async def _fallback(self, ctx: Context, decision: Decision, asked: str | None = None
                        ) -> Reply:
        """I don't know, said honestly; ``asked``: the question when it came as arguments."""
        catalogue = ctx.catalogue  # the topics listed are those the decision was made on
        message = ctx.message
        if message.text.strip():
            user = await self._user_hash(message.platform, message.user_id)
            await self._guard(self.store.record_unmatched(message.platform, message.text[:500],
                                                          user), None)
        enabled = catalogue.enabled(ctx.settings)
        question = message.text if asked is None else asked
        near = self._near(catalogue, question, enabled) if parse_command(question) is None \
            else []
        return render_fallback(catalogue.packs, decision.score, enabled, ctx.t, near)

    def _near(self, catalogue: Catalogue, question: str, enabled: set[str] | None
              ) -> list[Topic]:
        """Up to MAX_NEAR topics the question came close to, the closest first."""
        if not question.strip():
            return []
        near: list[Topic] = []
        for candidate in catalogue.matcher.rank(question[:MAX_CACHED_TEXT], limit=12):
            topic = candidate.intent.topic
            if candidate.score < NEAR or len(near) == MAX_NEAR:
                break
            if topic is not None and topic not in near \
                    and (enabled is None or topic.command in enabled):
                near.append(topic)
        return near

    async def _user_hash(self, platform: str, user_id: str) -> str:
        """Keyed hash: curators can count repeat askers without seeing ids.

        The key is kept in the database, so whoever holds the file could still test guessed
        ids.
        """
        salt = self._salt or await self._guard(self.store.user_salt(), "factbot")
        digest = hmac.new(salt.encode(), f"{platform}:{user_id}".encode(), hashlib.sha256)
        return digest.hexdigest()[:16]

    # --- buttons under a fact ---------------------------------------------------------

    def _pressed(self, press: Press) -> tuple[FactPack, Topic, int] | None:
        """The fact a button was put under: by its index, checked against its key.

        A reload may have moved, edited or removed it since: a moved fact is found by its
        key, an edited or removed one is None, never the fact now at its old index.
        """
        found = self.catalogue.topic(press.topic)
        if found is None or press.fact is None:
            return None
        facts = found[1].facts
        if 0 <= press.fact < len(facts) and fact_key(facts[press.fact].quote) == press.key:
            return found[0], found[1], press.fact
        moved = next((i for i, f in enumerate(facts) if fact_key(f.quote) == press.key), None)
        return None if moved is None else (found[0], found[1], moved)

    async def press_verdict(self, press: Press) -> Verdict:
        """A button press against the presser's cooldown: counted like a message, under the
        chat's own /cooldown, and across processes where the store shares it (ANSWER, or
        SLOW_DOWN once, then QUIET, as for messages)."""
        if self.limiter is None:
            return Verdict.ANSWER
        probe = IncomingMessage(text="", platform=press.platform, chat_id=press.chat_id,
                                user_id=press.user_id, is_group=press.is_group)
        settings = await self._guard(
            self.store.chat_settings(ChatKey(press.platform, press.chat_id)), ChatSettings())
        verdict = self.cooldowns.check(probe, settings)
        if verdict is Verdict.SHARED:
            verdict = await self.cooldowns.confirm(probe, settings)
        return verdict

    async def feedback(self, press: Press) -> str:
        """"Not what I asked": log the question and the fact shown for the curators.

        One vote per member per reply (the store's unique key); presses count against the
        member's cooldown like messages. Returns the short thanks to show the member alone.
        """
        t = strings(supported(press.language))
        if await self.press_verdict(press) is not Verdict.ANSWER:
            return t("slow_down")  # a toast or a private notice: the presser alone sees it
        found = self._pressed(press)
        quote = found[1].facts[found[2]].quote if found else ""
        user = await self._user_hash(press.platform, press.user_id)
        try:
            recorded = await self.store.record_feedback(
                press.platform, press.chat_id, press.reply_key or f"{press.topic}:{press.fact}",
                user, _clean(press.question)[:500], press.topic, quote)
        except Exception as exc:
            log.warning("could not record a \"Not what I asked\": %r", exc)
            return t("not_saved")
        if self.metrics is not None:
            self.metrics.feedback(press.platform, recorded)
        return t("feedback.thanks" if recorded else "feedback.already")

    def context(self, press: Press) -> Reply | None:
        """The article's paragraph around the fact a button names, verbatim and cited."""
        found = self._pressed(press)
        if found is None:
            return None
        pack, topic, index = found
        fact = topic.facts[index]
        if fact.offset < 0 or pack.article.count(fact.quote) > 1:
            return None  # the same words twice in the article: whose paragraph is unsure
        paragraph = next(((start, end) for start, end in paragraphs(pack.article)
                          if start <= fact.offset < end), None)
        if paragraph is None:
            return None
        return render_context(pack, topic, fact, paragraph, strings(supported(press.language)))

    async def _guard(self, op: Awaitable[T], default: T) -> T:
        """Run a storage call; on failure keep answering and log the problem once."""
        try:
            return await op
        except Exception:
            self._store_failed()
            return default

    async def _measured_guard(self, op: Awaitable[T], default: T) -> T:
        """``_guard``, timed and counted by store method: ``instrument`` puts it in its place."""
        metrics = self.metrics
        assert metrics is not None  # set by instrument()
        start = time.perf_counter()
        failed = False
        try:
            return await op
        except Exception:
            failed = True
            self._store_failed()
            return default
        finally:
            # A store call is a coroutine, named after its method ("chat_settings").
            metrics.store_call(getattr(op, "__name__", "store"), time.perf_counter() - start,
                               failed)

    def _store_failed(self) -> None:
        if not self._storage_failed:
            log.exception("storage failed; answering without persistence")
            self._storage_failed = True
