"""``factbot facts check``: every problem with the packs in a directory, not just the first.

Errors stop the bot from loading or publishing a pack: schema and verbatim
faults (from ``bot.packs``), quotes over the length limit, descriptions over
the platform limits, command collisions across packs, too many commands for a
platform menu. Warnings are for the curator: article sentences no topic can
reach, topics the matcher will confuse, TODO placeholders a draft left, quotes
that open with a pronoun and have no ``context:``, and speakers the article's
own attribution ("..., said Pryce") names differently. The command exits
non-zero only when there are errors.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from itertools import combinations
from pathlib import Path
from typing import Any

import yaml

from factbot.authoring.sentences import split_article
from factbot.authoring.speakers import NAME_TOKEN
from factbot.errors import PackError
from factbot.packs import (
    MAX_DESCRIPTION,
    MAX_QUOTE,
    TRANSLATED,
    Fact,
    FactPack,
    QuotedSpan,
    Topic,
    check_names,
    is_todo,
    load_pack,
    pack_folders,
    quoted_span_of,
    quoted_spans,
    shown,
)
from factbot.packyaml import compose_pack
from factbot.text import normalise_quote, stem, words
from factbot.vocab import STOPWORDS

# Platform limits on command menus (Telegram setMyCommands, Discord application commands).
PLATFORM_DESCRIPTION = {"Discord": 100, "Telegram": 256}
# Two topics sharing this share of the smaller one's terms are hard to tell apart.
CONFUSABLE_OVERLAP = 0.5
CONFUSABLE_MIN_SHARED = 2

ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True, slots=True)
class Finding:
    level: str  # ERROR or WARNING
    check: str  # load, quote_length, description_length, collision, menu_size, unreachable,
    #             confusable, todo, context, speaker
    file: str
    line: int | None
    message: str

    def where(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file


@dataclass
class CheckReport:
    findings: list[Finding] = field(default_factory=list)
    packs: list[FactPack] = field(default_factory=list)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.level == ERROR]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.level == WARNING]

    def add(self, level: str, check: str, file: Path | str, line: int | None,
            message: str) -> None:
        self.findings.append(Finding(level, check, str(file), line, message))

    def as_json(self) -> dict[str, Any]:
        return {
            "ok": not self.errors,
            "errors": [asdict(f) for f in self.errors],
            "warnings": [asdict(f) for f in self.warnings],
            "packs": [{"name": p.name, "path": str(p.path), "source": p.source.line(),
                       "topics": [{"command": t.command, "facts": len(t.facts)}
                                  for t in p.topics]} for p in self.packs],
        }

    def text(self) -> str:
        lines: list[str] = []
        for pack in self.packs:
            lines.append(f"{pack.name}: {pack.path} — {pack.source.line()}")
            for topic in pack.topics:
                lines.append(f"  /{topic.command:<14} {len(topic.facts):>2} facts  "
                             f"{topic.description}")
        for finding in [*self.errors, *self.warnings]:
            lines.append(f"{finding.level}: {finding.where()}: {finding.message} "
                         f"[{finding.check}]")
        facts = sum(len(t.facts) for p in self.packs for t in p.topics)
        topics = sum(len(p.topics) for p in self.packs)
        verdict = "ok" if not self.errors else "FAILED"
        lines.append(f"{verdict}: {len(self.packs)} pack(s), {topics} topics, {facts} facts; "
                     f"{len(self.errors)} error(s), {len(self.warnings)} warning(s)")
        return "\n".join(lines)


# --- limits, read from the YAML itself so that every offender is listed -------


def _scan_limits(path: Path, report: CheckReport) -> set[int]:
    """Report every quote and description over its limit; return their lines."""
    try:
        root = compose_pack(path)
    except PackError:
        return set()  # load_pack reports it, with its line
    lines: set[int] = set()
    topics = _get(root, "topics")
    if not isinstance(topics, yaml.SequenceNode):
        return lines
    for topic in topics.value:
        command = _get(topic, "command")
        # A command that is no command name is the loader's error to report.
        name = command.value if isinstance(command, yaml.ScalarNode) \
            and len(command.value) <= 32 else "?"
        for label, desc in _descriptions(topic):
            if not isinstance(desc, yaml.ScalarNode) or not isinstance(desc.value, str):
                continue
            line = desc.start_mark.line + 1
            size = len(desc.value.strip())
            over = [f"{p} {n}" for p, n in sorted(PLATFORM_DESCRIPTION.items()) if size > n]
            if size > MAX_DESCRIPTION or over:
                report.add(ERROR, "description_length", path, line,
                           f"{label} of /{name} is {size} characters; the limit is "
                           f"{MAX_DESCRIPTION} (platform limits: "
                           f"{', '.join(f'{p} {n}' for p, n in PLATFORM_DESCRIPTION.items())})")
                lines.add(line)
        facts = _get(topic, "facts")
        if not isinstance(facts, yaml.SequenceNode):
            continue
        for fact in facts.value:
            quote = _get(fact, "quote")
            if isinstance(quote, yaml.ScalarNode) and len(quote.value.strip()) > MAX_QUOTE:
                line = quote.start_mark.line + 1
                report.add(ERROR, "quote_length", path, line,
                           f"a quote of /{name} is {len(quote.value.strip())} characters; the "
                           f"limit is {MAX_QUOTE}: {quote.value[:50]!r}…")
                lines.add(line)
    return lines


def _descriptions(topic: yaml.Node) -> list[tuple[str, yaml.Node | None]]:
    """A topic's description and its translations, each with its label in the report."""
    found = [("description", _get(topic, "description"))]
    found += [(f"{lang} description", _get(topic, f"description_{lang}")) for lang in TRANSLATED]
    translations = _get(topic, "descriptions")
    if isinstance(translations, yaml.MappingNode):
        found += [(f"{key.value} description", value) for key, value in translations.value
                  if isinstance(key, yaml.ScalarNode)]
    return found


def _get(node: yaml.Node | None, key: str) -> yaml.Node | None:
    if not isinstance(node, yaml.MappingNode):
        return None
    for k, v in node.value:
        if isinstance(k, yaml.ScalarNode) and k.value == key:
            return v
    return None


# --- curator warnings ------------------------------------------------------------------


def _key(text: str) -> str:
    return normalise_quote(text).casefold().strip(" .,;:!?\"'")


def unreachable(pack: FactPack) -> list[tuple[int, str]]:
    """Sentences of the article that no fact of any topic quotes.

    A sentence is reached when it holds a quote or a quote holds it. Both are searched
    in one string of all the quotes and one of all the sentences, a search per sentence
    and per quote: a test per pair would cost sentences times facts.
    """
    quotes = [q for q in (_key(f.quote) for t in pack.topics for f in t.facts) if q]
    sentences = split_article(pack.article)
    keys = [_key(s.text) for s in sentences]
    sep = "\0"  # no quote or sentence holds it, or it takes the pairwise test below
    all_quotes = sep.join(quotes)
    reached = [any(key in q for q in quotes) if sep in key else bool(quotes) and key in all_quotes
               for key in keys]
    all_keys = sep.join(keys)
    starts = [0]
    for key in keys[:-1]:
        starts.append(starts[-1] + len(key) + 1)
    for quote in quotes:
        if sep in quote:
            reached = [r or quote in key for r, key in zip(reached, keys, strict=True)]
            continue
        at = all_keys.find(quote)
        while at >= 0:  # every sentence holding the quote, the next search after it
            i = bisect_right(starts, at) - 1
            reached[i] = True
            at = all_keys.find(quote, starts[i + 1]) if i + 1 < len(starts) else -1
    return [(s.line, s.text) for s, r in zip(sentences, reached, strict=True) if not r]


def topic_terms(topic: Topic, generic: Iterable[str] = ()) -> dict[str, str]:
    """What the matcher knows a topic by: its name, aliases and keywords, stemmed
    (each with the text it came from)."""
    skip = {" ".join(stem(w) for w in words(g)) for g in generic}
    terms: dict[str, str] = {}
    for text in (topic.command.replace("_", " "), *topic.aliases, *topic.keywords):
        term = " ".join(stem(w) for w in words(text) if w not in STOPWORDS)
        if term and term not in skip:
            terms.setdefault(term, text)
    return terms


def confusable(packs: Sequence[FactPack]) -> list[tuple[Topic, Topic, float, list[str]]]:
    """Pairs of topics whose terms overlap so much that the matcher cannot tell them apart."""
    generic = [g for p in packs for g in p.generic_terms]
    topics = [(t, topic_terms(t, generic)) for p in packs for t in p.topics]
    out = []
    for (a, ta), (b, tb) in combinations(topics, 2):
        shared = ta.keys() & tb.keys()
        if not ta or not tb or len(shared) < CONFUSABLE_MIN_SHARED:
            continue
        overlap = len(shared) / min(len(ta), len(tb))
        if overlap >= CONFUSABLE_OVERLAP:
            out.append((a, b, overlap, sorted(ta[t] for t in shared)))
    return out


def _todo_lines(path: Path) -> list[tuple[int, str]]:
    """Source parts and speaker roles a draft left as TODO, with their lines."""
    try:
        root = compose_pack(path)
    except PackError:
        return []
    out = []
    for section in ("source", "speakers"):
        node = _get(root, section)
        if not isinstance(node, yaml.MappingNode):
            continue
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode) and isinstance(value, yaml.ScalarNode) \
                    and is_todo(str(value.value)):
                what = f"source.{shown(key.value)[1:-1]}" if section == "source" else \
                    f"the role of speaker {shown(key.value)}"
                out.append((value.start_mark.line + 1, what))
    return out


# --- quotes that stand alone, speakers the article agrees with -------------------------

# Words that point outside the quote when it opens with them: "It will mark ...".
_POINTING_WORDS = {"it", "its", "this", "that", "these", "those", "he", "she", "they", "his",
                   "her", "their", "them", "him", "such"}
_DEMONSTRATIVES = {"this", "that", "these", "those"}
# "This year", "these days": they point at the article's date, which the source line gives.
_TIME_WORDS = {"year", "years", "week", "weeks", "month", "months", "morning", "afternoon",
               "evening", "season", "weekend", "summer", "winter", "spring", "autumn", "quarter",
               "decade", "century", "time", "day", "days"}
# Words after a demonstrative that do not point at a thing: "this much", "that way".
_NOT_POINTING = _TIME_WORDS | {"much", "many"}
# "I think it will continue ...": the hedge is the speaker's; the pronoun is what dangles.
_HEDGE = re.compile(r"(?:(?:and|but|so|yet)\s+)?(?:(?:i|we)\s+(?:think|believe|hope|feel|know|"
                    r"am sure|are sure|am confident|are confident)(?:\s+that)?\s+)?", re.I)
# Inside the first clause: "As we work hand-in-hand on this particular front, ...".
_POINTING_PHRASE = re.compile(r"\b(?:this|these|those)\s+(?:(?:particular|same|very)\s+)?"
                              r"([a-z][\w-]*)", re.I)
_WORD = re.compile(r"[A-Za-z]+")


def dangling_reference(quote: str) -> str | None:
    """The pronoun or pointing phrase a quote opens with, whose meaning lies outside it."""
    text = quote.lstrip(" “”\"‘’'(")
    hedge = _HEDGE.match(text)
    text = text[hedge.end():] if hedge else text
    found = [m.group(0) for m in _WORD.finditer(text[:80])]
    if found:
        first, after = found[0], (found[1] if len(found) > 1 else "")
        lower = first.casefold()
        if lower in _POINTING_WORDS and not (
                (lower in _DEMONSTRATIVES and after.casefold() in _NOT_POINTING)
                or (lower == "such" and after.casefold() == "as")):
            return f"{first} {after}" if lower in _DEMONSTRATIVES and after else first
    clause = re.split(r"[,;:.!?]", text, maxsplit=1)[0]
    for match in _POINTING_PHRASE.finditer(clause):
        if match.group(1).casefold() not in _NOT_POINTING:
            return match.group(0)
    return None


_SPEECH_VERBS = (r"said|says|told|tells|added|adds|stated|states|noted|notes|highlighted|"
                 r"expressed|explained|stressed|insisted|continued")
_INVERTED_VERBS = r"said|says|added|adds|stated|noted|explained|continued"  # "..., added Lee"
# The drafter's name token: it starts a word and is read once (possessive), else a long run
# of capitals ("AAAA…") costs its length at each of its letters, quadratic in the run.
_PERSON = rf"{NAME_TOKEN}(?:\s+{NAME_TOKEN}){{0,3}}"
_ATTRIBUTIONS = (
    # "Lee told", "Harbourside manager Elena Marsh said", "Solberg, Halvorsen's head, said"
    re.compile(rf"(?P<who>{_PERSON})(?:,[^,“”\"]{{1,80}},)?\s+(?:{_SPEECH_VERBS})\b"),
    re.compile(rf"\b(?:{_INVERTED_VERBS})\s+(?P<who>{_PERSON})"),
    re.compile(rf"\b(?i:according to)\s+(?P<who>{_PERSON})"),
    re.compile(rf"(?P<who>{_PERSON}),?\s+in a statement\b"),
)
# Capitalised words that open sentences or name no person.
_NOT_NAMES = {"the", "a", "an", "this", "that", "these", "those", "it", "its", "in", "on", "at",
              "with", "from", "for", "after", "before", "when", "while", "throughout", "to",
              "but", "and", "he", "she", "they", "we", "i", "you", "his", "her", "their", "our",
              "currently", "however", "meanwhile", "also", "then", "as", "elaborating"}
_NOT_PEOPLE = {"robotics", "logistics", "fc", "united", "rovers", "city", "sport", "sports",
               "wire", "group", "inc", "ltd", "bank", "ministry", "government", "club", "company",
               "corp", "corporation", "holdings", "fund", "airlines", "university", "council",
               "association", "news", "times", "post", "press", "agency", "board", "police",
               "school", "institute", "foundation", "party", "league", "department", "office",
               "court", "embassy", "state", "states", "republic", "kingdom", "korea", "malaysia",
               "south", "north", "east", "west", "analysts", "officials", "experts"}


def _name_tokens(name: str) -> list[str]:
    tokens = [re.sub(r"['’]s$", "", t).casefold() for t in name.split()]
    while tokens and tokens[0] in _NOT_NAMES:
        tokens.pop(0)
    return tokens


def attributed_name(narration: str) -> str | None:
    """The person a stretch of narration says is speaking ("…,” Lee told Bernama"), if named.

    A pronoun ("he added") names nobody: None, as for text with no attribution at all.
    """
    found: list[tuple[int, str]] = []
    for pattern in _ATTRIBUTIONS:
        for match in pattern.finditer(narration):
            words_ = match.group("who").split()
            while words_ and words_[0].casefold() in _NOT_NAMES:
                words_.pop(0)
            if words_:
                found.append((match.start("who"), " ".join(words_)))
                break
    return min(found)[1] if found else None


def _same_person(a: str, b: str) -> bool:
    """"Lee" is "Lee Chi-beom", "Mayor Ann Lake" is "Ann Lake": one name holds the other."""
    ta, tb = set(_name_tokens(a)), set(_name_tokens(b))
    return bool(ta) and bool(tb) and (ta <= tb or tb <= ta)


def _looks_like_person(name: str, pack: FactPack) -> bool:
    """Conservative: two to four capitalised words, none of an organisation or a place."""
    tokens = _name_tokens(name)
    places = {w for names in pack.places.values() for n in names for w in words(n)}
    places |= {w for p in pack.places for w in words(p)}
    places |= set(words(pack.source.outlet)) | set(words(pack.source.dateline))
    return 2 <= len(tokens) <= 4 and not any(t in _NOT_PEOPLE or t in places for t in tokens)


def _narration(article: str, spans: Sequence[QuotedSpan], start: int, end: int) -> str:
    """``article[start:end]`` with every quotation in it blanked out.

    ``spans`` are in article order and apart (``quoted_spans``): only those from the
    first ending at or after ``start`` can reach into the text, so a fact costs the
    spans around it, not every span of the article.
    """
    chars = list(article[start:end])
    for span in spans[bisect_left(spans, start, key=lambda s: s.end):]:
        if span.start - 1 >= end:
            break
        for at in range(max(span.start - 1, start), min(span.end + 1, end)):
            chars[at - start] = " "
    return "".join(chars)


def _nearby_narration(article: str, spans: Sequence[QuotedSpan], fact: Fact) -> list[str]:
    """Where the article says who speaks a fact, nearest first.

    Narration: the fact's own sentence. A quotation: the narration right after it and
    right before it in its paragraphs, then, when it runs off the end of its paragraph
    unclosed, the first sentence of the next paragraph if that one is narration.
    """
    end = fact.offset + len(fact.quote)
    if not fact.quoted:
        return [_narration(article, spans, fact.offset, end)]
    mine = quoted_span_of(spans, article, fact.offset, end)
    if mine is None:
        return []
    # A quotation's spans follow one another (``quoted_spans`` numbers them in order).
    first_at = last_at = bisect_left(spans, mine.start, key=lambda s: s.start)
    while first_at > 0 and spans[first_at - 1].quotation == mine.quotation:
        first_at -= 1
    while last_at + 1 < len(spans) and spans[last_at + 1].quotation == mine.quotation:
        last_at += 1
    first, last = spans[first_at], spans[last_at]
    after = bisect_right(spans, last.end, key=lambda s: s.start)  # the next span to start
    after_end = min(spans[after].start, last.paragraph[1]) if after < len(spans) \
        else last.paragraph[1]
    before = bisect_left(spans, first.start, key=lambda s: s.end) - 1  # the last to end
    before_start = max(spans[before].end, first.paragraph[0]) if before >= 0 \
        else first.paragraph[0]
    out = [_narration(article, spans, last.end, after_end),
           _narration(article, spans, before_start, first.start)]
    if not last.closed:
        following = article[last.paragraph[1]:].lstrip()
        if following and following[0] not in "“„‟\"":
            out.append(re.split(r"(?<=[.!?])\s", following, maxsplit=1)[0])
    return out


def speaker_mismatches(pack: FactPack) -> list[tuple[Fact, str]]:
    """Facts whose speaker is not the person the article's attribution names for them."""
    spans = quoted_spans(pack.article)
    out: list[tuple[Fact, str]] = []
    for topic in pack.topics:
        for fact in topic.facts:
            if fact.speaker is None or fact.offset < 0:
                continue
            for narration in _nearby_narration(pack.article, spans, fact):
                name = attributed_name(narration)
                if name is None:
                    continue
                if _same_person(name, fact.speaker):
                    break
                listed = next((s for s in pack.speakers if _same_person(name, s)), None)
                if listed is not None or _looks_like_person(name, pack):
                    out.append((fact, listed or name))
                break
    return out


# --- the whole check -----------------------------------------------------------------------


def check_dir(root: Path) -> CheckReport:
    """Check every pack under ``root`` (or ``root`` itself when it is a pack)."""
    report = CheckReport()
    if not root.is_dir():
        report.add(ERROR, "load", root, None, "no such facts directory")
        return report
    try:
        folders = list(pack_folders(root))
    except PackError as exc:
        report.add(ERROR, "load", exc.path, exc.line, exc.problem)
        return report
    if not folders:
        report.add(ERROR, "load", root, None, "no pack.yaml found in this directory or below it")
        return report
    for folder in folders:
        path = folder / "pack.yaml"
        reported = _scan_limits(path, report)
        try:
            report.packs.append(load_pack(folder))
        except PackError as exc:
            if exc.path != str(path) or exc.line not in reported:
                report.add(ERROR, "load", exc.path, exc.line, exc.problem)
    names: dict[str, Path] = {}
    for pack in report.packs:
        if pack.name in names:
            report.add(ERROR, "collision", pack.path, None,
                       f"pack name {pack.name!r} is also used by {names[pack.name]}")
        names[pack.name] = pack.path
    try:
        check_names(report.packs)
    except PackError as exc:
        report.add(ERROR, "collision", exc.path, exc.line, exc.problem)
    from factbot.commands import PLATFORM_MAX_COMMANDS, menu_commands

    # Each topic is a command beside the built-ins in every platform's menu: Discord
    # registers them all, and would cut what does not fit.
    commands = sum(len(p.topics) for p in report.packs) + len(menu_commands())
    if commands > PLATFORM_MAX_COMMANDS:
        report.add(ERROR, "menu_size", root, None,
                   f"{commands} menu commands; Telegram and Discord take at most "
                   f"{PLATFORM_MAX_COMMANDS}")
    for pack in report.packs:
        for number, key in _todo_lines(pack.path):
            report.add(WARNING, "todo", pack.path, number,
                       f"{key} is a TODO placeholder: the article did not say; fill it in")
        for topic in pack.topics:
            for fact in topic.facts:
                pointer = None if fact.context else dangling_reference(fact.quote)
                if pointer is not None:
                    report.add(WARNING, "context", pack.path, fact.line,
                               f"a fact of /{topic.command} uses {shown(pointer)} for something "
                               f"outside the quote: add `context:` with the article text that "
                               f"says what it is ({fact.quote[:50]!r}…)")
        for fact, named in speaker_mismatches(pack):
            report.add(WARNING, "speaker", pack.path, fact.line,
                       f"speaker {shown(fact.speaker)}, but the article attributes these words "
                       f"to {shown(named)}: {fact.quote[:50]!r}…")
        for line, text in unreachable(pack):
            report.add(WARNING, "unreachable", pack.path.parent / "article.txt", line,
                       f"no topic quotes this sentence: {text[:70]!r}")
    for a, b, overlap, shared in confusable(report.packs):
        pack = next(p for p in report.packs if p.name == a.pack)
        report.add(WARNING, "confusable", pack.path, a.line,
                   f"/{a.command} and /{b.command} share {overlap:.0%} of their terms "
                   f"({', '.join(shared[:6])}): the matcher may not tell them apart")
    return report
