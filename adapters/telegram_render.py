"""Turn the core's neutral Reply into Telegram HTML.

Every part that comes from a pack or a user goes through ``html.escape``: a
quote holding ``<``, ``&`` or ``*`` must reach the reader exactly as written.
No telegram import here, so the rendering is testable on its own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html import escape

from factbot.i18n import Strings, strings
from factbot.messages import Reply, ReplyKind

# Telegram refuses messages over 4096 characters (after entity parsing); keep a margin.
# It counts UTF-16 code units, where an emoji takes two: see _units.
MAX_MESSAGE = 4000
# Inline keyboard callback data: "<action>:<topic>", at most 64 bytes.
MORE = "more"
SOURCE = "src"
WRONG = "bad"  # "Not what I asked"
CONTEXT = "ctx"  # "Show context"
# The one parser of callback data: "src:<topic>", "more:<topic>" (buttons sent before the
# index was added are still out there in chats), "more:<topic>:<index of the fact shown>",
# and "bad:<topic>:<index>:<key>" / "ctx:<topic>:<index>:<key>", which always name the fact
# (the key, messages.fact_key of its quote, so that a press after a reload names that fact
# or none). Explicit ASCII classes, never \d or str.isdigit(), which take "²" and "٣" for digits.
_CALLBACK = re.compile(r"(?P<action>more|src|bad|ctx):(?P<topic>[a-z0-9_]{1,32})"
                       r"(?::(?P<shown>0|[1-9][0-9]{0,5})(?::(?P<key>[0-9a-f]{8}))?)?", re.ASCII)


@dataclass(frozen=True)
class ButtonPress:
    """What a button's callback data asks for."""

    action: str  # MORE, SOURCE, WRONG or CONTEXT
    topic: str
    shown: int | None = None  # the fact on screen (its index in the topic)
    key: str = ""  # messages.fact_key of its quote ("bad" and "ctx")


def callback_data(action: str, topic: str, shown: int | None = None, key: str = "") -> str:
    """The callback data of a button; ``parse_callback_data`` reads it back."""
    if shown is None:
        return f"{action}:{topic}"
    return f"{action}:{topic}:{shown}:{key}" if key else f"{action}:{topic}:{shown}"


def parse_callback_data(data: str | None) -> ButtonPress | None:
    """The press a button's callback data stands for, or None for anything else."""
    match = _CALLBACK.fullmatch(data or "")
    if match is None:
        return None
    action, shown = match["action"], match["shown"]
    if (action == SOURCE and shown is not None) or (action in (WRONG, CONTEXT) and shown is None):
        return None  # "src" names no fact; "bad" and "ctx" always name one
    if match["key"] and action not in (WRONG, CONTEXT):
        return None
    return ButtonPress(action, match["topic"], int(shown) if shown else None, match["key"] or "")


def _units(html: str) -> int:
    """The length Telegram counts, or more: UTF-16 code units of the markup itself.

    Tags and entities (&amp;) are not shown, so counting them too only errs on the safe side.
    """
    return len(html.encode("utf-16-le")) // 2


def _items(items: tuple[tuple[str, str], ...], budget: int) -> list[str]:
    """One line per command, stopping before the message would be too long."""
    lines: list[str] = []
    used = 0
    for command, description in items:
        line = f"/{escape(command)} — {escape(description)}"
        if used + _units(line) + 1 > budget:
            lines.append("…")
            break
        lines.append(line)
        used += _units(line) + 1
    return lines


def _sections(heading: str, sections: tuple[tuple[str, tuple[tuple[str, str], ...]], ...]
              ) -> str:
    """Topics grouped by pack: each pack's citation in bold above its commands."""
    lines = [f"<b>{escape(heading)}</b>"]
    used = _units(lines[0])
    for citation, items in sections:
        header = f"\n<b>{escape(citation)}</b>"  # a blank line between packs
        if used + _units(header) + 1 > MAX_MESSAGE - 2:  # room left for the "…"
            lines.append("…")
            break
        lines.append(header)
        used += _units(header) + 1
        listed = _items(items, MAX_MESSAGE - used)
        lines += listed
        used += sum(_units(line) + 1 for line in listed)
        if listed and listed[-1] == "…":
            break
    return "\n".join(lines)


def _labelled(t: Strings, key: str, value: str) -> str:
    """A "Label: {value}" text with its label in bold ("<b>Source:</b> Bernama, …").

    The label is whatever the catalogue puts before the placeholder, in any language.
    """
    name = key.rsplit(".", 1)[1]
    before, _, after = t(key, **{name: "\x00"}).partition("\x00")
    label = f"<b>{escape(before.rstrip())}</b> " if before.strip() else escape(before)
    return f"{label}{escape(value)}{escape(after)}"


def _marked(passage: str, quote: str | None) -> str:
    """The passage escaped, with the quote in bold where it occurs in it word for word."""
    at = passage.find(quote) if quote else -1
    if not quote or at < 0:
        return escape(passage)
    end = at + len(quote)
    return f"{escape(passage[:at])}<b>{escape(quote)}</b>{escape(passage[end:])}"


def render_context_html(reply: Reply) -> str:
    """"Show context": the heading, the article's paragraph with the fact's quote in bold
    where it stands in it verbatim, and the citation; every piece escaped."""
    t = strings(reply.language)
    lines = [f"<b>{escape(reply.heading)}</b>"] if reply.heading else []
    lines.append(f"<blockquote>{_marked(reply.quote or '', reply.context)}</blockquote>")
    if reply.source:
        lines.append(_labelled(t, "fact.source", reply.source))
    html = "\n".join(lines)
    if _units(html) <= MAX_MESSAGE:
        return html
    return render_html(Reply(kind=ReplyKind.INFO, text=reply.text))  # cut, never broken


def render_html(reply: Reply) -> str:
    """The Reply as a Telegram HTML message, every piece escaped.

    factbot's own words (labels) are in ``reply.language``; quotes keep the article's.
    """
    if reply.kind is ReplyKind.CONTEXT and reply.quote is not None:
        return render_context_html(reply)
    if reply.kind is ReplyKind.FACT and reply.quote is not None:
        t = strings(reply.language)
        lines = [f"<b>{escape(reply.heading)}</b>"] if reply.heading else []  # "Fact of the day"
        lines.append(f"<blockquote>“{escape(reply.quote)}”</blockquote>")
        # Whose words: "— Lee …" only under Lee's own, "Bernama, reporting Lee …" under
        # narration (Reply.attribution); the context after that line, labelled, so that
        # it is not read as part of the quote.
        if reply.attribution:
            lines.append(f"<i>{escape(reply.attribution)}</i>")
        if reply.context:
            lines.append(_labelled(t, "fact.context", reply.context))
        if reply.source:
            lines.append(_labelled(t, "fact.source", reply.source))
        return "\n".join(lines)
    # A fallback is its plain text: the core words it in the member's language, suggesting
    # near topics ("Did you mean /trade?") or listing them within its MAX_REPLY.
    if reply.kind is ReplyKind.TOPICS and reply.heading and reply.sections:
        return _sections(reply.heading, reply.sections)
    if reply.kind in (ReplyKind.TOPICS, ReplyKind.HELP) and reply.heading and reply.items:
        head = f"<b>{escape(reply.heading)}</b>"
        return "\n".join([head, *_items(reply.items, MAX_MESSAGE - _units(head))])
    plain = reply.text
    while _units(escape(plain)) > MAX_MESSAGE:  # cut the text, never an escape sequence
        plain = plain[: len(plain) - 200] + "…"
    return escape(plain)


def render_plain(reply: Reply) -> str:
    """A one-line preview for inline results: no markup, Telegram shows it as text."""
    return " ".join((reply.quote or reply.text).split())
