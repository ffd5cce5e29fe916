"""What to say: turn a decision into a neutral Reply. No matching happens here."""

from __future__ import annotations

from collections.abc import Sequence

from bot.messages import Reply, ReplyKind
from bot.packs import Fact, FactPack, Topic, is_todo

MAX_REPLY = 500


def attribution_line(pack: FactPack, fact: Fact) -> str | None:
    """The line under a fact that says whose words it holds.

    A bot that quotes must never put words in someone's mouth: the quotation form
    ("— Lee Chi-beom, ...") goes only under the speaker's own words, inside quotation
    marks in the article. Narration that reports a speaker names the outlet that wrote
    it ("Bernama, reporting Lee Chi-beom, ..."); narration naming nobody gets no line.
    """
    speaker = pack.speaker_line(fact.speaker)
    if speaker is None:
        return None
    if fact.quoted:
        return f"— {speaker}"
    outlet = pack.source.outlet
    if not outlet or is_todo(outlet):
        return f"Reported speech of {speaker}"
    return f"{outlet}, reporting {speaker}"


def render_fact(pack: FactPack, topic: Topic, fact: Fact, score: float = 1.0) -> Reply:
    """A fact in quotation marks, whose words it holds, its context and its source line.

    The marks say "verbatim from the article", for narration too; the line under the
    quote says whose words they are (see ``attribution_line``). The context comes
    after that line, labelled, so that it is never read as the speaker's words.
    """
    speaker = pack.speaker_line(fact.speaker)
    attribution = attribution_line(pack, fact)
    source = pack.source.line()
    lines = [f"“{fact.quote}”"]
    if attribution:
        lines.append(attribution)
    if fact.context:
        lines.append(f"Context: {fact.context}")
    lines.append(f"Source: {source}")
    return Reply(kind=ReplyKind.FACT, text="\n".join(lines), topic=topic.command,
                 quote=fact.quote, speaker=speaker, source=source, score=score,
                 quoted=fact.quoted, attribution=attribution, context=fact.context)


def _topic_items(packs: Sequence[FactPack], enabled: set[str] | None) -> list[tuple[str, str]]:
    return [(t.command, t.description) for p in packs for t in p.topics
            if enabled is None or t.command in enabled]


def render_fallback(packs: Sequence[FactPack], score: float = 0.0,
                    enabled: set[str] | None = None) -> Reply:
    """Say honestly that the article does not cover it, and show what it does."""
    items = _topic_items(packs, enabled)
    heading = "Sorry, I don't know that one: my articles don't cover it."
    names = " ".join(f"/{c}" for c, _ in items)
    text = f"{heading}\nTry one of these: {names}"
    if len(text) > MAX_REPLY:
        text = f"{heading}\nSend /topics to see what I can answer."
    return Reply(kind=ReplyKind.FALLBACK, text=text, heading=heading, items=tuple(items),
                 score=score)


def render_topics(packs: Sequence[FactPack], enabled: set[str] | None = None) -> Reply:
    """List every topic with its description, grouped by pack."""
    lines: list[str] = []
    items: list[tuple[str, str]] = []
    sections: list[tuple[str, tuple[tuple[str, str], ...]]] = []
    for pack in packs:
        topics = [(t.command, t.description) for t in pack.topics
                  if enabled is None or t.command in enabled]
        if not topics:
            continue
        if len(packs) > 1:
            lines.append(f"{pack.source.line()}:")
            sections.append((pack.source.line(), tuple(topics)))
        lines += [f"/{command} — {description}" for command, description in topics]
        items += topics
    heading = "Topics I can quote from:"
    return Reply(kind=ReplyKind.TOPICS, text="\n".join([heading, *lines]), heading=heading,
                 items=tuple(items), sections=tuple(sections))


def render_help(packs: Sequence[FactPack]) -> Reply:
    heading = "I answer with short quotes from news articles, and always name the source."
    items: tuple[tuple[str, str], ...] = (
        ("topics", "every topic I know"),
        ("hallyu", "a fact on a topic; send it again for the next one"),
        ("ask", "or just ask in your own words, e.g. “how many Koreans live in Malaysia?”"),
        ("source", "where the last fact came from"),
    )
    example = packs[0].topics[0].command if packs and packs[0].topics else "topics"
    items = tuple((example if c == "hallyu" else c, d) for c, d in items)
    text = "\n".join([heading, *(f"/{c} — {d}" for c, d in items)])
    return Reply(kind=ReplyKind.HELP, text=text, heading=heading, items=items)


def render_start(packs: Sequence[FactPack]) -> Reply:
    topics = render_topics(packs)
    heading = ("Hi! Ask me about the news and I reply with a quote from the article, "
               "with its source.")
    return Reply(kind=ReplyKind.HELP, text=f"{heading}\n{topics.text}", heading=heading,
                 items=topics.items)


def render_source(pack: FactPack) -> Reply:
    source = pack.source.line()
    text = f"My facts are quoted word for word from: {source}"
    return Reply(kind=ReplyKind.SOURCE, text=text, source=source, heading=text)


def render_info(text: str) -> Reply:
    return Reply(kind=ReplyKind.INFO, text=text, heading=text)


def render_slow_down() -> Reply:
    text = "Slow down a little, please: I'll answer again in a moment."
    return Reply(kind=ReplyKind.SLOW_DOWN, text=text, heading=text)
