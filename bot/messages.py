"""Neutral message types: what adapters hand the core and what it hands back."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from enum import Enum


@dataclass(frozen=True, slots=True)
class IncomingMessage:
    """One thing a person typed, stripped of its platform.

    ``addressed`` is true when the message is meant for the bot: a private chat,
    a command, a mention or a reply to the bot. In groups the core answers free
    text only when it is addressed.
    """

    text: str
    platform: str = "console"
    chat_id: str = "console"
    user_id: str = "console"
    is_group: bool = False
    addressed: bool = True
    bot_username: str | None = None
    language: str | None = None  # the sender's app language as the platform gives it ("ko-KR")


def fact_key(quote: str) -> str:
    """A short fingerprint of a quote: a button carries it with the fact's index, so that a
    press after a reload that moved, edited or removed the fact never names another one."""
    return hashlib.sha256(quote.encode("utf-8", "replace")).hexdigest()[:8]


class ReplyKind(Enum):
    FACT = "fact"
    FALLBACK = "fallback"  # nothing matched: "I don't know" plus topics
    TOPICS = "topics"
    HELP = "help"
    SOURCE = "source"
    INFO = "info"  # short answers to admin commands (/daily, /stats, /reload)
    SLOW_DOWN = "slow_down"
    CONTEXT = "context"  # "Show context": the article's paragraph around a fact


@dataclass(frozen=True, slots=True)
class Reply:
    """What the core decided to say, in parts an adapter can format.

    ``text`` is the plain rendering (the console prints it). Adapters build
    their own markup from the parts and must escape every one of them.

    For a fact: ``quote`` is the article's text, shown in quotation marks (verbatim);
    ``quoted`` is True when those are the speaker's own words in the article, False
    when the outlet wrote them (narration, reported speech). ``attribution`` is the
    line to show under the quote, already in its form: "— Lee Chi-beom, ..." only under
    the speaker's own words, "Bernama, reporting Lee Chi-beom, ..." under narration,
    None when nobody is named. ``speaker`` is the speaker and role alone, for
    reference: adapters show ``attribution``, never ``speaker`` as a quote's author.
    ``context`` is article text that makes the quote stand alone, shown labelled
    after the attribution so that it is not read as the speaker's words.
    """

    kind: ReplyKind
    text: str
    topic: str | None = None
    quote: str | None = None
    speaker: str | None = None
    source: str | None = None
    quoted: bool = False
    attribution: str | None = None
    context: str | None = None
    heading: str | None = None
    items: tuple[tuple[str, str], ...] = field(default=())
    # With several packs, /topics groups its items: (the pack's citation, its items).
    sections: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = field(default=())
    score: float = 0.0
    language: str = "en"  # of factbot's own words here (factbot.i18n); quotes keep theirs
    # Which fact of ``topic`` this is (its index): the feedback and context buttons name it.
    fact: int | None = None

    @property
    def matched(self) -> bool:
        return self.kind is ReplyKind.FACT

    @property
    def private(self) -> bool:
        """Show only to the asker where the platform can (Discord ephemeral)."""
        return self.kind in (ReplyKind.FALLBACK, ReplyKind.SLOW_DOWN)
