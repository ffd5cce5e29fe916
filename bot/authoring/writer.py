"""The draft as YAML: the ``pack.yaml`` that ``facts new`` writes, with notes to the curator."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable

from factbot.authoring.drafting import Draft, _names_alone, _surname
from factbot.authoring.sentences import Sentence
from factbot.packs import TODO
from factbot.text import normalise_quote

_PLAIN = re.compile(r"^[A-Za-z][\w’'\-]*(?: [\w’'\-]+)*$")


def _scalar(text: str) -> str:
    """Plain when YAML would read it back unchanged, else a JSON (= YAML) string."""
    if _PLAIN.match(text) and text.casefold() not in {"yes", "no", "on", "off", "true", "false",
                                                       "null", "y", "n"}:
        return text
    return json.dumps(text, ensure_ascii=False)


def _flow(items: Iterable[str], indent: int = 4, width: int = 96) -> str:
    """A YAML flow list, wrapped so that a curator can read it."""
    lines = [""]
    for n, item in enumerate(items):
        piece = ("" if n == 0 else " ") + _scalar(item) + ","
        if len(lines[-1]) + len(piece) > width - indent and lines[-1]:
            lines.append(" " * (indent + 2) + piece.lstrip())
        else:
            lines[-1] += piece
    return "[" + "\n".join(lines).rstrip(",") + "]"


def _fact_keywords(sentence: Sentence, alone: frozenset[str]) -> list[str]:
    """A speaker's fact is found by the speaker's surname and full name."""
    if not sentence.speaker:
        return []
    surname = _surname(sentence.speaker, alone)
    return [surname, sentence.speaker] if surname != sentence.speaker else [surname]


def render_yaml(d: Draft) -> str:
    h = d.header
    todo = f"{TODO}: not found in the article; replace with text that stands in it"
    lines = [
        f"# Draft pack written by `factbot facts new` for {d.name!r}.",
        "# Every quote below is cut verbatim from article.txt. To curate: rename the",
        "# commands, add aliases and keywords people would type, merge or split topics,",
        "# fill any TODO, then run `factbot facts check` on this folder.",
        "# A TODO value is a placeholder: the loader accepts it, the check warns,",
        "# and the bot leaves it out of citations.",
        f"name: {_scalar(d.name)}",
        "source:",
    ]
    if h.title:
        lines.append(f"  title: {_scalar(h.title)}")
    lines.append(f"  outlet: {_scalar(h.outlet or todo)}")
    lines.append(f"  dateline: {_scalar(h.dateline or todo)}")
    lines.append(f"  date: {_scalar(h.date or todo)}")
    if h.byline:
        lines.append(f"  byline: {_scalar(h.byline)}")
    if d.speakers:
        lines.append("speakers:")
        for speaker, role in d.speakers.items():
            lines.append(f"  {_scalar(speaker)}: {_scalar(role or f'{TODO}: role')}")
    if d.generic_terms:
        lines.append("# Words all over the article: understood, but they point to no topic.")
        lines.append(f"generic_terms: {_flow(d.generic_terms, 0)}")
    for note in d.notes:
        lines.append(f"# {note}")
    lines.append("topics:")
    alone = _names_alone([s for t in d.topics for s in t.sentences])
    for topic in d.topics:
        lines.append(f"  # article lines {topic.lines[0]}-{topic.lines[1]}")
        lines.append(f"  - command: {topic.command}")
        lines.append(f"    description: {_scalar(topic.description)}")
        lines.append(f"    keywords: {_flow(topic.keywords)}")
        lines.append("    facts:")
        seen: set[str] = set()
        for s in topic.sentences:
            key = normalise_quote(s.text)
            if key in seen:
                continue
            seen.add(key)
            lines.append(f"      - quote: {_scalar(s.text)}")
            if s.speaker:
                lines.append(f"        speaker: {_scalar(s.speaker)}")
                lines.append(f"        keywords: {_flow(_fact_keywords(s, alone), 8)}")
    return "\n".join(lines) + "\n"
