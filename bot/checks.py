"""``factbot facts check``: every problem with the packs in a directory, not just the first.

Errors stop the bot from loading or publishing a pack: schema and verbatim
faults (from ``bot.packs``), quotes over the length limit, descriptions over
the platform limits, command collisions across packs, too many commands for a
platform menu. Warnings are for the curator: article sentences no topic can
reach, topics the matcher will confuse, TODO placeholders a draft left.
The command exits non-zero only when there are errors.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from itertools import combinations
from pathlib import Path
from typing import Any

import yaml

from bot.authoring import split_article
from bot.errors import PackError
from bot.packs import (
    MAX_DESCRIPTION,
    MAX_QUOTE,
    FactPack,
    Topic,
    check_names,
    is_todo,
    load_pack,
    pack_folders,
)
from bot.text import normalise_quote, stem, words
from bot.vocab import STOPWORDS

# Platform limits on command menus (Telegram setMyCommands, Discord application commands).
PLATFORM_DESCRIPTION = {"Discord": 100, "Telegram": 256}
PLATFORM_MAX_COMMANDS = 100
MENU_BUILTIN_COUNT = 3  # /topics, /help, /source (bot.core.MENU_BUILTINS)
# Two topics sharing this share of the smaller one's terms are hard to tell apart.
CONFUSABLE_OVERLAP = 0.5
CONFUSABLE_MIN_SHARED = 2

ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True, slots=True)
class Finding:
    level: str  # ERROR or WARNING
    check: str  # load, quote_length, description_length, collision, menu_size, unreachable,
    #             confusable, todo
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
        root = yaml.compose(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return set()  # load_pack reports it, with its line
    lines: set[int] = set()
    topics = _get(root, "topics")
    if not isinstance(topics, yaml.SequenceNode):
        return lines
    for topic in topics.value:
        command = _get(topic, "command")
        name = command.value if isinstance(command, yaml.ScalarNode) else "?"
        desc = _get(topic, "description")
        if isinstance(desc, yaml.ScalarNode) and isinstance(desc.value, str):
            line = desc.start_mark.line + 1
            size = len(desc.value.strip())
            over = [f"{p} {n}" for p, n in sorted(PLATFORM_DESCRIPTION.items()) if size > n]
            if size > MAX_DESCRIPTION or over:
                report.add(ERROR, "description_length", path, line,
                           f"description of /{name} is {size} characters; the limit is "
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
    """Sentences of the article that no fact of any topic quotes."""
    quotes = [_key(f.quote) for t in pack.topics for f in t.facts]
    out: list[tuple[int, str]] = []
    for sentence in split_article(pack.article):
        key = _key(sentence.text)
        if not any(key in q or q in key for q in quotes if q):
            out.append((sentence.line, sentence.text))
    return out


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
        root = yaml.compose(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return []
    out = []
    for section in ("source", "speakers"):
        node = _get(root, section)
        if not isinstance(node, yaml.MappingNode):
            continue
        for key, value in node.value:
            if isinstance(value, yaml.ScalarNode) and is_todo(str(value.value)):
                what = f"source.{key.value}" if section == "source" else \
                    f"the role of speaker {key.value!r}"
                out.append((value.start_mark.line + 1, what))
    return out


# --- the whole check -----------------------------------------------------------------------


def check_dir(root: Path) -> CheckReport:
    """Check every pack under ``root`` (or ``root`` itself when it is a pack)."""
    report = CheckReport()
    if not root.is_dir():
        report.add(ERROR, "load", root, None, "no such facts directory")
        return report
    folders = list(pack_folders(root))
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
    commands = sum(len(p.topics) for p in report.packs) + MENU_BUILTIN_COUNT
    if commands > PLATFORM_MAX_COMMANDS:
        report.add(ERROR, "menu_size", root, None,
                   f"{commands} menu commands; Telegram and Discord take at most "
                   f"{PLATFORM_MAX_COMMANDS}")
    for pack in report.packs:
        for number, key in _todo_lines(pack.path):
            report.add(WARNING, "todo", pack.path, number,
                       f"{key} is a TODO placeholder: the article did not say; fill it in")
        for line, text in unreachable(pack):
            report.add(WARNING, "unreachable", pack.path.parent / "article.txt", line,
                       f"no topic quotes this sentence: {text[:70]!r}")
    for a, b, overlap, shared in confusable(report.packs):
        pack = next(p for p in report.packs if p.name == a.pack)
        report.add(WARNING, "confusable", pack.path, a.line,
                   f"/{a.command} and /{b.command} share {overlap:.0%} of their terms "
                   f"({', '.join(shared[:6])}): the matcher may not tell them apart")
    return report


def check_main(root: Path, as_json: bool) -> int:
    """Print the report; 0 without errors (warnings allowed), 2 with errors."""
    report = check_dir(root)
    if as_json:
        print(json.dumps(report.as_json(), ensure_ascii=False, indent=2))
    else:
        print(report.text())
    return 2 if report.errors else 0
