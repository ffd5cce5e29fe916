"""Text normalisation and tokenising shared by pack loading and matching."""

from __future__ import annotations

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


def normalise_quote(text: str) -> str:
    """Fold only whitespace and quote styles: the verbatim check's notion of "the same"."""
    return _SPACE.sub(" ", text.translate(_QUOTES)).strip()


def fold(text: str) -> str:
    """NFKC, casefold and unify quotes and dashes."""
    return unicodedata.normalize("NFKC", text).casefold().translate(_QUOTES)


def words(text: str) -> list[str]:
    """Split folded text into word tokens, punctuation dropped."""
    text = _DIGIT_GROUP.sub("", fold(text))
    text = _INNER_JOIN.sub("", text)
    return [w for w in _NON_WORD.split(text) if w and w != "_"]


def is_hangul(token: str) -> bool:
    return _HANGUL.search(token) is not None


@lru_cache(maxsize=65536)
def stem(token: str) -> str:
    """Stem a Latin-script token; other scripts pass through unchanged."""
    if token.isascii() and token.isalpha():
        return str(_stemmer.stemWord(token))
    return token


def stems(text: str) -> list[str]:
    return [stem(w) for w in words(text)]
