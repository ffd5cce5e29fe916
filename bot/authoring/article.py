"""An article's layout: its paragraphs, and the header and credit line around its body.

``read_header`` finds the title, byline, dateline, date and outlet, where the article
has them: a dateline prefix ("KUALA LUMPUR, Oct 2 —"), a date on a line of its own
("Thursday, February 23, 2023"), a credit line at the end ("Source: Wikinews, "...",
... Licensed under ...") or a sign-off ("— Bernama"). These are metadata, never facts.
A part the article lacks becomes a ``TODO`` placeholder in the draft, never a guess (the
loader accepts placeholders; ``facts check`` warns about them).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from factbot.packs import MAX_ARTICLE_BYTES as MAX_ARTICLE_BYTES  # drafts load, by design
from factbot.packs import paragraphs as pack_paragraphs
from factbot.text import words

# --- header -------------------------------------------------------------------

_MONTHS = (r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|"
           r"Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?")
_WEEKDAY = r"(?:Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)day"
_YEAR_DATE = rf"(?:{_MONTHS}\s+\d{{1,2}},?\s+\d{{4}}|\d{{1,2}}\s+{_MONTHS},?\s+\d{{4}})"
# "KUALA LUMPUR, Oct 2 —", "PORTHAVEN, March 14 (Northline Sport) —",
# "LONDON, 3 May 2024 (Reuters) -", "COLUMBUS, Ohio, May 3 (Lakeside Wire) —"
_DATELINE = re.compile(
    r"^(?P<place>[A-Z][A-Z'’.\- ]*[A-Z](?:,\s+[A-Z][A-Za-z.]+)?),\s+"
    rf"(?P<date>{_MONTHS}\s+\d{{1,2}}(?:,\s+\d{{4}})?|\d{{1,2}}\s+{_MONTHS}(?:\s+\d{{4}})?)\s*"
    r"(?:\((?P<outlet>[^()\n]{2,60})\)\s*)?[—–-]{1,2}\s+")
# A date on a line of its own under the title: "Thursday, February 23, 2023".
_DATE_LINE = re.compile(rf"^(?:{_WEEKDAY},?\s+)?(?P<date>{_YEAR_DATE})\.?$")
_BYLINE = re.compile(r"^By\s+(?P<name>[A-Z][^,|\n]{2,60}?)\s*(?:[,|]\s*(?P<outlet>[^\n]{2,60}))?$")
# A closing "— Bernama" after the last sentence names the outlet.
_SIGN_OFF = re.compile(r"\s+[—–-]{1,2}\s*(?P<outlet>[A-Z][\w&.' ]{1,40}?)\s*$")
# Source: Wikinews, "Title", August 15, 2008, https://... Licensed under CC BY 2.5 (...).
_CREDIT = re.compile(r"^Source:\s*(?P<outlet>[^,\"“”\n]{2,60}?),\s*[\"“](?P<title>[^\"“”\n]{2,200})"
                     rf"[\"”](?:,\s*(?P<date>{_YEAR_DATE}))?")
_METADATA = re.compile(r"^Source:\s|\bLicen[sc]ed under\b")


@dataclass(frozen=True, slots=True)
class Header:
    """The source parts found in the article; None where it has none."""

    title: str | None = None
    byline: str | None = None
    dateline: str | None = None
    date: str | None = None
    outlet: str | None = None


@dataclass(frozen=True, slots=True)
class Paragraph:
    text: str  # as in the article, line breaks included
    start: int  # offset of text in the article


def paragraphs(article: str) -> list[Paragraph]:
    # The loader's line-by-line reading: a regular expression backtracks across a long run
    # of spaces at every position of it, quadratic in the run.
    return [Paragraph(article[start:end].rstrip(), start)
            for start, end in pack_paragraphs(article)]


def _parse_header(paras: list[Paragraph]) -> tuple[Header, list[Paragraph]]:
    """Split the header and any credit line off the body; the body starts after the
    dateline or the date line, if any."""
    title = byline = dateline = date = outlet = None
    body_at = 0
    for i, para in enumerate(paras[:5]):
        text = para.text.strip()
        by = _BYLINE.match(text)
        if by and "\n" not in text:
            byline = by.group("name").strip()
            outlet = outlet or (by.group("outlet") or "").strip() or None
            body_at = i + 1
            continue
        on_its_own = _DATE_LINE.match(text)
        if on_its_own:
            date = date or on_its_own.group("date")
            body_at = i + 1
            continue
        found = _DATELINE.match(text)
        if found:
            dateline, date = found.group("place"), found.group("date")
            outlet = found.group("outlet") or outlet
            body_at = i
            paras = [*paras[:i], Paragraph(text[found.end():], para.start + found.end()),
                     *paras[i + 1:]]
            break
        if i == 0 and "\n" not in text and len(text) < 150 and text[-1] not in ".!?\"”" \
                and len(paras) > 1:
            title = text
            body_at = 1
            continue
        break  # the body has begun
    body = paras[body_at:]
    # A credit line closes wire copy and Wikinews articles: metadata, not a fact.
    while body and len(body) > 1 and _METADATA.search(body[-1].text.strip()):
        credit = _CREDIT.match(body[-1].text.strip())
        if credit:
            outlet = outlet or credit.group("outlet").strip()
            title = title or credit.group("title").strip()
            date = date or credit.group("date")
        body = body[:-1]
    if body:
        last = body[-1]
        sign = _SIGN_OFF.search(last.text)
        if sign and sign.group("outlet").strip() and len(words(sign.group("outlet"))) <= 4:
            outlet = outlet or sign.group("outlet").strip()
            body = [*body[:-1], Paragraph(last.text[:sign.start()], last.start)]
    return Header(title, byline, dateline, date, outlet), body


def _is_heading(text: str) -> bool:
    """A section heading inside the body ("Media and opposition parties react"): one short
    line that ends without a sentence's punctuation and quotes nobody."""
    text = text.strip()
    return "\n" not in text and len(words(text)) <= 12 and text[:1].isupper() \
        and text[-1] not in ".!?:;,…" and not re.search(r"[“”\"]", text)


def read_header(article: str) -> Header:
    return _parse_header(paragraphs(article))[0]
