"""What to say: turn a decision into a neutral Reply. No matching happens here."""

from __future__ import annotations

from collections.abc import Sequence

from factbot.messages import Reply, ReplyKind
from factbot.packs import Fact, FactPack, Topic, is_todo

# Every reply but a fact is at most this long (a fact is its quote and context, at most
# MAX_QUOTE_WITH_CONTEXT, with its speaker and source lines). Lists are fitted to it.
MAX_REPLY = 500
TOPICS_HEADING = "Topics I can quote from:"


def _clip(text: str, limit: int = MAX_REPLY) -> str:
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"


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


def _topic_list(heading: str, groups: Sequence[tuple[str | None, Sequence[tuple[str, str]]]],
                budget: int = MAX_REPLY) -> str:
    """``heading``, then a ``/command — description`` line per topic, within ``budget``.

    ``groups`` are each pack's header line (None with one pack) and its topics. When not
    every line fits, the first topics keep theirs and the rest are named on one line
    ("Also: /a /b"); topics even that line cannot hold are counted ("…and 3 more").
    The adapters list the topics from the Reply's items, within their own limits.
    """
    lines: list[str] = []
    names: list[str] = []
    cost = [len(heading)]  # cost[k]: the heading and the first k topics, a line each
    upto = [0]  # upto[k]: how many of ``lines`` the first k topics take, headers included
    for header, items in groups:
        for i, (command, description) in enumerate(items):
            added = 0
            if header is not None and i == 0:
                lines.append(header)
                added += len(header) + 1
            lines.append(f"/{command} — {description}")
            cost.append(cost[-1] + added + len(lines[-1]) + 1)
            upto.append(len(lines))
            names.append(f"/{command}")
    count = len(names)
    if cost[count] <= budget:
        return "\n".join([heading, *lines])
    rest = [0] * (count + 1)  # rest[k]: " /name" for every topic from k on
    for k in range(count - 1, -1, -1):
        rest[k] = rest[k + 1] + 1 + len(names[k])
    for k in range(count - 1, 0, -1):
        if cost[k] + len("\nAlso:") + rest[k] <= budget:
            return "\n".join([heading, *lines[:upto[k]]]) + "\nAlso: " + " ".join(names[k:])
    if len(heading) + rest[0] <= budget:  # "\n" and the names, spaced
        return f"{heading}\n{' '.join(names)}"
    room = budget - len(heading) - len(f"\n …and {count} more")  # the longest count
    shown: list[str] = []
    used = -1  # the first name needs no space before it
    for name in names:
        if used + 1 + len(name) > room:
            break
        shown.append(name)
        used += 1 + len(name)
    more = f"…and {count - len(shown)} more"
    return f"{heading}\n{' '.join([*shown, more])}"


def _groups(packs: Sequence[FactPack], enabled: set[str] | None
            ) -> list[tuple[str, tuple[tuple[str, str], ...]]]:
    """Each pack's citation and its topics (the enabled ones), packs without any left out."""
    groups = []
    for pack in packs:
        topics = tuple((t.command, t.description) for t in pack.topics
                       if enabled is None or t.command in enabled)
        if topics:
            groups.append((pack.source.line(), topics))
    return groups


def render_topics(packs: Sequence[FactPack], enabled: set[str] | None = None) -> Reply:
    """List every topic with its description, grouped by pack, fitted to MAX_REPLY."""
    groups = _groups(packs, enabled)
    sections = tuple(groups) if len(packs) > 1 else ()
    text = _topic_list(TOPICS_HEADING, [(f"{citation}:" if sections else None, topics)
                                        for citation, topics in groups])
    return Reply(kind=ReplyKind.TOPICS, text=text, heading=TOPICS_HEADING,
                 items=tuple(item for _, topics in groups for item in topics), sections=sections)


def render_help(packs: Sequence[FactPack]) -> Reply:
    """Usage in neutral words; the one example topic is the loaded packs' first."""
    heading = "I answer with short quotes from news articles, and always name the source."
    first = next((t for p in packs for t in p.topics), None)
    items = tuple(item for item in (
        ("topics", "every topic I know"),
        (first.command, "a fact on a topic; send it again for the next one")
        if first else None,
        ("ask", "or just ask a question in your own words"),
        ("source", "where the last fact came from"),
    ) if item is not None)
    text = "\n".join([heading, *(f"/{c} — {d}" for c, d in items)])
    return Reply(kind=ReplyKind.HELP, text=text, heading=heading, items=items)


def render_start(packs: Sequence[FactPack]) -> Reply:
    groups = _groups(packs, None)
    heading = ("Hi! Ask me about the news and I reply with a quote from the article, "
               "with its source.")
    text = _topic_list(f"{heading}\n{TOPICS_HEADING}",
                       [(f"{citation}:" if len(packs) > 1 else None, topics)
                        for citation, topics in groups])
    return Reply(kind=ReplyKind.HELP, text=text, heading=heading,
                 items=tuple(item for _, topics in groups for item in topics))


def render_source(packs: FactPack | Sequence[FactPack]) -> Reply:
    """Where the facts come from: one pack's source, or each pack's, one a line."""
    chosen = [packs] if isinstance(packs, FactPack) else list(packs)
    source = "\n".join(p.source.line() for p in chosen)
    lead = "My facts are quoted word for word from:"
    text = _clip(f"{lead} {source}" if len(chosen) == 1 else f"{lead}\n{source}")
    return Reply(kind=ReplyKind.SOURCE, text=text, source=source, heading=text)


def render_info(text: str) -> Reply:
    """A short answer; whatever it quotes (a reload's error, say) is cut to MAX_REPLY."""
    text = _clip(text)
    return Reply(kind=ReplyKind.INFO, text=text, heading=text)


def render_slow_down() -> Reply:
    text = "Slow down a little, please: I'll answer again in a moment."
    return Reply(kind=ReplyKind.SLOW_DOWN, text=text, heading=text)
