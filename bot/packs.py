"""Fact packs: YAML data plus the article it quotes, validated when loaded.

A pack is a folder with ``pack.yaml`` and ``article.txt``. Loading refuses
anything doubtful: unknown or missing keys, bad command names, colliding
aliases, and above all a quote (or a quote's context) that is not verbatim in
the article. Each fact also learns from the article whether it is quoted (the
person's own words, inside quotation marks) or the outlet's narration, so that
a reply never puts narration in anyone's mouth.
"""

from __future__ import annotations

import os
import re
import reprlib
import stat
from bisect import bisect_right
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from factbot import commands
from factbot.errors import PackError
from factbot.text import VerbatimIndex, normalise_quote, words

COMMAND_RE = re.compile(r"^[a-z0-9_]{1,32}$")
MAX_QUOTE = 280
# A quote and the context shown with it, together: a reply stays a short read.
MAX_QUOTE_WITH_CONTEXT = 500
MAX_DESCRIPTION = 100
# Languages a topic's description may be translated into (factbot.i18n's, English aside).
TRANSLATED = ("ko", "ms")
# Files bigger than these are refused before they are parsed: loading and checking cost
# grows with the article, and an endless file (/dev/zero) would never be read to its end.
MAX_ARTICLE_BYTES = 1_000_000
MAX_PACK_BYTES = 5_000_000
# A pack nests six levels (pack, topics, a topic, facts, a fact, keywords): deeper YAML is
# no pack, and refusing it early keeps every later step within Python's recursion limit.
MAX_YAML_DEPTH = 16
# Each fact and speaker is looked up in the article: their number times the article's
# length is the work of loading, so both are bounded (100 topics: the platforms' menus).
MAX_TOPICS = 100
MAX_FACTS = 1_000
MAX_SPEAKERS = 200
# A source part or role starting with this is a placeholder a draft left for the curator
# (`factbot facts new`): accepted, left out of citations, and warned about by `facts check`.
TODO = "TODO"


def is_todo(text: str) -> bool:
    return text.strip().startswith(TODO)


@dataclass(frozen=True, slots=True)
class Source:
    outlet: str
    dateline: str
    date: str
    title: str | None = None
    byline: str | None = None

    def line(self) -> str:
        """The citation shown under every fact, e.g. ``Bernama, Kuala Lumpur, Oct 2``."""
        return _source_line(self)


@lru_cache(maxsize=256)  # every reply cites its source: build each line once
def _source_line(source: Source) -> str:
    dateline = source.dateline.title() if source.dateline.isupper() else source.dateline
    parts = [f"“{source.title}”"] if source.title else []
    parts += [p for p in (source.outlet, dateline, source.date) if not is_todo(p)]
    return ", ".join(parts)


@dataclass(frozen=True, slots=True)
class Fact:
    """One quote of a topic, as the article spells it.

    ``quoted`` is computed from the article, not written in the YAML: True when the
    whole quote lies inside quotation marks there (the speaker's own words), False
    when it is the outlet's narration or reported speech ("Lee said ..."), which
    must never be shown as the speaker's words. ``context`` is article text shown
    with the quote so that it stands alone ("It will mark ..." needs to say what
    "it" is); it is not the fact's own words, and matching should ignore it.
    ``offset`` is where the quote starts in the article (-1 when unknown).
    """

    quote: str
    speaker: str | None
    keywords: tuple[str, ...]
    line: int
    quoted: bool = False
    context: str | None = None
    offset: int = -1


@dataclass(frozen=True, slots=True)
class Topic:
    command: str
    description: str
    aliases: tuple[str, ...]
    keywords: tuple[str, ...]
    facts: tuple[Fact, ...]
    pack: str
    line: int
    # A question must name one of these to get a fact from this topic in free text
    # ("how many people live in Malaysia" is not about the Korean community).
    requires: tuple[str, ...] = ()
    # Translated descriptions for menus and lists: (language, text), e.g. ("ko", "…").
    descriptions: tuple[tuple[str, str], ...] = ()

    def described(self, language: str) -> str:
        """The description in ``language`` where the pack gives one, else the pack's own."""
        return next((text for lang, text in self.descriptions if lang == language),
                    self.description)


@dataclass(frozen=True, slots=True)
class FactPack:
    name: str
    path: Path
    source: Source
    speakers: dict[str, str]
    generic_terms: tuple[str, ...]
    places: dict[str, tuple[str, ...]]
    topics: tuple[Topic, ...]
    article: str

    def speaker_line(self, speaker: str | None) -> str | None:
        if speaker is None:
            return None
        role = self.speakers.get(speaker)
        return f"{speaker}, {role}" if role and not is_todo(role) else speaker


# --- quotations in the article ------------------------------------------------

# Marks that open a quotation: curly, low-9 and straight double quotes.
_OPENERS = "“„‟\""
# Marks that close one. A curly opening mark placed where a quotation ends (``word“ ``)
# is a reversed closing quote, a common typo; ``_closes`` accepts it there.
_CLOSERS = "”\""
# What may sit between a quote's edge and its quotation marks: spaces and the marks.
_EDGE = " \t\n“”„‟\"‘’"


@dataclass(frozen=True, slots=True)
class QuotedSpan:
    """Article text inside quotation marks (marks excluded), within one paragraph.

    A quotation that news style carries over several paragraphs (each reopening
    with a mark) has one span per paragraph, all with the same ``quotation``.
    ``closed`` is False when the paragraph ends with the quotation still open.
    ``paragraph`` is the start and end of the paragraph that holds the span.
    """

    start: int
    end: int
    quotation: int
    closed: bool
    paragraph: tuple[int, int]


def _opens(text: str, at: int) -> bool:
    """A mark inside a quotation that opens a nested one: after a space, before a word."""
    before = text[at - 1] if at > 0 else " "
    after = text[at + 1] if at + 1 < len(text) else " "
    return text[at] in "“„‟" and (before.isspace() or before in "([—–-") and not after.isspace()


def _closes(text: str, at: int) -> bool:
    ch = text[at]
    if ch in _CLOSERS:
        return True
    if ch in "“‟":  # reversed: an opening glyph after a word and before a space or a stop
        before = text[at - 1] if at > 0 else " "
        after = text[at + 1] if at + 1 < len(text) else " "
        return not before.isspace() and not after.isalnum()
    return False


def paragraphs(article: str) -> Iterator[tuple[int, int]]:
    """Where each paragraph starts and ends: a run of lines with text, up to a blank line.

    Line by line, not with a regular expression: one backtracks across a long run of
    spaces at every position of it, quadratic in the run.
    """
    start = end = -1
    at = 0
    for line in article.split("\n"):
        if line and not line.isspace():
            start = at if start < 0 else start
            end = at + len(line)
        elif start >= 0:
            yield start, end
            start = -1
        at += len(line) + 1
    if start >= 0:
        yield start, end


def quoted_spans(article: str) -> tuple[QuotedSpan, ...]:
    """Where the article quotes someone, paragraph by paragraph.

    News style opens a quotation with “ (or "), closes it with ” (or ", or a reversed
    “). A paragraph that ends inside a quotation continues it into the next paragraph
    only if that paragraph opens with a mark again; otherwise the next paragraph is
    narration, unless a mark opens inside it. Marks nested inside a quotation
    (“a “b” c”) do not end it.
    """
    spans: list[QuotedSpan] = []
    quotation = -1
    carried = False  # the previous paragraph ended inside a quotation
    for bounds in paragraphs(article):
        base = bounds[0]
        text = article[base:bounds[1]]
        lead = len(text) - len(text.lstrip())
        depth, start, first = 0, 0, lead
        if text[lead] in _OPENERS:
            quotation += 0 if carried else 1
            depth, start, first = 1, lead + 1, lead + 1
        for at in range(first, len(text)):
            if depth == 0:
                if text[at] in _OPENERS:
                    quotation += 1
                    depth, start = 1, at + 1
            elif _opens(text, at):
                depth += 1
            elif _closes(text, at):
                depth -= 1
                if depth == 0:
                    spans.append(QuotedSpan(base + start, base + at, quotation, True, bounds))
        if depth:
            spans.append(QuotedSpan(base + start, base + len(text.rstrip()), quotation, False,
                                    bounds))
        carried = depth > 0
    return tuple(spans)


def locate(article: str, found: str) -> int:
    """Where the article's own text ``found`` (from ``VerbatimIndex.find``) starts, or -1.

    Like the verbatim check, a match cut mid-word does not count.
    """
    for match in re.finditer(re.escape(found), article):
        at, end = match.start(), match.end()
        cut_before = at > 0 and article[at - 1].isalnum() and found[0].isalnum()
        cut_after = end < len(article) and article[end].isalnum() and found[-1].isalnum()
        if not (cut_before or cut_after):
            return at
    return -1


def quoted_span_of(spans: Sequence[QuotedSpan], article: str, start: int, end: int
                   ) -> QuotedSpan | None:
    """The quoted span that holds all of ``article[start:end]``, or None.

    Quotation marks and spaces at the edges of the text do not count against it:
    a quote written with its own marks is still inside the quotation. ``spans`` are
    ``quoted_spans``: in article order and apart, so only the last one starting at or
    before the text can hold it.
    """
    text = article[start:end]
    start += len(text) - len(text.lstrip(_EDGE))
    end -= len(text) - len(text.rstrip(_EDGE))
    if end <= start:
        return None
    at = bisect_right(spans, start, key=lambda s: s.start) - 1
    return spans[at] if at >= 0 and end <= spans[at].end else None


# --- YAML with line numbers -------------------------------------------------


class _Mapping(dict[str, Any]):
    line: int = 0
    key_lines: dict[str, int]


class _Sequence(list[Any]):
    line: int = 0


class _ShortRepr(reprlib.Repr):
    """``repr`` cut short whatever the value: through aliases a YAML list of ten items can
    hold 10**10, and an error message must not spell them out."""

    def __init__(self) -> None:
        super().__init__()
        self.maxstring = self.maxother = 60
        self.maxlevel, self.maxlist, self.maxdict = 2, 3, 3

    # reprlib picks its method by the type's name: the loader's list and dict are theirs.
    def repr__Sequence(self, value: list[Any], level: int) -> str:
        return self.repr_list(value, level)

    def repr__Mapping(self, value: dict[Any, Any], level: int) -> str:
        return self.repr_dict(value, level)


_SHORT_REPR = _ShortRepr()


def shown(value: object) -> str:
    """``repr(value)`` for an error message, at most about 60 characters of it."""
    return _SHORT_REPR.repr(value)


def read_limited(path: Path, limit: int, what: str) -> str:
    """The UTF-8 text of the regular file ``path``, refused when over ``limit`` bytes.

    The file is opened without blocking and checked before it is read: a FIFO would wait
    for a writer forever, a device such as /dev/zero never ends.
    """
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise PackError(str(path), None, f"cannot read the {what}: not a regular file")
            with open(fd, "rb", closefd=False) as file:
                data = file.read(limit + 1)
        finally:
            os.close(fd)
    except OSError as exc:
        problem = exc.strerror or str(exc)  # the path is said once, before the problem
        if isinstance(exc, FileNotFoundError) and path.is_symlink():
            problem = f"a symlink to {shown(os.readlink(path))}, which does not exist"
        raise PackError(str(path), None, f"cannot read the {what}: {problem}") from None
    if len(data) > limit:
        raise PackError(str(path), None, f"the {what} is over {limit:,} bytes, the limit")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PackError(str(path), None, f"cannot read the {what}: {exc}") from None
    return text.replace("\r\n", "\n").replace("\r", "\n")  # as Path.read_text reads it


# --- validation ---------------------------------------------------------------


class _Checker:
    """Reads one pack.yaml, raising PackError with file and line on the first fault."""

    def __init__(self, path: Path, article: str) -> None:
        self.path = path
        self.file = str(path)
        self.article = article
        self.index = VerbatimIndex(article)
        self.spans = quoted_spans(article)

    def fail(self, line: int | None, problem: str) -> PackError:
        return PackError(self.file, line, problem)

    def mapping(self, value: Any, line: int, what: str, required: set[str],
                optional: set[str]) -> _Mapping:
        if not isinstance(value, _Mapping):
            raise self.fail(line, f"{what} must be a mapping")
        for key in value:
            if key not in required | optional:
                known = ", ".join(sorted(required | optional))
                raise self.fail(value.key_lines[key], f"unknown key {shown(key)} in {what} "
                                                      f"(expected: {known})")
        for key in sorted(required - value.keys()):
            raise self.fail(value.line, f"missing key {key!r} in {what}")
        return value

    def text(self, parent: _Mapping, key: str, what: str, *, optional: bool = False,
             limit: int | None = None) -> str | None:
        value = parent.get(key)
        line = parent.key_lines.get(key, parent.line)
        if value is None and optional:
            return None
        if not isinstance(value, str) or not value.strip():
            raise self.fail(line, f"{what}.{key} must be non-empty text")
        if limit is not None and len(value) > limit:
            raise self.fail(line, f"{what}.{key} is {len(value)} characters; the limit is {limit}")
        return value.strip()

    def text_list(self, parent: _Mapping, key: str, what: str) -> tuple[str, ...]:
        value = parent.get(key, [])
        line = parent.key_lines.get(key, parent.line)
        label = f"{what}.{key}" if len(key) <= 60 else f"{what}.{shown(key)}"  # a place's name
        if not isinstance(value, list):
            raise self.fail(line, f"{label} must be a list")
        out: list[str] = []
        for item in value:
            if not isinstance(item, str | int) or not str(item).strip():
                raise self.fail(line, f"{label} holds {shown(item)}, which is not text")
            if not words(str(item)):
                raise self.fail(line, f"{label} holds {shown(item)}, which has no words")
            out.append(str(item).strip())
        return tuple(out)

    def verbatim(self, text: str, line: int, what: str) -> str:
        """Return the article's own characters for ``text``; fail if it is not there."""
        found = self.index.find(text)
        if found is None:
            raise self.fail(line, f"{what} is not verbatim in {self.path.parent / 'article.txt'}: "
                                  f"{text[:60]!r}")
        return found

    def source(self, raw: Any, line: int) -> Source:
        src = self.mapping(raw, line, "source", {"outlet", "dateline", "date"},
                           {"title", "byline"})
        values = {k: self.text(src, k, "source", optional=k in ("title", "byline"))
                  for k in ("outlet", "dateline", "date", "title", "byline")}
        # The citation may say nothing the article does not: each part must be in it.
        for key, value in values.items():
            if value is not None and not is_todo(value):
                values[key] = self.verbatim(value, src.key_lines[key], f"source.{key}")
        return Source(outlet=values["outlet"] or "", dateline=values["dateline"] or "",
                      date=values["date"] or "", title=values["title"], byline=values["byline"])

    def fact(self, raw: Any, line: int, where: str, speakers: dict[str, str]) -> Fact:
        fact = self.mapping(raw, line, where, {"quote"}, {"speaker", "keywords", "context"})
        quote = self.text(fact, "quote", where, limit=MAX_QUOTE) or ""
        # Show the article's own characters (curly quotes, dashes), not the YAML's.
        quote = self.verbatim(quote, fact.key_lines["quote"], f"{where}.quote")
        if len(quote) > MAX_QUOTE:  # the article's span, as shown, is what must be short
            raise self.fail(fact.key_lines["quote"], f"{where}.quote is {len(quote)} characters "
                                                     f"in the article; the limit is {MAX_QUOTE}")
        speaker = self.text(fact, "speaker", where, optional=True)
        if speaker is not None and speaker not in speakers:
            raise self.fail(fact.key_lines["speaker"],
                            f"{where}.speaker {shown(speaker)} is not listed under 'speakers'")
        context = self.text(fact, "context", where, optional=True)
        if context is not None:
            line = fact.key_lines["context"]
            context = self.verbatim(context, line, f"{where}.context")
            if normalise_quote(quote) in normalise_quote(context):
                raise self.fail(line, f"{where}.context holds the quote itself; give the "
                                      f"text before it that says who or what it means")
            if len(quote) + len(context) > MAX_QUOTE_WITH_CONTEXT:
                raise self.fail(line, f"{where}.context and quote are {len(quote) + len(context)}"
                                      f" characters together; the limit is "
                                      f"{MAX_QUOTE_WITH_CONTEXT}")
        offset = locate(self.article, quote)
        quoted = offset >= 0 and quoted_span_of(self.spans, self.article, offset,
                                                offset + len(quote)) is not None
        return Fact(quote=quote, speaker=speaker, keywords=self.text_list(fact, "keywords", where),
                    line=fact.line, quoted=quoted, context=context, offset=offset)

    def topic(self, raw: Any, line: int, index: int, speakers: dict[str, str],
              pack: str) -> Topic:
        where = f"topics[{index}]"
        topic = self.mapping(raw, line, where, {"command", "description", "facts"},
                             {"aliases", "keywords", "requires", "descriptions",
                              *(f"description_{lang}" for lang in TRANSLATED)})
        command = topic.get("command")
        if not isinstance(command, str) or not COMMAND_RE.match(command):
            raise self.fail(topic.key_lines["command"],
                            f"{where}.command {shown(command)} must match [a-z0-9_]{{1,32}}")
        where = f"topic {command!r}"
        if command in commands.names():
            raise self.fail(topic.key_lines["command"], f"{where} takes a built-in command name")
        description = self.text(topic, "description", where, limit=MAX_DESCRIPTION) or ""
        descriptions = self.descriptions(topic, where)
        facts_raw = topic["facts"]
        if not isinstance(facts_raw, _Sequence) or not facts_raw:
            raise self.fail(topic.key_lines["facts"], f"{where}.facts must be a non-empty list")
        facts = tuple(self.fact(f, getattr(f, "line", facts_raw.line), f"{where}.facts[{i}]",
                                speakers) for i, f in enumerate(facts_raw))
        seen: set[str] = set()
        for fact in facts:
            key = normalise_quote(fact.quote)
            if key in seen:
                raise self.fail(fact.line, f"{where} repeats the quote {fact.quote[:40]!r}")
            seen.add(key)
        return Topic(command=command, description=description,
                     aliases=self.text_list(topic, "aliases", where),
                     keywords=self.text_list(topic, "keywords", where),
                     facts=facts, pack=pack, line=topic.line,
                     requires=self.text_list(topic, "requires", where),
                     descriptions=descriptions)

    def descriptions(self, topic: _Mapping, where: str) -> tuple[tuple[str, str], ...]:
        """``description_ko: …`` or ``descriptions: {ko: …, ms: …}``, within the same limit."""
        found: dict[str, str] = {}
        raw = topic.get("descriptions")
        if raw is not None:
            if not isinstance(raw, _Mapping):
                raise self.fail(topic.key_lines["descriptions"],
                                f"{where}.descriptions must map a language "
                                f"({', '.join(TRANSLATED)}) to a description")
            for lang in raw:
                if lang not in TRANSLATED:
                    raise self.fail(raw.key_lines[lang],
                                    f"{where}.descriptions has the language {shown(lang)}; "
                                    f"expected one of: {', '.join(TRANSLATED)}")
                found[lang] = self.text(raw, lang, f"{where}.descriptions",
                                        limit=MAX_DESCRIPTION) or ""
        for lang in TRANSLATED:
            if f"description_{lang}" in topic:
                if lang in found:
                    raise self.fail(topic.key_lines[f"description_{lang}"],
                                    f"{where} gives its {lang} description twice")
                found[lang] = self.text(topic, f"description_{lang}", where,
                                        limit=MAX_DESCRIPTION) or ""
        return tuple(sorted(found.items()))

    def places(self, top: _Mapping) -> dict[str, tuple[str, ...]]:
        """Names of the places the article is about, each with the words that mean it."""
        raw = top.get("places", _Mapping())
        if not isinstance(raw, _Mapping):
            raise self.fail(top.key_lines["places"], "places must map a place to its names")
        return {str(name): self.text_list(raw, name, "places") for name in raw}

    def pack(self, raw: Any) -> FactPack:
        top = self.mapping(raw, 1, "pack", {"name", "source", "topics"},
                           {"speakers", "generic_terms", "places"})
        name = self.text(top, "name", "pack") or ""
        source = self.source(top["source"], top.key_lines["source"])
        speakers_raw = top.get("speakers", _Mapping())
        if not isinstance(speakers_raw, _Mapping):
            raise self.fail(top.key_lines["speakers"], "speakers must map a name to a role")
        if len(speakers_raw) > MAX_SPEAKERS:
            raise self.fail(top.key_lines["speakers"], f"speakers lists {len(speakers_raw)} "
                                                       f"people; the limit is {MAX_SPEAKERS}")
        speakers: dict[str, str] = {}
        for speaker, role in speakers_raw.items():
            line = speakers_raw.key_lines[speaker]
            if not isinstance(role, str) or not role.strip():
                raise self.fail(line, f"speakers.{shown(speaker)} must give a role as text")
            self.verbatim(speaker, line, f"speaker {shown(speaker)}")
            speakers[speaker] = role.strip() if is_todo(role) else \
                self.verbatim(role.strip(), line, f"role of speaker {shown(speaker)}")
        topics_raw = top["topics"]
        if not isinstance(topics_raw, _Sequence) or not topics_raw:
            raise self.fail(top.key_lines["topics"], "topics must be a non-empty list")
        if len(topics_raw) > MAX_TOPICS:
            raise self.fail(top.key_lines["topics"], f"topics lists {len(topics_raw)} topics; "
                                                     f"the limit is {MAX_TOPICS}")
        facts = sum(len(t["facts"]) for t in topics_raw
                    if isinstance(t, _Mapping) and isinstance(t.get("facts"), _Sequence))
        if facts > MAX_FACTS:
            raise self.fail(top.key_lines["topics"], f"the topics hold {facts} facts; the limit "
                                                     f"is {MAX_FACTS}")
        topics = tuple(self.topic(t, getattr(t, "line", topics_raw.line), i, speakers, name)
                       for i, t in enumerate(topics_raw))
        return FactPack(name=name, path=self.path, source=source, speakers=speakers,
                        generic_terms=self.text_list(top, "generic_terms", "pack"),
                        places=self.places(top),
                        topics=topics, article=self.article)


def alias_key(text: str) -> str:
    """The form in which names and aliases collide: folded words, no spaces."""
    return "".join(words(text))


def check_names(packs: Iterable[FactPack]) -> None:
    """Refuse commands and aliases that two topics would both answer to."""
    owners: dict[str, tuple[str, Topic, str]] = {}
    for pack in packs:
        for topic in pack.topics:
            names = [(topic.command, "command")] + [(a, "alias") for a in topic.aliases]
            for name, kind in names:
                key = alias_key(name)
                if key in commands.names():
                    raise PackError(str(pack.path), topic.line,
                                    f"{kind} {shown(name)} of topic {topic.command!r} is a "
                                    f"built-in command")
                prior = owners.get(key)
                if prior is not None and prior[1] is not topic:
                    raise PackError(str(pack.path), topic.line,
                                    f"{kind} {shown(name)} of topic {topic.command!r} collides "
                                    f"with {prior[2]} of topic {prior[1].command!r} in "
                                    f"{prior[0]}:{prior[1].line}")
                owners[key] = (str(pack.path), topic, f"{kind} {shown(name)}")


def load_pack(folder: Path) -> FactPack:
    """Load and validate one pack folder."""
    path = folder / "pack.yaml"
    article = read_limited(folder / "article.txt", MAX_ARTICLE_BYTES, "article")
    from factbot.packyaml import read_pack  # PyYAML only when a pack is read

    raw = read_pack(path)
    pack = _Checker(path, article).pack(raw)
    check_names([pack])
    return pack


def pack_folders(root: Path) -> Iterator[Path]:
    """``root`` when it is a pack, else its subfolders that are.

    A folder is a pack when anything is called ``pack.yaml`` in it, a directory, a FIFO or
    a dangling symlink included: loading it then fails loudly instead of skipping it.
    """
    if os.path.lexists(root / "pack.yaml"):
        yield root
        return
    try:
        children = sorted(root.iterdir())
    except OSError as exc:
        raise PackError(str(root), None, f"cannot list the facts directory: {exc}") from None
    for child in children:
        if os.path.lexists(child / "pack.yaml"):
            yield child


def load_packs(root: Path) -> tuple[FactPack, ...]:
    """Load every pack under ``root`` (or ``root`` itself when it is a pack)."""
    if not root.is_dir():
        raise PackError(str(root), None, "no such facts directory")
    packs = tuple(load_pack(folder) for folder in pack_folders(root))
    if not packs:
        raise PackError(str(root), None, "no pack.yaml found in this directory or below it")
    seen: dict[str, Path] = {}
    for pack in packs:
        if pack.name in seen:
            raise PackError(str(pack.path), None, f"pack name {shown(pack.name)} is also used by "
                                                  f"{seen[pack.name]}")
        seen[pack.name] = pack.path
    check_names(packs)
    topics = sum(len(p.topics) for p in packs)
    if topics > commands.topic_room():
        # Every topic is a command in the platforms' menus: none may be cut from them.
        raise PackError(str(root), None, f"{topics} topics in all, but the platforms' command "
                                         f"menus hold {commands.topic_room()} beside the "
                                         f"{len(commands.menu_commands())} built-in commands")
    return packs

