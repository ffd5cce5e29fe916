"""Turn the core's neutral Reply into a Discord embed, escaped and within the embed limits.

Pure functions of discord.py's data classes: no client, no network. Markdown is
escaped where Discord renders it (description, title, field names and values);
author names and footers are shown verbatim by Discord, so escaping them would
print stray backslashes. Mentions never ping: every send also passes
``AllowedMentions.none()``.
"""

from __future__ import annotations

import re

import discord

from factbot.i18n import Strings, strings
from factbot.messages import Reply, ReplyKind

COLOUR = 0x2B6CB0
NEXT_PREFIX = "factbot:next:"
# The "Another fact" custom_id, the one parser of it: discord.py matches a press against this
# template in full (NextFactButton), parse_next_custom_id reads it the same way. Topic
# commands are ASCII by pack validation; an explicit class, never \w or \d, keeps it so.
NEXT_TEMPLATE = re.escape(NEXT_PREFIX) + r"(?P<topic>[a-z0-9_]{1,32})"
_NEXT = re.compile(NEXT_TEMPLATE, re.ASCII)
# "Not what I asked" and "Show context": the topic and the fact's index in it, so a press
# names the fact shown even after a restart or a reload that kept the topic's order.
WRONG_PREFIX = "factbot:bad:"
CONTEXT_PREFIX = "factbot:ctx:"
_FACT = r"(?P<topic>[a-z0-9_]{1,32}):(?P<fact>0|[1-9][0-9]{0,3})(?::(?P<key>[0-9a-f]{8}))?"
WRONG_TEMPLATE = re.escape(WRONG_PREFIX) + _FACT
CONTEXT_TEMPLATE = re.escape(CONTEXT_PREFIX) + _FACT
_WRONG = re.compile(WRONG_TEMPLATE, re.ASCII)
_CONTEXT = re.compile(CONTEXT_TEMPLATE, re.ASCII)

# Discord's embed limits (https://discord.com/developers/docs/resources/message#embed-limits).
TITLE_MAX = 256
DESCRIPTION_MAX = 4096
FIELDS_MAX = 25
FIELD_NAME_MAX = 256
FIELD_VALUE_MAX = 1024
FOOTER_MAX = 2048
AUTHOR_MAX = 256
TOTAL_MAX = 6000


def clip(text: str, limit: int) -> str:
    """Cut ``text`` to ``limit`` characters, marking the cut with an ellipsis."""
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def escape(text: str) -> str:
    """Neutralise markdown and mentions in pack or user text."""
    return discord.utils.escape_mentions(discord.utils.escape_markdown(text))


def _label(t: Strings, key: str) -> str:
    """A field label from a "Label: {value}" text ("Context: {context}" -> "Context")."""
    return t(key, **{key.rsplit(".", 1)[1]: ""}).strip().rstrip(":").strip()


def render_embed(reply: Reply) -> discord.Embed:
    """One embed for a reply: the quote, whose words it holds and its source, or a list.

    factbot's own words (labels, the source line) are in ``reply.language``."""
    t = strings(reply.language)
    embed = discord.Embed(colour=COLOUR)
    if reply.kind is ReplyKind.CONTEXT and reply.quote:
        return _render_context(embed, reply, t)
    if reply.kind is ReplyKind.FACT and reply.quote:
        embed.description = clip(f"“{escape(reply.quote)}”", DESCRIPTION_MAX)
        if reply.heading:  # e.g. "Fact of the day"
            embed.title = clip(escape(reply.heading), TITLE_MAX)
        # Whose words: "— Lee …" only over Lee's own, "Bernama, reporting Lee …" over
        # narration (Reply.attribution). The context goes in a field below the quote, not
        # above it, where it would sit under the author and read as the speaker's words.
        if reply.attribution:
            embed.set_author(name=clip(reply.attribution, AUTHOR_MAX))
        if reply.context:
            embed.add_field(name=_label(t, "fact.context"),
                            value=clip(escape(reply.context), FIELD_VALUE_MAX), inline=False)
        if reply.source:
            embed.set_footer(text=clip(t("fact.source", source=reply.source), FOOTER_MAX))
        return embed
    if reply.sections:  # /topics with several packs: one group of fields per pack
        if reply.heading:
            embed.title = clip(escape(reply.heading), TITLE_MAX)
        _add_sections(embed, reply.sections, t)
        return embed
    if reply.items:
        if reply.heading:
            embed.title = clip(escape(reply.heading), TITLE_MAX)
        shown = reply.items[:FIELDS_MAX]
        for command, description in shown:
            embed.add_field(name=clip(f"/{escape(command)}", FIELD_NAME_MAX),
                            value=clip(escape(description), FIELD_VALUE_MAX) or "\u200b",
                            inline=False)
        rest = reply.items[FIELDS_MAX:]
        if rest:
            embed.description = clip(" ".join(f"/{escape(c)}" for c, _ in rest), DESCRIPTION_MAX)
        while len(embed) > TOTAL_MAX and embed.fields:
            embed.remove_field(len(embed.fields) - 1)
        if reply.source:
            embed.set_footer(text=clip(t("fact.source", source=reply.source), FOOTER_MAX))
        return embed
    embed.description = clip(escape(reply.text), DESCRIPTION_MAX)
    return embed


def _render_context(embed: discord.Embed, reply: Reply, t: Strings) -> discord.Embed:
    """"Show context": the article's passage, the fact's own quote in bold where the passage
    holds it verbatim, every part escaped; the citation in the footer."""
    passage = reply.quote or ""
    quote = reply.context or ""
    at = passage.find(quote) if quote else -1
    description = ""
    if at >= 0:
        description = (escape(passage[:at]) + "**" + escape(quote) + "**"
                       + escape(passage[at + len(quote):]))
    if not description or len(description) > DESCRIPTION_MAX:
        # Not verbatim, or too long once escaped: the passage alone (a cut "**" would show).
        description = clip(escape(passage), DESCRIPTION_MAX)
    embed.description = description
    if reply.heading:
        embed.title = clip(escape(reply.heading), TITLE_MAX)
    if reply.source:
        embed.set_footer(text=clip(t("fact.source", source=reply.source), FOOTER_MAX))
    return embed


def _add_sections(embed: discord.Embed,
                  sections: tuple[tuple[str, tuple[tuple[str, str], ...]], ...],
                  t: Strings) -> None:
    """Each pack's citation as a header field, then a field per topic, within the limits.

    When the topics of all packs do not fit in 25 fields (or 6,000 characters), each
    pack becomes a single field listing its topics one per line instead.
    """
    for citation, items in sections:
        embed.add_field(name=clip(escape(citation), FIELD_NAME_MAX), value="\u200b",
                        inline=False)
        for command, description in items:
            embed.add_field(name=clip(f"/{escape(command)}", FIELD_NAME_MAX),
                            value=clip(escape(description), FIELD_VALUE_MAX) or "\u200b",
                            inline=False)
    if len(embed.fields) <= FIELDS_MAX and len(embed) <= TOTAL_MAX:
        return
    embed.clear_fields()
    left_out: list[str] = []
    for citation, items in sections:
        name = clip(escape(citation), FIELD_NAME_MAX)
        value = _lines(items, FIELD_VALUE_MAX, t)
        if not left_out and len(embed.fields) < FIELDS_MAX \
                and len(embed) + len(name) + len(value) <= TOTAL_MAX:
            embed.add_field(name=name, value=value, inline=False)
        else:  # later packs too, so the packs stay in order
            left_out += [f"/{escape(c)}" for c, _ in items]
    room = min(DESCRIPTION_MAX, TOTAL_MAX - len(embed))
    if left_out and room > 1:
        embed.description = clip(" ".join(left_out), room)


def _lines(items: tuple[tuple[str, str], ...], limit: int, t: Strings) -> str:
    """``/command — description`` lines up to ``limit``; the commands that do not fit follow."""
    lines = [f"/{escape(c)} — {escape(d)}" if d else f"/{escape(c)}" for c, d in items]
    for shown in range(len(lines), 0, -1):
        rest = " ".join(f"/{escape(c)}" for c, _ in items[shown:])
        text = "\n".join(lines[:shown] + ([f"{t('topics.also')} {rest}"] if rest else []))
        if len(text) <= limit:
            return text
    return clip(" ".join(f"/{escape(c)}" for c, _ in items), limit) or "\u200b"


def next_custom_id(topic: str) -> str:
    """The stable custom_id of the "Another fact" button for ``topic``."""
    return f"{NEXT_PREFIX}{topic}"


def parse_next_custom_id(custom_id: str) -> str | None:
    """The topic of an "Another fact" custom_id, or None for anything else."""
    match = _NEXT.fullmatch(custom_id)
    return match["topic"] if match else None


def _fact_id(prefix: str, topic: str, fact: int, key: str) -> str:
    return f"{prefix}{topic}:{fact}:{key}" if key else f"{prefix}{topic}:{fact}"


def wrong_custom_id(topic: str, fact: int, key: str = "") -> str:
    """The custom_id of "Not what I asked" under fact ``fact`` of ``topic``; ``key``: the
    quote's messages.fact_key, so a press after a reload names this fact or none."""
    return _fact_id(WRONG_PREFIX, topic, fact, key)


def parse_wrong_custom_id(custom_id: str) -> tuple[str, int, str] | None:
    """(topic, fact index, key) of a "Not what I asked" custom_id, or None."""
    match = _WRONG.fullmatch(custom_id)
    return (match["topic"], int(match["fact"]), match["key"] or "") if match else None


def context_custom_id(topic: str, fact: int, key: str = "") -> str:
    """The custom_id of "Show context" under fact ``fact`` of ``topic`` (``key`` as above)."""
    return _fact_id(CONTEXT_PREFIX, topic, fact, key)


def parse_context_custom_id(custom_id: str) -> tuple[str, int, str] | None:
    """(topic, fact index, key) of a "Show context" custom_id, or None."""
    match = _CONTEXT.fullmatch(custom_id)
    return (match["topic"], int(match["fact"]), match["key"] or "") if match else None
