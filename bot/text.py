"""Text normalisation and tokenising shared by pack loading and matching."""

from __future__ import annotations

import json
import re
import unicodedata
from functools import lru_cache

import Stemmer

_QUOTES = str.maketrans({"‘": "'", "’": "'", "‚": "'", "‛": "'", "“": '"', "”": '"', "„": '"',
                         "‟": '"', "«": '"', "»": '"', "—": "-", "–": "-"})
_SPACE = re.compile(r"\s+")
# Digits grouped with commas or dots ("13,000") are one number.
_DIGIT_GROUP = re.compile(r"(?<=\d)[,.](?=\d{3}\b)")
# Hyphens and apostrophes inside a word join it: "k-pop" -> "kpop", "korea's" -> "koreas".
_INNER_JOIN = re.compile(r"(?<=\w)['\-](?=\w)")
_NON_WORD = re.compile(r"[^\w]+")
_HANGUL = re.compile(r"[\uac00-\ud7a3\u1100-\u11ff\u3130-\u318f]")

_stemmer = Stemmer.Stemmer("english")
# Malay shares its affixes with Indonesian: "perdagangan" and "dagangan" -> "dagang".
_malay_stemmer = Stemmer.Stemmer("indonesian")


def normalise_quote(text: str) -> str:
    """Fold only whitespace and quote styles: the verbatim check's notion of "the same"."""
    return _SPACE.sub(" ", text.translate(_QUOTES)).strip()


def fold(text: str) -> str:
    """NFKC, casefold and unify quotes and dashes."""
    return unicodedata.normalize("NFKC", text).casefold().translate(_QUOTES)


def words(text: str) -> list[str]:
    """Split folded text into word tokens, punctuation dropped."""
    return list(word_tuple(text))


@lru_cache(maxsize=2048)
def word_tuple(text: str) -> tuple[str, ...]:
    """``words`` for texts seen again and again: pack keywords, repeated messages."""
    text = _DIGIT_GROUP.sub("", fold(text))
    text = _INNER_JOIN.sub("", text)
    return tuple(w for w in _NON_WORD.split(text) if w and w != "_")


def is_hangul(token: str) -> bool:
    return _HANGUL.search(token) is not None


@lru_cache(maxsize=16384)
def stem(token: str) -> str:
    """Stem a Latin-script token; other scripts pass through unchanged."""
    if token.isascii() and token.isalpha():
        return str(_stemmer.stemWord(token))
    return token


@lru_cache(maxsize=16384)
def malay_stem(token: str) -> str:
    """The Malay root of a Latin-script token (Snowball's Indonesian stemmer)."""
    if token.isascii() and token.isalpha():
        return str(_malay_stemmer.stemWord(token))
    return token


class VerbatimIndex:
    """An article folded for the verbatim check, mapped back to its own characters."""

    def __init__(self, article: str) -> None:
        chars: list[str] = []
        self._origin: list[int] = []
        for i, ch in enumerate(article):
            ch = ch.translate(_QUOTES)
            if ch.isspace():
                if not chars or chars[-1] == " ":
                    continue
                ch = " "
            chars.append(ch)
            self._origin.append(i)
        self._article = article
        self._folded = "".join(chars)

    def find(self, text: str) -> str | None:
        """The article's own span for ``text``, or None when it is not verbatim."""
        needle = normalise_quote(text)
        if not needle:
            return None
        folded = self._folded
        at = folded.find(needle)
        while at >= 0:
            end = at + len(needle)
            # Whole words only: "deniable fact" is not a quote of "undeniable fact".
            cut_before = at > 0 and folded[at - 1].isalnum() and needle[0].isalnum()
            cut_after = end < len(folded) and folded[end].isalnum() and needle[-1].isalnum()
            if not (cut_before or cut_after):
                return self._article[self._origin[at]:self._origin[end - 1] + 1]
            at = folded.find(needle, at + 1)
        return None


# A year a text names: "in 2019". Shared by the matcher's index and its analysis.
_YEAR_RE = re.compile(r"\b(?:1[6-9]|20)\d\d\b")


# Characters a terminal acts on instead of showing: C0 and C1 controls, bidi overrides and
# isolates (U+202E makes "gpj.exe" read "exe.jpg"), other invisible format characters, line
# and paragraph separators, lone surrogates. The zero-width (non-)joiner only joins emoji
# and letters, so it stays.
_INVISIBLE = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs"})
_KEPT = frozenset("\n\t\u200c\u200d")


def escape_invisible(text: str) -> str:
    """``text`` for a terminal: every control or format character but newline and tab as
    its JSON escape (``\\u202e``), which keeps JSON output valid JSON."""
    if text.isprintable():
        return text
    return "".join(json.dumps(ch)[1:-1]
                   if ch not in _KEPT and unicodedata.category(ch) in _INVISIBLE else ch
                   for ch in text)
