"""The command table: every built-in command, declared once, where its handler is.

A feature declares its commands with ``@command`` on the method that answers them, as
errbot's ``@botcmd`` and discord.py's command tree do. Everything else is derived from
the declarations: the router's built-ins, the free-text phrases, ``/help``, the
Telegram menu, the Discord command tree, ``facts check``'s menu limit and
``factbot eval``'s reply kinds. Permission is checked once, by the core, from the
declaration; handlers never check it.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum, IntEnum
from typing import TYPE_CHECKING, Any, Literal

from factbot.i18n import ENGLISH_STRINGS, Strings
from factbot.messages import IncomingMessage, Reply, ReplyKind
from factbot.storage.base import ChatKey, ChatSettings

if TYPE_CHECKING:
    from factbot.catalogue import Catalogue
    from factbot.core import Platform

# Telegram's setMyCommands and Discord's chat-input commands per scope: 100 each.
PLATFORM_MAX_COMMANDS = 100


class Access(IntEnum):
    """Who may run a command (or change what it sets)."""

    ANYONE = 0
    ADMIN = 1  # the chat's admins; in a private chat, the person in it
    OPERATOR = 2  # the people who run the bot (``operators`` in the settings)


class Menu(Enum):
    """Where a command is offered in the platforms' command menus."""

    NONE = "none"  # answered, never listed (/start is Telegram's own entry point)
    EVERYONE = "everyone"
    ADMINS = "admins"  # listed for admins only (Discord: Manage Server, in servers)


@dataclass(frozen=True, slots=True)
class Option:
    """An argument a slash-command menu asks for; joined into the text ``/name args``."""

    name: str
    description: str
    kind: Literal["text", "topic", "int", "bool"] = "text"
    required: bool = False
    choices: tuple[str, ...] = ()
    low: int = 0  # "int" only
    high: int = 1000


@dataclass(frozen=True, slots=True)
class Context:
    """What a handler gets besides its arguments: the message and its chat."""

    message: IncomingMessage
    chat: ChatKey
    settings: ChatSettings
    platform: Platform | None
    # The packs the message was decided on: a reload while it waited on the store must not
    # give it a quote of one pack under another pack's source.
    catalogue: Catalogue
    t: Strings = ENGLISH_STRINGS  # factbot's words in the language chosen for this message


Handler = Callable[[Any, Context, str], Awaitable[Reply]]


def _never(args: str) -> bool:
    return False


def _has_args(args: str) -> bool:
    return bool(args.split())


@dataclass(frozen=True, slots=True)
class Command:
    name: str
    description: str
    handler: Handler = field(repr=False)
    access: Access = Access.ANYONE
    # Arguments for which ``changes`` applies instead (``/daily on``: admins; ``/daily``: all).
    changes: Access = Access.ANYONE
    changing: Callable[[str], bool] = field(default=_never, repr=False)
    menu: Menu = Menu.EVERYONE
    bare: bool = False  # answered when typed without the slash ("help")
    phrases: tuple[str, ...] = ()  # free-text ways to ask for it ("what topics do you know")
    options: tuple[Option, ...] = ()
    # Turns a menu's option values into the argument text; None: the values, in order.
    compose: Callable[[Mapping[str, object]], str] | None = field(default=None, repr=False)
    private: bool = False  # the answer is for the asker alone where the platform can
    kind: ReplyKind = ReplyKind.INFO  # what a successful answer is (`factbot eval`)

    def required(self, args: str) -> Access:
        """Who may run it with these arguments."""
        return max(self.access, self.changes) if self.changing(args) else self.access

    def arguments(self, values: Mapping[str, object]) -> str:
        if self.compose is not None:
            return self.compose(values)
        parts = [str(values[o.name]) for o in self.options
                 if values.get(o.name) not in (None, "", False)]
        return " ".join(parts)


def command(name: str, description: str, **declared: Any) -> Callable[[Handler], Handler]:
    """Declare the method below as the handler of ``/name`` (see ``Command``)."""
    if declared.pop("changes_with_args", False):
        declared["changing"] = _has_args

    def decorate(handler: Handler) -> Handler:
        handler.__factbot_command__ = Command(  # type: ignore[attr-defined]
            name=name, description=description, handler=handler, **declared)
        return handler

    return decorate


def declared(cls: type) -> list[Command]:
    """The commands a feature class declares, in the order its methods are written."""
    return [c for value in vars(cls).values()
            if (c := getattr(value, "__factbot_command__", None)) is not None]


@functools.cache
def table() -> tuple[Command, ...]:
    """Every built-in command, in menu order."""
    # The features import this module for ``@command``: collect them lazily.
    from factbot.core import FactBot
    from factbot.features.cooldown import Cooldowns
    from factbot.features.daily import DailyFacts
    from factbot.features.language import ChatLanguage
    from factbot.features.stats import Stats
    from factbot.features.switches import TopicSwitches

    found: list[Command] = []
    for feature in (FactBot, TopicSwitches, DailyFacts, Stats, Cooldowns, ChatLanguage):
        found += declared(feature)
    names = [c.name for c in found]
    duplicates = {n for n in names if names.count(n) > 1}
    if duplicates:
        raise RuntimeError(f"commands declared twice: {sorted(duplicates)}")
    order = {name: i for i, name in enumerate(MENU_ORDER)}
    return tuple(sorted(found, key=lambda c: order.get(c.name, len(order))))


# Menus list the commands members use most first.
MENU_ORDER = ("fact", "ask", "topics", "help", "source", "start", "daily", "stats",
              "cooldown", "language", "reload")


@functools.cache
def by_name() -> dict[str, Command]:
    return {c.name: c for c in table()}


@functools.cache
def names() -> frozenset[str]:
    """Names a topic may not take."""
    return frozenset(by_name())


@functools.cache
def bare_names() -> frozenset[str]:
    """Built-ins answered when typed alone without the slash ("help")."""
    return frozenset(c.name for c in table() if c.bare)


def phrases() -> dict[str, tuple[str, ...]]:
    """Each built-in's free-text phrases, for the matcher."""
    return {c.name: c.phrases for c in table() if c.phrases}


def menu_commands() -> tuple[Command, ...]:
    """The built-ins a platform registers in its menus, beside one command per topic."""
    return tuple(c for c in table() if c.menu is not Menu.NONE)


def topic_room() -> int:
    """How many topics fit a platform's command menu beside the built-ins."""
    return PLATFORM_MAX_COMMANDS - len(menu_commands())
