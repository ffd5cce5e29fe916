"""FactBot: the platform-neutral bot every adapter wraps.

``handle`` takes one IncomingMessage and returns the Reply to send, or None to
stay quiet. Matching (bot.matcher), deciding (bot.router) and saying
(bot.render) are separate steps; this class wires them to the store.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import hmac
import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, TypeVar

from factbot import community
from factbot.errors import PackError
from factbot.matcher import Candidate, Matcher
from factbot.messages import IncomingMessage, Reply
from factbot.packs import FactPack, Topic, load_packs
from factbot.render import (
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

log = logging.getLogger(__name__)
T = TypeVar("T")
DECISION_CACHE = 4096  # distinct recent messages whose decision is kept
ANY_TOPIC = "*"  # the rotation key of /fact with no topic: a round over every topic
MAX_TEXT = 4096  # longer messages are read this far (Telegram's own limit)
MAX_CACHED_TEXT = 256  # only short messages repeat often enough to be worth caching

# Commands shown in platform menus besides the topics.
MENU_BUILTINS: tuple[tuple[str, str], ...] = (
    ("topics", "List every topic"),
    ("help", "How to ask and what the bot can do"),
    ("source", "Where the facts come from"),
)


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
class ReloadResult:
    ok: bool  # False: refused, the last good packs stay
    changed: bool  # the command menus differ from before
    message: str


class FactBot:
    """Answers messages with verbatim, cited facts from the loaded packs."""

    def __init__(self, packs: Sequence[FactPack], store: BaseStore | None = None, *,
                 threshold: float = THRESHOLD, salt: str = "",
                 cooldown: CooldownSettings | None = None,
                 facts_dir: Path | None = None, operators: Iterable[str] = ()) -> None:
        self.facts_dir = facts_dir  # where reload() reads the packs again; None: no reload
        # "platform:user id" of the people who run the bot: only they may /reload from a chat.
        self.operators = frozenset(operators)
        self.store: BaseStore = store if store is not None else MemoryStore()
        self.threshold = threshold
        self._salt = salt  # empty: the store's own random salt
        # None: no cooldown (tests, `factbot ask`); the CLI passes settings.cooldown.
        self.limiter = community.CooldownLimiter(cooldown) if cooldown is not None else None
        self._storage_failed = False
        self._last_pack: dict[ChatKey, str] = {}  # pack name: a reload may replace the pack
        # Adapters register here to re-publish their command menus after a reload.
        self.reload_listeners: list[Callable[[], Awaitable[None]]] = []
        self.load(packs)

    def load(self, packs: Sequence[FactPack]) -> None:
        """Swap in a new set of packs in one step: a reader sees old or new, never a mix."""
        matcher = Matcher(packs)
        topics = {t.command: (p, t) for p in packs for t in p.topics}
        # A decision depends only on the text and the packs: a new cache goes with new packs.
        decisions: dict[str, Decision] = {}
        self.packs, self.matcher, self._topics, self._decisions = (
            tuple(packs), matcher, topics, decisions)

    def decide(self, text: str) -> Decision:
        """What ``text`` asks for; repeated messages ("/hallyu", "kpop") skip the matcher."""
        decisions = self._decisions
        found = decisions.get(text)
        if found is None:
            found = decide(self.matcher, text, self.threshold)
            if len(text) <= MAX_CACHED_TEXT:
                if len(decisions) >= DECISION_CACHE:
                    del decisions[next(iter(decisions))]  # the oldest entry
                decisions[text] = found
        return found

    async def reload(self) -> ReloadResult:
        """Load the packs again from ``facts_dir``; on any fault keep serving the last good ones.

        Listeners (adapters re-publishing their menus) run only when the commands changed.
        """
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
        before = self.commands()
        self.load(packs)
        changed = self.commands() != before
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

    def commands(self) -> list[tuple[str, str]]:
        """Command name and description for every platform menu."""
        return [(t.command, t.description) for p in self.packs for t in p.topics] + list(
            MENU_BUILTINS)

    def topic(self, name: str) -> tuple[FactPack, Topic] | None:
        return self._topics.get(name)

    def search(self, text: str, limit: int = 10) -> list[Reply]:
        """Facts for an inline query, best first; an empty query gives each topic's lead."""
        if not text.strip():
            return [render_fact(p, t, t.facts[0]) for p, t in self._topics.values()][:limit]
        decision = self.decide(text)
        out: list[Reply] = []
        seen: set[str] = set()
        if decision.intent in self._topics:
            pack, topic = self._topics[decision.intent]
            first = decision.candidate.fact if decision.candidate else None
            for fact in ([first] if first else []) + list(topic.facts):
                if fact is not None and fact.quote not in seen:
                    seen.add(fact.quote)
                    out.append(render_fact(pack, topic, fact, decision.score))
        return out[:limit]

    # --- handling -------------------------------------------------------------

    async def handle(self, message: IncomingMessage, platform: Platform | None = None
                     ) -> Reply | None:
        """Answer one message, or return None to stay quiet."""
        text = _clean(message.text)
        if text != message.text:
            message = dataclasses.replace(message, text=text)
        command = parse_command(message.text)
        if command is not None:
            if command.target and message.bot_username \
                    and command.target != message.bot_username.casefold():
                return None  # /cmd@otherbot is for another bot
        elif message.is_group and not message.addressed:
            return None  # group chatter that is not for us
        decision = self.decide(message.text)
        if command is not None and decision.intent is None and message.is_group \
                and not command.target and not message.addressed:
            return None  # another bot's command (/ban, /roll): not ours to refuse
        chat = ChatKey(message.platform, message.chat_id)
        settings = await self._guard(self.store.chat_settings(chat), ChatSettings())
        if self.limiter is not None:
            verdict = self.limiter.check(message, settings)
            if verdict is community.Verdict.SLOW_DOWN:
                return render_slow_down()
            if verdict is community.Verdict.QUIET:
                return None
        return await self._answer(message, decision, platform, settings)

    async def _answer(self, message: IncomingMessage, decision: Decision,
                      platform: Platform | None = None,
                      settings: ChatSettings | None = None) -> Reply:
        chat = ChatKey(message.platform, message.chat_id)
        settings = settings or ChatSettings()
        enabled = self._enabled(settings)
        intent = decision.intent
        if intent in self._topics and intent in settings.disabled:
            return render_fallback(self.packs, decision.score, enabled)
        if intent == "fact" and not decision.args.strip():
            return await self._any_fact(chat, settings)
        if intent == "fact" or (intent == "start" and decision.args):
            target = self.matcher.resolve_command(decision.args.split()[0]) \
                if decision.args.split() else None
            if target is None or target[0].topic is None \
                    or target[0].topic.command in settings.disabled:
                return render_start(self.packs) if intent == "start" else \
                    await self._fallback(message, decision, enabled)
            return await self._topic_reply(chat, target[0].topic, "")
        if intent == "ask":
            # "/ask /hallyu" may name a topic; a bare question is cached like any message.
            question = self.decide(decision.args) if decision.args.strip() else decision
            if question.intent == "ask":
                question = Decision(None)
            return await self._answer(message, question, platform, settings)
        if intent == "topics":
            admin = await community.handle_topics_admin(self, message, decision.args, platform)
            return admin if admin is not None else render_topics(self.packs, enabled)
        if intent == "daily":
            return await community.handle_daily(self, message, decision.args, platform)
        if intent == "stats":
            return await community.handle_stats(self, message, platform)
        if intent == "cooldown":
            return await community.handle_cooldown(self, message, decision.args, platform)
        if intent == "help":
            return render_help(self.packs)
        if intent == "start":
            return render_start(self.packs)
        if intent == "source":
            named = self._last_pack.get(chat)
            pack = next((p for p in self.packs if p.name == named), self.packs[0])
            return render_source(pack)
        if intent == "reload":
            # Bot-wide: not for any chat's admin (anyone can make a group), only the operators.
            operator = f"{message.platform}:{message.user_id}" in self.operators
            if platform is None or not operator:
                return render_info("Only the bot's operators can reload the fact packs "
                                   "(operators in the config, or SIGHUP).")
            result = await self.reload()
            text = f"Fact packs {result.message}." if result.ok else \
                f"Reload {result.message}. Still serving the last good packs."
            return render_info(text)
        found = self._topics.get(intent) if intent else None
        if found is None:
            return await self._fallback(message, decision, enabled)
        pack, topic = found
        if decision.by_command:
            return await self._topic_reply(chat, topic, decision.args)
        return await self._fact_reply(chat, pack, topic, decision.candidate, decision.score)

    async def _any_fact(self, chat: ChatKey, settings: ChatSettings) -> Reply:
        """The chat's next topic in turn, and that topic's next fact."""
        # Pack and topic are taken together now: a reload during the await cannot split them.
        topics = [(p, t) for p in self.packs for t in p.topics
                  if t.command not in settings.disabled]
        if not topics:
            return render_topics(self.packs, set())
        turn = await self._guard(self.store.next_rotation(chat, ANY_TOPIC, len(topics)), 0)
        pack, topic = topics[turn % len(topics)]
        return await self._topic_reply(chat, topic, "", pack)

    async def _topic_reply(self, chat: ChatKey, topic: Topic, args: str,
                           pack: FactPack | None = None) -> Reply:
        """A command asks for a topic: the fact its arguments name, else the next one."""
        if pack is None:
            pack, _ = self._topics[topic.command]
        ranked = self.matcher.rank_facts(topic, args) if args else []
        if ranked:
            index = ranked[0][1]
        else:
            index = await self._guard(self.store.next_rotation(chat, topic.command,
                                                               len(topic.facts)), 0)
        return await self._fact_reply(chat, pack, topic, None, 1.0, index)

    async def _fact_reply(self, chat: ChatKey, pack: FactPack, topic: Topic,
                          candidate: Candidate | None, score: float, index: int = 0) -> Reply:
        fact = candidate.fact if candidate and candidate.fact else topic.facts[index]
        self._last_pack[chat] = pack.name
        await self._guard(self.store.record_usage(chat.platform, topic.command), None)
        return render_fact(pack, topic, fact, score)

    def _enabled(self, settings: ChatSettings) -> set[str] | None:
        """The chat's topics when it turned some off; None means all of them."""
        if not settings.disabled:
            return None
        return {t.command for p in self.packs for t in p.topics} - settings.disabled

    async def _fallback(self, message: IncomingMessage, decision: Decision,
                        enabled: set[str] | None = None) -> Reply:
        packs = self.packs  # the topics listed are those the decision was made on
        if message.text.strip():
            salt = self._salt or await self._guard(self.store.user_salt(), "factbot")
            # Keyed hash: curators can count repeat askers without seeing ids. The key is
            # kept in the database, so whoever holds the file could still test guessed ids.
            digest = hmac.new(salt.encode(), f"{message.platform}:{message.user_id}".encode(),
                              hashlib.sha256)
            await self._guard(self.store.record_unmatched(message.platform, message.text[:500],
                                                          digest.hexdigest()[:16]), None)
        return render_fallback(packs, decision.score, enabled)

    async def _guard(self, op: Awaitable[T], default: T) -> T:
        """Run a storage call; on failure keep answering and log the problem once."""
        try:
            return await op
        except Exception:
            if not self._storage_failed:
                log.exception("storage failed; answering without persistence")
                self._storage_failed = True
            return default
