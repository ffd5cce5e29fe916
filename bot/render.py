"""What to say: turn a decision into a neutral Reply. No matching happens here."""

from __future__ import annotations

from collections.abc import Sequence

from factbot.i18n import ENGLISH_STRINGS, Strings
from factbot.messages import Reply, ReplyKind
from factbot.packs import Fact, FactPack, Topic, is_todo

# Every reply but a fact is at most this long (a fact is its quote and context, at most
# MAX_QUOTE_WITH_CONTEXT, with its speaker and source lines). Lists are fitted to it.
MAX_REPLY = 500
# Topics a fallback suggests when the question came close to them ("Did you mean").
MAX_NEAR = 3


def _clip(text: str, limit: int = MAX_REPLY) -> str:
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"


def attribution_line(pack: FactPack, fact: Fact, t: Strings = ENGLISH_STRINGS) -> str | None:
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
        return t("fact.reported", speaker=speaker)
    return t("fact.reporting", outlet=outlet, speaker=speaker)


def render_fact(pack: FactPack, topic: Topic, fact: Fact, score: float = 1.0,
                t: Strings = ENGLISH_STRINGS) -> Reply:
    """A fact in quotation marks, whose words it holds, its context and its source line.

    The marks say "verbatim from the article", for narration too; the line under the
    quote says whose words they are (see ``attribution_line``). The context comes
    after that line, labelled, so that it is never read as the speaker's words.
    """
    speaker = pack.speaker_line(fact.speaker)
    attribution = attribution_line(pack, fact, t)
    source = pack.source.line()
    lines = [f"“{fact.quote}”"]
    if attribution:
        lines.append(attribution)
    if fact.context:
        lines.append(t("fact.context", context=fact.context))
    lines.append(t("fact.source", source=source))
    index = next((i for i, f in enumerate(topic.facts) if f.quote == fact.quote), None)
    return Reply(kind=ReplyKind.FACT, text="\n".join(lines), topic=topic.command,
                 quote=fact.quote, speaker=speaker, source=source, score=score,
                 quoted=fact.quoted, attribution=attribution, context=fact.context,
                 language=t.language, fact=index)


def describe(topic: Topic, t: Strings) -> str:
    return topic.described(t.language)


def _topic_items(packs: Sequence[FactPack], enabled: set[str] | None,
                 t: Strings) -> list[tuple[str, str]]:
    return [(topic.command, describe(topic, t)) for p in packs for topic in p.topics
            if enabled is None or topic.command in enabled]


def render_fallback(packs: Sequence[FactPack], score: float = 0.0,
                    enabled: set[str] | None = None, t: Strings = ENGLISH_STRINGS,
                    near: Sequence[Topic] = ()) -> Reply:
    """Say honestly that the article does not cover it, then what it does cover.

    ``near``: topics the question came close to; up to MAX_NEAR of them are suggested
    ("Did you mean /trade or /partnership?") instead of every topic.
    """
    heading = t("fallback.heading")
    if near:
        shown = [(topic.command, describe(topic, t)) for topic in near[:MAX_NEAR]]
        names = t.either([f"/{c}" for c, _ in shown])
        text = f"{heading}\n{t('fallback.near', commands=names)}"
        return Reply(kind=ReplyKind.FALLBACK, text=text, heading=heading, items=tuple(shown),
                     score=score, language=t.language)
    items = _topic_items(packs, enabled, t)
    names = " ".join(f"/{c}" for c, _ in items)
    text = f"{heading}\n{t('fallback.try', commands=names)}"
    if len(text) > MAX_REPLY:
        text = f"{heading}\n{t('fallback.see_topics')}"
    return Reply(kind=ReplyKind.FALLBACK, text=text, heading=heading, items=tuple(items),
                 score=score, language=t.language)


def _topic_list(heading: str, groups: Sequence[tuple[str | None, Sequence[tuple[str, str]]]],
                t: Strings, budget: int = MAX_REPLY) -> str:
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
    also = t("topics.also")
    rest = [0] * (count + 1)  # rest[k]: " /name" for every topic from k on
    for k in range(count - 1, -1, -1):
        rest[k] = rest[k + 1] + 1 + len(names[k])
    for k in range(count - 1, 0, -1):
        if cost[k] + len(f"\n{also}") + rest[k] <= budget:
            return "\n".join([heading, *lines[:upto[k]]]) + f"\n{also} " + " ".join(names[k:])
    if len(heading) + rest[0] <= budget:  # "\n" and the names, spaced
        return f"{heading}\n{' '.join(names)}"
    room = budget - len(heading) - len(f"\n {t('topics.more', count=count)}")  # the longest
    shown: list[str] = []
    used = -1  # the first name needs no space before it
    for name in names:
        if used + 1 + len(name) > room:
            break
        shown.append(name)
        used += 1 + len(name)
    more = t("topics.more", count=count - len(shown))
    return f"{heading}\n{' '.join([*shown, more])}"


def _groups(packs: Sequence[FactPack], enabled: set[str] | None, t: Strings
            ) -> list[tuple[str, tuple[tuple[str, str], ...]]]:
    """Each pack's citation and its topics (the enabled ones), packs without any left out."""
    groups = []
    for pack in packs:
        topics = tuple((topic.command, describe(topic, t)) for topic in pack.topics
                       if enabled is None or topic.command in enabled)
        if topics:
            groups.append((pack.source.line(), topics))
    return groups


def render_topics(packs: Sequence[FactPack], enabled: set[str] | None = None,
                  t: Strings = ENGLISH_STRINGS) -> Reply:
    """List every topic with its description, grouped by pack, fitted to MAX_REPLY."""
    groups = _groups(packs, enabled, t)
    if not groups and enabled is not None:
        return render_info(t("topics.none"), t)
    sections = tuple(groups) if len(packs) > 1 else ()
    heading = t("topics.heading")
    text = _topic_list(heading, [(f"{citation}:" if sections else None, topics)
                                 for citation, topics in groups], t)
    return Reply(kind=ReplyKind.TOPICS, text=text, heading=heading,
                 items=tuple(item for _, topics in groups for item in topics), sections=sections,
                 language=t.language)


def render_help(packs: Sequence[FactPack], t: Strings = ENGLISH_STRINGS) -> Reply:
    """Usage in neutral words; the one example topic is the loaded packs' first."""
    heading = t("help.heading")
    first = next((topic for p in packs for topic in p.topics), None)
    items = tuple(item for item in (
        ("topics", t("help.topics")),
        (first.command, t("help.topic")) if first else None,
        ("ask", t("help.ask")),
        ("source", t("help.source")),
    ) if item is not None)
    text = "\n".join([heading, *(f"/{c} — {d}" for c, d in items)])
    return Reply(kind=ReplyKind.HELP, text=text, heading=heading, items=items,
                 language=t.language)


def render_start(packs: Sequence[FactPack], t: Strings = ENGLISH_STRINGS) -> Reply:
    groups = _groups(packs, None, t)
    heading = t("start.heading")
    text = _topic_list(f"{heading}\n{t('topics.heading')}",
                       [(f"{citation}:" if len(packs) > 1 else None, topics)
                        for citation, topics in groups], t)
    return Reply(kind=ReplyKind.HELP, text=text, heading=heading,
                 items=tuple(item for _, topics in groups for item in topics),
                 language=t.language)


def render_source(packs: FactPack | Sequence[FactPack], t: Strings = ENGLISH_STRINGS) -> Reply:
    """Where the facts come from: one pack's source, or each pack's, one a line."""
    chosen = [packs] if isinstance(packs, FactPack) else list(packs)
    source = "\n".join(p.source.line() for p in chosen)
    lead = t("source.lead")
    text = _clip(f"{lead} {source}" if len(chosen) == 1 else f"{lead}\n{source}")
    return Reply(kind=ReplyKind.SOURCE, text=text, source=source, heading=text,
                 language=t.language)


def render_info(text: str, t: Strings = ENGLISH_STRINGS) -> Reply:
    """A short answer; whatever it quotes (a reload's error, say) is cut to MAX_REPLY."""
    text = _clip(text)
    return Reply(kind=ReplyKind.INFO, text=text, heading=text, language=t.language)


def render_slow_down(t: Strings = ENGLISH_STRINGS) -> Reply:
    text = t("slow_down")
    return Reply(kind=ReplyKind.SLOW_DOWN, text=text, heading=text, language=t.language)


# "Show context" shows at most this much of the paragraph, around the quote.
MAX_CONTEXT = 1200


def render_context(pack: FactPack, topic: Topic, fact: Fact, paragraph: tuple[int, int],
                   t: Strings = ENGLISH_STRINGS) -> Reply:
    """The article's paragraph around a fact: verbatim, the quote within it, and cited.

    ``quote`` is the passage shown (the article's own characters, cut at word boundaries
    with "…" where the paragraph is longer than MAX_CONTEXT); ``context`` is the fact's
    quote, for adapters that mark it inside the passage.
    """
    article = pack.article
    start, end = paragraph
    if end - start > MAX_CONTEXT:
        room = max(MAX_CONTEXT - len(fact.quote), 0) // 2
        lo = max(start, fact.offset - room)
        hi = min(end, fact.offset + len(fact.quote) + room)
        if lo > start:
            lo = article.find(" ", lo, fact.offset) + 1 or fact.offset
        if hi < end:
            cut = article.rfind(" ", fact.offset + len(fact.quote), hi)
            hi = cut if cut > 0 else hi
        start, end = lo, hi
    passage = article[start:end].strip()
    passage = ("…" if start > paragraph[0] else "") + passage \
        + ("…" if end < paragraph[1] else "")
    source = pack.source.line()
    heading = t("context.heading")
    text = f"{heading}\n{passage}\n{t('fact.source', source=source)}"
    index = next((i for i, f in enumerate(topic.facts) if f.quote == fact.quote), None)
    return Reply(kind=ReplyKind.CONTEXT, text=text, topic=topic.command, quote=passage,
                 source=source, heading=heading, context=fact.quote, language=t.language,
                 fact=index)
