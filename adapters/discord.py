"""Discord adapter on discord.py: slash commands, autocomplete, embeds and persistent buttons.

``serve`` runs the bot until a stop event (``factbot run discord``); ``sync_main``
registers the application commands (``factbot discord sync``). At start-up the
commands are synced only when their payload changed since the last sync: a hash
per application and scope is kept in a small JSON file next to the database.
``factbot discord sync --clear`` empties a guild's set or the global one, and at start-up
the bot warns once if a guild set and the global set hold the same commands (Discord then
shows them twice in that guild).

Languages: each interaction's ``locale`` goes to the core, which answers in it when it is one
of factbot's (Korean, English; Discord has no Malay locale); the commands carry Korean
``description_localizations`` (a Translator reading them from factbot's catalogues).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import contextvars
import functools
import gc
import hashlib
import inspect
import json
import logging
import os
import re
from collections import OrderedDict
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal, Optional, Self

import aiohttp
import discord
from discord import app_commands

from factbot.adapters.discord_render import (
    CONTEXT_TEMPLATE,
    NEXT_TEMPLATE,
    WRONG_TEMPLATE,
    clip,
    context_custom_id,
    next_custom_id,
    render_embed,
    wrong_custom_id,
)
from factbot.adapters.lifecycle import STOP_GRACE, raised_in, unless_stopped
from factbot.commands import Command as BuiltinCommand
from factbot.commands import Menu, Option, menu_commands
from factbot.core import FactBot, Press
from factbot.errors import ConfigError, FactbotError, UnreachableError
from factbot.features.cooldown import Verdict
from factbot.i18n import ENGLISH, strings, supported
from factbot.lru import LRU
from factbot.messages import IncomingMessage, Reply, ReplyKind, fact_key
from factbot.settings import DiscordSettings, Settings, redact_url
from factbot.storage import ChatKey
from factbot.storage.base import Shards

log = logging.getLogger(__name__)

MAX_COMMANDS = 100  # Discord's limit of chat-input commands per scope
AUTOCOMPLETE_MAX = 25
CHOICE_MAX = 100
ADMIN_CACHE_MAX = 10_000
# The locales the commands are described in besides English: Discord has no Malay one.
COMMAND_LOCALES = {discord.Locale.korean: "ko"}
DESCRIPTION_MAX = 100  # a command's or option's description, in every locale
# Fact replies this process sent, by message id: what was asked and the reply's language,
# for a later "Not what I asked". Interactions of a guild always reach the shard (and so the
# process) that answered them, so a per-process cache holds for the recent replies.
ASKED_MAX = 20_000
VIEW_CACHE = 2048  # button rows kept: (topic, fact, language, asked)
SYNC_STATE_FILE = "discord-commands.json"
_MENTION = re.compile(r"<@!?(\d+)>")
EMBED_CACHE = 512  # rendered replies kept: every fact of a few packs, plus menus
# Gateway events that connect or disconnect the client or one of its shards.
_CONNECTION_EVENTS = frozenset({"ready", "resumed", "disconnect", "shard_ready",
                                "shard_resumed", "shard_disconnect"})
# Guild command sets read at start-up to find commands shown twice: one GET each, after
# the global set's. A bot in thousands of guilds must not spend its rate limits on this.
COMMAND_CHECK_GUILDS = 5



# --- endpoints ------------------------------------------------------------------------


@contextlib.contextmanager
def discord_endpoints(settings: DiscordSettings) -> Iterator[None]:
    """Point discord.py at another REST base or gateway while inside, when the settings ask.

    discord.py 2.7 reads both from class attributes: ``Route.BASE`` (also used for
    interaction callbacks) and ``DiscordWebSocket.DEFAULT_GATEWAY`` (a plain Client
    never asks ``/gateway/bot``). They are restored on exit.
    """
    import yarl

    old_base = discord.http.Route.BASE
    old_gateway = discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    try:
        if settings.api_base_url:
            discord.http.Route.BASE = settings.api_base_url.rstrip("/")
        if settings.gateway_url:
            discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(settings.gateway_url)
        yield
    finally:
        discord.http.Route.BASE = old_base
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = old_gateway


# --- the last synced command set ---------------------------------------------------------


class SyncState:
    """Hashes of the last synced command payload, per application and scope, in a JSON file."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def _read(self) -> dict[str, str]:
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError):
            log.warning("%s: unreadable command sync state; commands will be synced again",
                        self.path)
            return {}
        if not isinstance(raw, dict):
            return {}
        return {str(k): str(v) for k, v in raw.items()}

    def get(self, key: str) -> str | None:
        return self._read().get(key)

    def set(self, key: str, digest: str) -> None:
        data = self._read()
        data[key] = digest
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_suffix(".tmp")
            tmp.write_text(json.dumps(data, indent=1, sort_keys=True), encoding="utf-8")
            os.replace(tmp, self.path)
        except OSError as exc:
            # Not fatal: the next start-up syncs once more than needed.
            log.warning("%s: cannot save the command sync state (%s)", self.path, exc.strerror)

    def forget(self, key: str) -> None:
        """The scope's set changed behind the hash's back: sync it again next time."""
        data = self._read()
        if data.pop(key, None) is None:
            return
        try:
            tmp = self.path.with_suffix(".tmp")
            tmp.write_text(json.dumps(data, indent=1, sort_keys=True), encoding="utf-8")
            os.replace(tmp, self.path)
        except OSError as exc:
            log.warning("%s: cannot save the command sync state (%s)", self.path, exc.strerror)


def default_sync_state(settings: Settings, db: str | None = None) -> Path:
    """Next to the database when one is named, else in the user's data directory."""
    from factbot.settings import default_db_path
    from factbot.storage import db_location

    where = db_location(db, settings)
    # A PostgreSQL database has no folder of its own: the user's data directory, then.
    database = default_db_path() if isinstance(where, str) else where
    return database.parent / SYNC_STATE_FILE


# --- Korean descriptions ----------------------------------------------------------------


class CatalogueTranslator(app_commands.Translator):
    """Hands discord.py the translations each description carries in its ``locale_str``.

    The adapter writes them in when it declares a command (``locale_str(english, ko=...)``,
    from factbot's catalogues and the packs), so the synced payload and its hash hold them.
    """

    async def translate(self, string: app_commands.locale_str, locale: discord.Locale,
                        context: app_commands.TranslationContextTypes) -> str | None:
        language = COMMAND_LOCALES.get(locale)
        text = string.extras.get(language) if language else None
        return str(text) if text else None


def described(english: str, translations: dict[str, str]) -> app_commands.locale_str:
    """A description within Discord's 1-100 characters, with its translations."""
    return app_commands.locale_str(clip(english, DESCRIPTION_MAX), **{
        language: clip(text, DESCRIPTION_MAX) for language, text in translations.items()
        if text.strip()})


# --- the persistent buttons ---------------------------------------------------------------


def _adapter(interaction: discord.Interaction[Any]) -> DiscordAdapter | None:
    adapter = getattr(interaction.client, "adapter", None)
    return adapter if isinstance(adapter, DiscordAdapter) else None


class NextFactButton(discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
                     template=NEXT_TEMPLATE):
    """Another fact on the same topic; the topic rides in the custom_id, so restarts keep it."""

    def __init__(self, topic: str, label: str = "Another fact") -> None:
        super().__init__(discord.ui.Button(label=label, emoji="🔁",
                                           style=discord.ButtonStyle.secondary,
                                           custom_id=next_custom_id(topic)))
        self.topic = topic

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction[Any],
                             item: discord.ui.Item[Any], match: re.Match[str], /
                             ) -> NextFactButton:
        return cls(match["topic"])

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        """Reply with the next fact on this button's topic."""
        adapter = _adapter(interaction)
        if adapter is None:
            return
        try:
            await adapter.next_fact(interaction, self.topic)
        except Exception as exc:
            await adapter.on_error(interaction, exc)


class _FactButton(discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
                  template=r"(?!)"):  # never registered: its subclasses' templates match
    """A button that names the fact it is under: topic, index and the quote's key ride in
    its custom_id, so a press after a restart or a reload names that fact or none."""

    label = ""

    def __init__(self, topic: str, fact: int, label: str = "", key: str = "") -> None:
        super().__init__(discord.ui.Button(label=label or self.label,
                                           style=discord.ButtonStyle.secondary,
                                           custom_id=self.custom_id_of(topic, fact, key)))
        self.topic, self.fact, self.key = topic, fact, key

    @staticmethod
    def custom_id_of(topic: str, fact: int, key: str) -> str:
        raise NotImplementedError

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction[Any],
                             item: discord.ui.Item[Any], match: re.Match[str], /
                             ) -> Self:
        return cls(match["topic"], int(match["fact"]), key=match["key"] or "")

    async def pressed(self, adapter: DiscordAdapter,
                      interaction: discord.Interaction[Any]) -> None:
        raise NotImplementedError

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        adapter = _adapter(interaction)
        if adapter is None:
            return
        try:
            await self.pressed(adapter, interaction)
        except Exception as exc:
            await adapter.on_error(interaction, exc)


class WrongAnswerButton(_FactButton, template=WRONG_TEMPLATE):
    """"Not what I asked": a vote for the curators, acknowledged to the presser alone."""

    label = "Not what I asked"
    custom_id_of = staticmethod(wrong_custom_id)

    async def pressed(self, adapter: DiscordAdapter,
                      interaction: discord.Interaction[Any]) -> None:
        await adapter.feedback(interaction, self.topic, self.fact, self.key)


class ContextButton(_FactButton, template=CONTEXT_TEMPLATE):
    """"Show context": the article's paragraph around the quote, to the presser alone."""

    label = "Show context"
    custom_id_of = staticmethod(context_custom_id)

    async def pressed(self, adapter: DiscordAdapter,
                      interaction: discord.Interaction[Any]) -> None:
        await adapter.show_context(interaction, self.topic, self.fact, self.key)


class _AdapterClient:
    """Lets discord.py's login call back into the adapter, and items find it."""

    adapter: DiscordAdapter

    async def setup_hook(self) -> None:
        await self.adapter.setup()

    def dispatch(self, event: str, /, *args: Any, **kwargs: Any) -> None:
        # Heard here, not with on_ready and the like: an event handler is a task of its
        # own, which a close can leave never run.
        if event in _CONNECTION_EVENTS:
            self.adapter.connection_event(event, args)
        super().dispatch(event, *args, **kwargs)  # type: ignore[misc]  # discord.Client's


class FactClient(_AdapterClient, discord.Client):
    pass


class ShardedFactClient(_AdapterClient, discord.AutoShardedClient):
    pass


# --- the adapter --------------------------------------------------------------------------


def syncs_commands(settings: DiscordSettings) -> bool:
    """Whether this process syncs the slash commands at start-up and on reload.

    ``auto``: one process per bot does, the one running shard 0 (or every shard, or no
    shards); the other shard groups never do, so N groups starting together send one bulk
    overwrite and not N. ``never``: only ``factbot discord sync`` does.
    """
    if settings.sync_commands == "never":
        return False
    return not settings.shard_ids or 0 in settings.shard_ids


# The command whose channel's guild is stored (claim_daily's shard filter needs it).
DAILY_COMMAND = "daily"


class DiscordAdapter:
    """The Discord side of factbot: a discord.py client and command tree around a FactBot."""

    name = "discord"

    def __init__(self, bot: FactBot, settings: DiscordSettings, *, sync_state: Path,
                 guild_ready_timeout: float = 2.0, sync_on_start: bool | None = None) -> None:
        self.bot = bot
        self.settings = settings
        self.sync_state = SyncState(sync_state)
        # None: as discord.sync_commands says (syncs_commands); also decides reload syncs.
        self.sync_on_start = syncs_commands(settings) if sync_on_start is None \
            else sync_on_start
        self._admins: OrderedDict[tuple[str, str], bool] = OrderedDict()
        # The interaction being answered, so is_admin reads its permissions only when asked.
        self._current: contextvars.ContextVar[discord.Interaction[Any] | None] = \
            contextvars.ContextVar("discord_interaction", default=None)
        # Replies are frozen and repeat (a topic has a few facts): render each once.
        # discord.py only reads an embed when sending, so sharing one is safe.
        self._embed = functools.lru_cache(maxsize=EMBED_CACHE)(render_embed)
        self._views: LRU[tuple[str, int | None, str, str, bool], discord.ui.View] = LRU(VIEW_CACHE)
        # Fact replies sent from here: message id -> (what was asked, the reply's language).
        self._asked: LRU[int, tuple[str, str]] = LRU(ASKED_MAX)
        self.translator = CatalogueTranslator()
        self.command_check: asyncio.Task[None] | None = None  # see check_command_sets
        # factbot never joins voice: skip discord.py's warnings about voice libraries.
        discord.VoiceClient.warn_nacl = False
        discord.VoiceClient.warn_dave = False
        intents = discord.Intents.none()
        intents.guilds = True  # channel and role cache; not privileged
        if settings.message_content:
            intents.guild_messages = True
            intents.dm_messages = True
            intents.message_content = True  # privileged: enable it in the developer portal
        options: dict[str, Any] = {
            "intents": intents,
            "allowed_mentions": discord.AllowedMentions.none(),
            "max_messages": None,  # the bot never reads history: no message cache
            "member_cache_flags": discord.MemberCacheFlags.none(),
            "chunk_guilds_at_startup": False,
            "guild_ready_timeout": guild_ready_timeout,
        }
        client: FactClient | ShardedFactClient
        if settings.shard_count or settings.shard_ids:
            if settings.shard_ids and not settings.shard_count:
                raise ConfigError("discord.shard_ids needs discord.shard_count in the config file")
            bad = [i for i in settings.shard_ids if i >= settings.shard_count]
            if bad:
                raise ConfigError(f"discord.shard_ids: {bad[0]} is not below "
                                  f"discord.shard_count ({settings.shard_count})")
            if settings.shard_ids:
                options["shard_ids"] = list(settings.shard_ids)
            client = ShardedFactClient(shard_count=settings.shard_count, **options)
        else:
            client = FactClient(**options)
        client.adapter = self
        self.client: discord.Client = client
        self.tree: app_commands.CommandTree[Any] = app_commands.CommandTree(client)
        self.tree.on_error = self.on_error  # type: ignore[method-assign]  # the documented hook
        client.add_dynamic_items(NextFactButton, WrongAnswerButton, ContextButton)
        if settings.message_content:
            self._listen_for_mentions()
        # Shards not connected now (None: the whole client, until READY, and while a plain
        # client is away): for /readyz and the metrics.
        self._down: set[int | None] = {None}
        self.build_commands()

    # --- Platform protocol ------------------------------------------------------------

    async def is_admin(self, message: IncomingMessage) -> bool:
        """Members with Manage Server, as Discord reported with their last interaction."""
        interaction = self._current.get()
        if interaction is not None and str(interaction.channel_id) == message.chat_id \
                and str(interaction.user.id) == message.user_id:
            # In a DM the user is the only member, so they may change its settings.
            admin = interaction.permissions.manage_guild \
                if interaction.guild_id is not None else True
            self._remember_admin(message.chat_id, message.user_id, admin)
            return admin
        return self._admins.get((message.chat_id, message.user_id), False)

    async def send(self, chat_id: str, reply: Reply) -> None:
        """Post a reply to a channel unprompted (the daily fact)."""
        channel = self.client.get_partial_messageable(int(chat_id))
        try:
            # Nobody asked: no "Not what I asked" under it.
            await channel.send(embed=self._embed(reply), view=self._view(reply, asked=False),
                               allowed_mentions=discord.AllowedMentions.none())
        except Exception as exc:
            self._count_error(exc)
            raise

    # --- commands ---------------------------------------------------------------------

    @property
    def guild(self) -> discord.Object | None:
        return discord.Object(self.settings.guild_id) if self.settings.guild_id else None

    def build_commands(self) -> None:
        """(Re)declare one slash command per topic plus the built-ins of the command table."""
        self._views.clear()
        self._embed.cache_clear()
        self.tree.clear_commands(guild=None)
        if self.guild is not None:
            self.tree.clear_commands(guild=self.guild)
        # The loader refuses packs with more topics than fit beside the built-ins.
        for pack in self.bot.packs:
            for topic in pack.topics:
                self.tree.add_command(self._topic_command(topic.command, described(
                    topic.description,
                    {code: topic.described(code) for code in COMMAND_LOCALES.values()})))
        for spec in menu_commands():
            self.tree.add_command(self._builtin_command(spec))
        if self.guild is not None:
            self.tree.copy_global_to(guild=self.guild)
            self.tree.clear_commands(guild=None)

    def _topic_command(self, name: str, description: app_commands.locale_str
                       ) -> app_commands.Command[Any, Any, Any]:
        async def topic(interaction: discord.Interaction[Any]) -> None:
            await self.answer(interaction, f"/{name}")

        return app_commands.Command(name=name, description=description, callback=topic)

    def _builtin_command(self, spec: BuiltinCommand) -> app_commands.Command[Any, Any, Any]:
        """A slash command from its declaration: each option becomes a typed parameter, and
        the values are joined back into the text ``/name args`` that the core reads."""
        async def callback(interaction: discord.Interaction[Any], **values: Any) -> None:
            text = f"/{spec.name} {spec.arguments(values)}".rstrip()
            if spec.name == DAILY_COMMAND:
                await self._record_guild(interaction)
            await self.answer(interaction, text, ephemeral=spec.private)

        # discord.py reads the parameters from the callback's signature.
        interaction = inspect.Parameter("interaction", inspect.Parameter.POSITIONAL_OR_KEYWORD,
                                        annotation=discord.Interaction)
        params = [interaction] + [
            inspect.Parameter(o.name, inspect.Parameter.POSITIONAL_OR_KEYWORD,
                              annotation=_annotation(o),
                              default=inspect.Parameter.empty if o.required else None)
            for o in spec.options]
        callback.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
        callback.__annotations__ = {p.name: p.annotation for p in params}
        languages = {code: strings(code) for code in COMMAND_LOCALES.values()}
        if spec.options:
            app_commands.describe(**{o.name: described(o.description, {
                code: t.option(spec, o) for code, t in languages.items()})
                for o in spec.options})(callback)
        command: app_commands.Command[Any, Any, Any] = app_commands.Command(
            name=spec.name, callback=callback, description=described(
                spec.description, {code: t.command(spec) for code, t in languages.items()}))
        for option in spec.options:
            if option.kind == "topic":
                command.autocomplete(option.name)(self._complete)
        if spec.menu is Menu.ADMINS:
            command.default_permissions = discord.Permissions(manage_guild=True)
            command.guild_only = True
        return command

    async def _complete(self, interaction: discord.Interaction[Any], current: str
                        ) -> list[app_commands.Choice[str]]:
        return self.choices(current, supported(str(interaction.locale)) or ENGLISH)

    def choices(self, current: str, language: str = ENGLISH) -> list[app_commands.Choice[str]]:
        """Autocomplete for /fact: fuzzy on topic names and aliases, at most 25, each
        described in ``language`` where the pack has it."""
        return [app_commands.Choice(name=clip(f"{t.command} — {t.described(language)}",
                                              CHOICE_MAX), value=t.command)
                for t in self.bot.matcher.complete(current[:CHOICE_MAX],
                                                   limit=AUTOCOMPLETE_MAX)][:AUTOCOMPLETE_MAX]

    def payload(self) -> list[dict[str, Any]]:
        """The command set in English alone (its shape; the sync adds the localizations)."""
        return [c.to_dict(self.tree) for c in self.tree.get_commands(guild=self.guild)]

    async def translated_payload(self) -> list[dict[str, Any]]:
        """The command set as Discord receives it on sync, localizations included."""
        return [await c.get_translated_payload(self.tree, self.translator)
                for c in self.tree.get_commands(guild=self.guild)]

    async def digest(self) -> str:
        """Of the synced payload, translations included: a changed one syncs again."""
        blob = json.dumps(await self.translated_payload(), sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(blob.encode()).hexdigest()

    def _sync_key(self, guild_id: int | None = None) -> str:
        guild_id = self.settings.guild_id if guild_id is None else guild_id
        scope = f"guild:{guild_id}" if guild_id else "global"
        return f"{self.client.application_id}:{scope}"

    async def sync(self, *, force: bool = False) -> bool:
        """Register the commands with Discord unless the same set was synced last time."""
        if self.tree.translator is not self.translator:
            await self.tree.set_translator(self.translator)
        digest, key = await self.digest(), self._sync_key()
        if not force and self.sync_state.get(key) == digest:
            log.info("Discord commands unchanged since the last sync; not syncing")
            return False
        synced = await self.tree.sync(guild=self.guild)
        self.sync_state.set(key, digest)
        where = f"guild {self.settings.guild_id}" if self.settings.guild_id else "globally"
        log.info("synced %d Discord commands %s", len(synced), where)
        return True

    async def clear(self, guild_id: int) -> int:
        """Empty the command set of one guild, or the global one (0): a bulk overwrite with
        no commands. Returns how many commands the set held."""
        scope = discord.Object(guild_id) if guild_id else None
        before = await self.tree.fetch_commands(guild=scope)
        self.tree.clear_commands(guild=scope)
        try:
            await self.tree.sync(guild=scope)
        finally:
            self.build_commands()
        # A `factbot run` sharing this state file must not take the set as still synced.
        self.sync_state.forget(self._sync_key(guild_id))
        return len(before)

    async def check_command_sets(self) -> None:
        """Once ready, warn if a guild set and the global set hold the same commands.

        Reads the global set, then the sets of at most COMMAND_CHECK_GUILDS guilds: the
        configured guild first, then the bot's smallest guilds (a test server is small).
        It runs beside the bot and never stops it: a failure is logged at debug level.
        """
        await self.client.wait_until_ready()
        try:
            everywhere = {(c.name, c.type) for c in await self.tree.fetch_commands()}
        except Exception:
            log.debug("could not read the global Discord commands to look for doubles",
                      exc_info=True)
            return
        if not everywhere:
            return
        guilds = [self.settings.guild_id] if self.settings.guild_id else []
        by_size = sorted(self.client.guilds, key=lambda g: (g.member_count or 0, g.id))
        guilds += [g.id for g in by_size if g.id != self.settings.guild_id]
        doubled: dict[int, set[str]] = {}
        for guild_id in guilds[:COMMAND_CHECK_GUILDS]:
            try:
                here = await self.tree.fetch_commands(guild=discord.Object(guild_id))
            except Exception:
                log.debug("could not read the Discord commands of guild %s", guild_id,
                          exc_info=True)
                continue
            both = {name for name, kind in everywhere & {(c.name, c.type) for c in here}}
            if both:
                doubled[guild_id] = both
        if doubled:
            log.warning("%s", _doubled_warning(doubled, self.settings.guild_id))

    async def setup(self) -> None:
        """After login, before the gateway: sync the commands if they changed."""
        if self.sync_on_start:
            with startup_errors("syncing the slash commands"):
                await self.sync()
        elif self.settings.sync_commands == "never" or self.settings.shard_ids:
            why = ("discord.sync_commands is never" if self.settings.sync_commands == "never"
                   else "the process running shard 0 does")
            log.info("not syncing the Discord commands here (%s; or run `factbot discord "
                     "sync`)", why)

    async def on_reload(self) -> None:
        """Packs were reloaded: re-declare the commands and sync if the set changed.

        Only in the process that syncs at start-up: every shard group reloads on its own.
        """
        self.build_commands()
        if self.sync_on_start and self.client.application_id is not None \
                and not self.client.is_closed():
            await self.sync()

    async def _record_guild(self, interaction: discord.Interaction[Any]) -> None:
        """Store the channel's guild, so the shard group running it sends its daily fact."""
        if interaction.guild_id is None or interaction.channel_id is None:
            return  # a DM: shard 0's (see storage.base.shard_of)
        chat = ChatKey(self.name, str(interaction.channel_id))
        try:
            await self.bot.store.set_guild(chat, interaction.guild_id)
        except FactbotError:  # the core's answer reports a failing store; this is a detail
            log.warning("could not record the guild of Discord channel %s", chat.chat_id,
                        exc_info=True)

    @property
    def daily_shards(self) -> Shards | None:
        """The shards whose guilds' daily facts this process claims (DailyFacts reads it).

        None: every chat (no shards, or every shard in this process).
        """
        if not self.settings.shard_count or not self.settings.shard_ids:
            return None
        return self.settings.shard_count, frozenset(self.settings.shard_ids)

    # --- answering --------------------------------------------------------------------

    def _remember_admin(self, chat_id: str, user_id: str, admin: bool) -> None:
        key = (chat_id, user_id)
        self._admins[key] = admin
        self._admins.move_to_end(key)
        while len(self._admins) > ADMIN_CACHE_MAX:
            self._admins.popitem(last=False)

    def _view(self, reply: Reply, asked: bool = True) -> discord.ui.View:
        """The buttons under a fact ("Another fact", "Not what I asked" where someone asked,
        "Show context"), labelled in the reply's language; MISSING (no components) otherwise."""
        if not (reply.matched and reply.topic):
            return discord.utils.MISSING
        # The index must fit the custom_id templates (4 digits); beyond, "Another fact" only.
        fact = reply.fact if reply.fact is not None and 0 <= reply.fact < 10_000 else None
        quote = fact_key(reply.quote or "")
        # The quote's key too: a reload that reorders facts keeps the menus, and this cache.
        key = (reply.topic, fact, quote, reply.language, asked)
        view = self._views.get(key)
        if view is None:
            t = strings(reply.language)
            view = discord.ui.View(timeout=None)
            view.add_item(NextFactButton(reply.topic, t("button.more")))
            if fact is not None and asked:
                view.add_item(WrongAnswerButton(reply.topic, fact, t("button.wrong"), quote))
            if fact is not None:
                view.add_item(ContextButton(reply.topic, fact, t("button.context"), quote))
            # The registered DynamicItems answer the clicks, so discord.py need not track
            # this view per message: a stopped view is sent but never stored.
            view.stop()
            self._views[key] = view
        return view

    def _presser(self, interaction: discord.Interaction[Any], reply_language: str | None = None
                 ) -> str:
        """The catalogue for whoever pressed or typed: their locale when factbot has it,
        else the reply's language, else English."""
        return supported(str(interaction.locale)) or supported(reply_language) or ENGLISH

    def _remember_question(self, message_id: int | None, question: str, reply: Reply) -> None:
        if message_id is not None and reply.matched:
            self._asked[message_id] = (question, reply.language)

    async def answer(self, interaction: discord.Interaction[Any], text: str, *,
                     ephemeral: bool = False) -> None:
        """Ask the core about ``text`` and respond to the interaction with an embed."""
        message = IncomingMessage(text=text, platform=self.name,
                                  chat_id=str(interaction.channel_id),
                                  user_id=str(interaction.user.id),
                                  is_group=interaction.guild_id is not None, addressed=True,
                                  language=str(interaction.locale))
        token = self._current.set(interaction)
        try:
            reply = await self.bot.handle(message, self)
        finally:
            self._current.reset(token)
        if reply is None:
            # A slash command is always addressed to the bot, so the core stays quiet on one
            # only while the cooldown silences its sender: say so, to them alone.
            await interaction.response.send_message(
                strings(self._presser(interaction))("slow_down"), ephemeral=True)
            return
        sent = await interaction.response.send_message(
            embed=self._embed(reply), view=self._view(reply),
            ephemeral=ephemeral or reply.private,
            allowed_mentions=discord.AllowedMentions.none())
        question = text[len("/ask "):] if text.startswith("/ask ") else text
        self._remember_question(sent.message_id if sent is not None else None, question, reply)

    # --- the buttons --------------------------------------------------------------------

    async def _notice(self, interaction: discord.Interaction[Any], text: str) -> None:
        if interaction.response.is_done():  # deferred ("thinking"): the follow-up replaces it
            await interaction.followup.send(text, ephemeral=True)
        else:
            await interaction.response.send_message(text, ephemeral=True)

    async def next_fact(self, interaction: discord.Interaction[Any], topic: str) -> None:
        """"Another fact": the next one, or why there is none, to the presser alone."""
        found = self.bot.topic(topic)
        if found is None or len(found[1].facts) < 2:
            t = strings(self._presser(interaction, self._reply_language(interaction)))
            await self._notice(interaction, t("button.gone" if found is None
                                              else "button.only_fact"))
            return
        await self.answer(interaction, f"/{topic}")

    def _reply_language(self, interaction: discord.Interaction[Any]) -> str | None:
        message = interaction.message
        known = self._asked.peek(message.id) if message is not None else None
        return known[1] if known else None

    async def _question(self, interaction: discord.Interaction[Any]) -> tuple[str, str | None]:
        """What was asked for the pressed reply, and the reply's language, where known.

        A reply this process sent is in ``_asked``; a reply to a member's message (a mention)
        names that message, which Discord resolves or the bot fetches. Else ("", None).
        """
        message = interaction.message
        if message is None:
            return "", None
        known = self._asked.get(message.id)
        if known is not None:
            return known
        reference = message.reference
        if reference is None or reference.message_id is None:
            return "", None
        asked = reference.resolved
        if isinstance(asked, discord.DeletedReferencedMessage):
            return "", None
        if asked is None:  # Discord did not send it along: fetch it
            # The answer is due within 3 s of the press: say "thinking" before the wait.
            if not interaction.response.is_done():
                await interaction.response.defer(ephemeral=True, thinking=True)
            channel = self.client.get_partial_messageable(reference.channel_id)
            try:
                asked = await asyncio.wait_for(channel.fetch_message(reference.message_id), 2.0)
            except (discord.HTTPException, TimeoutError):
                # Deleted, or no Read Message History: the vote counts without the question.
                return "", None
        return self._mentioned_text(asked), None

    def _mentioned_text(self, message: discord.Message) -> str:
        """A member's message without the bot's mention."""
        me = self.client.user
        return _MENTION.sub(lambda m: "" if me is not None and int(m.group(1)) == me.id
                            else m.group(0), message.content).strip()

    def _press(self, interaction: discord.Interaction[Any], topic: str, fact: int,
               key: str, question: str = "", language: str | None = None) -> Press:
        message = interaction.message
        return Press(platform=self.name, chat_id=str(interaction.channel_id),
                     user_id=str(interaction.user.id), topic=topic, fact=fact, key=key,
                     reply_key=f"{interaction.channel_id}:{message.id}" if message else "",
                     question=question, language=language or str(interaction.locale),
                     is_group=interaction.guild_id is not None)

    async def feedback(self, interaction: discord.Interaction[Any], topic: str,
                       fact: int, key: str = "") -> None:
        """"Not what I asked": record it once per member and reply; thank them privately."""
        question, reply_language = await self._question(interaction)
        # A locale factbot has no catalogue for ("fr"): the reply's own language instead.
        language = supported(str(interaction.locale)) or reply_language
        press = self._press(interaction, topic, fact, key, question, language)
        text = await self.bot.feedback(press)
        await self._notice(interaction, text)

    async def show_context(self, interaction: discord.Interaction[Any], topic: str,
                           fact: int, key: str = "") -> None:
        """"Show context": the paragraph around the quote, cited, to the presser alone."""
        language = self._presser(interaction, self._reply_language(interaction))
        t = strings(language)
        press = self._press(interaction, topic, fact, key, language=language)
        if await self.bot.press_verdict(press) is not Verdict.ANSWER:
            await self._notice(interaction, t("slow_down"))
            return
        reply = self.bot.context(press)
        if reply is None:
            await self._notice(interaction, t("context.none"))
            return
        await interaction.response.send_message(
            embed=self._embed(reply), ephemeral=True,
            allowed_mentions=discord.AllowedMentions.none())

    async def on_error(self, interaction: discord.Interaction[Any],
                       error: Exception) -> None:
        """Log the traceback, apologise to the user in private, keep running."""
        command = interaction.command.qualified_name if interaction.command else None
        log.error("error answering a Discord interaction (command %s)", command,
                  exc_info=error)
        self._count_error(error)
        apology = strings(self._presser(interaction))("apology")
        try:
            if interaction.response.is_done():
                await interaction.followup.send(apology, ephemeral=True)
            else:
                await interaction.response.send_message(apology, ephemeral=True)
        except discord.HTTPException as exc:
            log.warning("could not send the apology for a failed interaction", exc_info=True)
            self._count_error(exc)

    def _count_error(self, error: BaseException) -> None:
        metrics = self.bot.metrics
        if metrics is not None:
            metrics.platform_error(self.name, error_kind(error))

    def _listen_for_mentions(self) -> None:
        async def on_message(message: discord.Message) -> None:
            try:
                await self.answer_mention(message)
            except Exception as exc:
                log.exception("error answering a Discord mention")
                self._count_error(exc)

        self.client.event(on_message)

    def connection_event(self, event: str, args: tuple[Any, ...]) -> None:
        """Follow the gateway: connected once READY, and then while every shard is up."""
        down = self._down
        sharded = isinstance(self.client, discord.AutoShardedClient)
        if event == "ready":  # a sharded client's comes once every shard is ready
            down.clear()
            client = self.client
            shards = (f"shards {', '.join(map(str, client.shard_ids or ()))} of "
                      f"{client.shard_count}" if isinstance(client, discord.AutoShardedClient)
                      else "one connection, no shards")
            log.info("discord: ready as %s in %d guilds (%s)", client.user,
                     len(client.guilds), shards)
        elif sharded:
            # A sharded client's plain resumed and disconnect come from every shard.
            if event in ("shard_ready", "shard_resumed"):
                down.discard(args[0])
            elif event == "shard_disconnect":
                down.add(args[0])
        elif event == "resumed":
            down.clear()
        elif event == "disconnect":
            down.add(None)
        self._connection_changed()

    def _connection_changed(self) -> None:
        metrics = self.bot.metrics
        if metrics is not None:
            metrics.set_connected(self.name, not self._down)

    def shards(self) -> str:
        """The sharding the settings ask for, for the start-up log."""
        count, ids = self.settings.shard_count, self.settings.shard_ids
        if not count and not ids:
            return "no shards (one gateway connection; discord.shard_count shards the bot)"
        listed = ", ".join(map(str, ids)) if ids else f"0-{count - 1}, all"
        return f"{count} shards (ids {listed} in this process)"

    async def answer_mention(self, message: discord.Message) -> None:
        """With the Message Content intent: answer a message that mentions the bot."""
        me = self.client.user
        if me is None or message.author.bot or me not in message.mentions:
            return
        text = self._mentioned_text(message)
        chat_id = str(message.channel.id)
        user_id = str(message.author.id)
        in_guild = message.guild is not None or getattr(message.channel, "guild_id", None)
        if isinstance(message.author, discord.Member):
            self._remember_admin(chat_id, user_id, message.author.guild_permissions.manage_guild)
        incoming = IncomingMessage(text=text, platform=self.name, chat_id=chat_id,
                                   user_id=user_id, is_group=bool(in_guild), addressed=True)
        reply = await self.bot.handle(incoming, self)
        # A message cannot be shown to its sender alone: a cooldown notice posted in the
        # channel would add to the flood it is about, so a mention gets silence instead.
        if reply is None or reply.kind is ReplyKind.SLOW_DOWN:
            return
        sent = await message.reply(embed=self._embed(reply), view=self._view(reply),
                                   mention_author=False,
                                   allowed_mentions=discord.AllowedMentions.none())
        self._remember_question(sent.id, text, reply)

    # --- running ----------------------------------------------------------------------

    async def run(self, token: str, stop: asyncio.Event) -> None:
        """Log in, sync if needed, connect, and serve until ``stop`` is set."""
        self.bot.reload_listeners.append(self.on_reload)
        reconnects = logging.getLogger("discord.client")
        one_line = _OneLineReconnects()
        reconnects.addFilter(one_line)
        try:
            await self._serve(token, stop)
        finally:
            self._down.add(None)
            self._connection_changed()
            reconnects.removeFilter(one_line)
            self.bot.reload_listeners.remove(self.on_reload)

    async def _serve(self, token: str, stop: asyncio.Event) -> None:
        tasks: set[asyncio.Task[Any]] = set()
        connect: asyncio.Task[None] | None = None
        with discord_endpoints(self.settings):
            gateway = discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
            try:
                # Racing the stop: discord.py retries a 5xx for 25 s, and aiohttp waits
                # 300 s for a Discord that never answers.
                if not await unless_stopped(_login(self.client, token), stop):
                    return
                connect = asyncio.create_task(self.client.connect(), name="discord-gateway")
                stopping = asyncio.create_task(stop.wait(), name="discord-stop")
                daily = self._start_daily()
                # Beside the bot, never before it: it waits for READY, then reads.
                self.command_check = asyncio.create_task(self.check_command_sets(),
                                                         name="discord-command-check")
                tasks = {t for t in (connect, stopping, daily, self.command_check)
                         if t is not None}
                await asyncio.wait({connect, stopping}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for task in tasks:
                    if task is not connect:
                        task.cancel()
                await self._close()  # ends connect() too, unless it is between connections
                for task in tasks:
                    task.cancel()
                if tasks:
                    await asyncio.wait(tasks)
        assert connect is not None  # logged in, so the gateway was connected
        exc = None if connect.cancelled() else connect.exception()
        if stop.is_set():
            # Stopped on request: how the gateway connection ended on the way is no failure
            # (discord.py can trip over a close that comes before the first HELLO).
            if exc is not None:
                log.debug("the Discord gateway connection ended while stopping", exc_info=exc)
            return
        if isinstance(exc, discord.PrivilegedIntentsRequired):
            raise ConfigError("discord.message_content is on but the Message Content intent "
                              "is not enabled for this bot in the developer portal") from None
        if exc is not None and self.client.ws is None:
            # Never connected: discord.py 2.7 retries a first connection only to fail on
            # its missing session (AttributeError), so any end here means "no gateway".
            log.debug("the first Discord gateway connection failed", exc_info=exc)
            first = exc.__context__ if isinstance(exc, AttributeError) else None
            raise UnreachableError(
                f"cannot connect to the Discord gateway at {gateway} (DISCORD_GATEWAY_URL): "
                f"{_what_failed(first or exc)}") from None
        if exc is not None:
            raise exc

    async def _close(self) -> None:
        """Close the client within about STOP_GRACE seconds, whatever Discord does.

        An unwell gateway would otherwise hold a stop for aiohttp's 30 s close timeout.
        """
        closing = asyncio.ensure_future(self.client.close())
        done, _ = await asyncio.wait({closing}, timeout=STOP_GRACE)
        if done:
            closing.result()
            return
        log.warning("Discord did not answer the close within %.0f s: dropping the connection",
                    STOP_GRACE)
        closing.cancel()
        await asyncio.gather(closing, return_exceptions=True)
        await self.client.http.close()  # the HTTP session, and with it every socket

    def _start_daily(self) -> asyncio.Task[Any]:
        return asyncio.create_task(self.bot.daily.loop(self), name="discord-daily")


def _doubled_warning(doubled: dict[int, set[str]], own_guild: int) -> str:
    """One line: which guilds show which commands twice, and the command that fixes it."""
    names = sorted({name for both in doubled.values() for name in both})
    shown = ", ".join(f"/{n}" for n in names[:3]) + (", …" if len(names) > 3 else "")
    where = "guild" if len(doubled) == 1 else "guilds"
    fixes = [f"`factbot discord sync --guild {g} --clear`" for g in doubled if g != own_guild]
    if own_guild in doubled:
        # This bot keeps that guild's set (discord.guild_id): the global one is the stray.
        fixes.insert(0, "`factbot discord sync --clear` (the global set; this bot syncs "
                        f"to guild {own_guild}, discord.guild_id)")
    return (f"Discord shows {len(names)} commands twice in {where} "
            f"{', '.join(str(g) for g in doubled)} ({shown}): a guild command set and the "
            f"global set both hold them; remove the stale set with {' and '.join(fixes)}")


def _annotation(option: Option) -> Any:
    """The Python type discord.py turns into the option's Discord type and limits."""
    kind: Any = str
    if option.choices:
        kind = Literal[option.choices]
    elif option.kind == "int":
        kind = app_commands.Range[int, option.low, option.high]
    elif option.kind == "bool":
        kind = bool
    return kind if option.required else Optional[kind]  # noqa: UP045 (built at run time)


def _token(settings: Settings) -> str:
    token = settings.discord.token
    if not token:
        raise ConfigError("DISCORD_BOT_TOKEN is not set (nor discord.token in the config file): "
                          "the discord bot needs its token")
    return token.reveal()


async def serve(bot: FactBot, settings: Settings, args: argparse.Namespace,
                stop: asyncio.Event) -> None:
    """``factbot run discord``: serve until ``stop`` is set."""
    token = _token(settings)
    adapter = DiscordAdapter(bot, settings.discord, sync_state=default_sync_state(
        settings, getattr(args, "db", None)))
    log.info("discord: %s", adapter.shards())
    # Packs, matcher indexes and libraries live as long as the process: keep them out of
    # every garbage collection (a full one scanned them in ~60 ms, 3x a bare client).
    gc.freeze()
    await adapter.run(token, stop)


async def _sync(bot: Any, settings: Settings, args: argparse.Namespace) -> int:
    import dataclasses

    discord_settings = settings.discord
    if getattr(args, "guild", None):
        discord_settings = dataclasses.replace(discord_settings, guild_id=args.guild)
    adapter = DiscordAdapter(bot, discord_settings, sync_on_start=False,
                             sync_state=default_sync_state(settings, getattr(args, "db", None)))
    token = _token(settings)
    with discord_endpoints(discord_settings):
        async with adapter.client:
            await _login(adapter.client, token)
            with startup_errors("syncing the slash commands"):
                if getattr(args, "clear", False):
                    # Without --guild, the global set whatever discord.guild_id says: what
                    # is removed is on the command line.
                    guild = getattr(args, "guild", None) or 0
                    removed = await adapter.clear(guild)
                    scope = f"guild {guild}'s" if guild else "the global"
                    print(f"cleared {scope} command set: {removed} commands removed")
                    return 0
                await adapter.sync(force=True)
    count = len(adapter.payload())
    where = f"guild {discord_settings.guild_id}" if discord_settings.guild_id else "globally"
    print(f"synced {count} commands {where}")
    return 0


async def _login(client: discord.Client, token: str) -> None:
    """Log in; a failure is a one-line error, never a traceback."""
    with startup_errors("logging in"):
        await client.login(token)


class _OneLineReconnects(logging.Filter):
    """discord.py logs each gateway reconnect with a traceback: one line says as much.

    A gateway that is down logs one per back-off, and at start-up the traceback would
    stand above the one-line error that ends the run.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        failure = record.exc_info[1] if record.exc_info else None
        if failure is not None and str(record.msg).startswith("Attempting a reconnect"):
            record.msg = f"{record.msg} after %s"
            args = record.args if isinstance(record.args, tuple) else ()
            record.args = (*args, _what_failed(failure))
            record.exc_info, record.exc_text = None, None
        return True


def error_kind(error: BaseException) -> str:
    """The kind of a failure talking to Discord, as factbot.metrics.ERROR_KINDS names them."""
    # A command's own failure reaches the tree's error hook wrapped (CommandInvokeError).
    original = getattr(error, "original", None)
    exc = original if isinstance(original, BaseException) else error
    if isinstance(exc, discord.RateLimited):
        return "rate_limited"
    if isinstance(exc, discord.Forbidden):
        return "forbidden"
    if isinstance(exc, discord.HTTPException):
        if exc.status == 429:
            return "rate_limited"
        if exc.status >= 500:
            return "network"
        return "bad_request" if exc.status >= 400 else "other"
    if isinstance(exc, aiohttp.ClientError | OSError | TimeoutError):
        return "network"
    return "other"


def _what_failed(exc: BaseException) -> str:
    """The class of a failure and its first line, short: a proxy may answer a whole page."""
    detail = " ".join(str(exc).split())
    detail = detail if len(detail) <= 200 else detail[:199] + "…"
    return f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__


@contextlib.contextmanager
def startup_errors(doing: str) -> Iterator[None]:
    """Turn a failure of Discord's REST API while ``doing`` into a one-line error.

    A rejected token or a refused request (401, 403; 400 and 404 of a command sync) is
    a settings error (exit 2). Discord unreachable, failing (5xx, 429 past discord.py's
    retries) or answering what is not its JSON (a proxy's page) is an UnreachableError
    (exit 75: try again later). Anything else is a bug and keeps its traceback.
    """
    where = f"{redact_url(discord.http.Route.BASE)} (DISCORD_API_BASE_URL)"
    try:
        yield
    except FactbotError:
        raise
    except discord.LoginFailure:  # 401 to the login itself
        raise ConfigError("DISCORD_BOT_TOKEN was rejected by Discord "
                          "(401 Unauthorized): check the bot token") from None
    except discord.HTTPException as exc:
        log.debug("Discord failed while %s", doing, exc_info=True)
        status = f"{exc.status} {getattr(exc.response, 'reason', '') or ''}".strip()
        if exc.status in (401, 403):
            raise ConfigError(f"Discord refused factbot while {doing} ({status}): check "
                              f"DISCORD_BOT_TOKEN, and that the bot was invited with the "
                              f"applications.commands scope") from None
        if exc.status in (400, 404) and doing.startswith("syncing"):
            raise ConfigError(f"Discord refused the slash commands ({status}): "
                              f"{_what_failed(exc)}") from None
        raise UnreachableError(f"Discord at {where} answered {status} while {doing}: "
                               f"try again later") from None
    except (aiohttp.ClientError, OSError, TimeoutError) as exc:
        log.debug("Discord failed while %s", doing, exc_info=True)
        raise UnreachableError(f"cannot reach Discord at {where} while {doing}: "
                               f"{_what_failed(exc)}") from None
    except (ValueError, TypeError, KeyError) as exc:
        # discord.py reads any body labelled JSON, and any 2xx as the object it asked for;
        # raised anywhere else, the same errors are factbot's own bugs.
        if not raised_in(exc, discord, json):
            raise
        log.debug("Discord's answer while %s could not be read", doing, exc_info=True)
        raise UnreachableError(f"Discord at {where} sent an answer that is not Discord's "
                               f"JSON while {doing} ({type(exc).__name__}): "
                               f"try again later") from None


def sync_main(args: argparse.Namespace, settings: Settings) -> int:
    """``factbot discord sync [--guild ID] [--clear]``: register the slash commands now,
    or remove a guild's set or the global one."""
    from factbot.app import build_bot

    _token(settings)
    bot = build_bot(settings, cooldown=False)
    return asyncio.run(_sync(bot, settings, args))
