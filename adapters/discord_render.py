"""Turn the core's neutral Reply into a Discord embed, escaped and within the embed limits.

Pure functions of discord.py's data classes: no client, no network. Markdown is
escaped where Discord renders it (description, title, field names and values);
author names and footers are shown verbatim by Discord, so escaping them would
print stray backslashes. Mentions never ping: every send also passes
``AllowedMentions.none()``.
"""

from __future__ import annotations

import discord

from bot.messages import Reply, ReplyKind

COLOUR = 0x2B6CB0
NEXT_PREFIX = "factbot:next:"

# Discord's embed limits (https://discord.com/developers/docs/resources/message#embed-limits).
TITLE_MAX = 256
DESCRIPTION_MAX = 4096
FIELDS_MAX = 25
FIELD_NAME_MAX = 256
FIELD_VALUE_MAX = 1024
FOOTER_MAX = 2048
AUTHOR_MAX = 256
TOTAL_MAX = 6000
CONTENT_MAX = 2000


def clip(text: str, limit: int) -> str:
    """Cut ``text`` to ``limit`` characters, marking the cut with an ellipsis."""
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def escape(text: str) -> str:
    """Neutralise markdown and mentions in pack or user text."""
    return discord.utils.escape_mentions(discord.utils.escape_markdown(text))


def render_embed(reply: Reply) -> discord.Embed:
    """One embed for a reply: the quote, its speaker and its source, or a titled list."""
    embed = discord.Embed(colour=COLOUR)
    if reply.kind is ReplyKind.FACT and reply.quote:
        embed.description = clip(f"“{escape(reply.quote)}”", DESCRIPTION_MAX)
        if reply.heading:  # e.g. "Fact of the day"
            embed.title = clip(escape(reply.heading), TITLE_MAX)
        if reply.speaker:
            embed.set_author(name=clip(f"— {reply.speaker}", AUTHOR_MAX))
        if reply.source:
            embed.set_footer(text=clip(f"Source: {reply.source}", FOOTER_MAX))
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
            embed.set_footer(text=clip(f"Source: {reply.source}", FOOTER_MAX))
        return embed
    embed.description = clip(escape(reply.text), DESCRIPTION_MAX)
    return embed


def next_custom_id(topic: str) -> str:
    """The stable custom_id of the "Another fact" button for ``topic``."""
    return f"{NEXT_PREFIX}{topic}"
