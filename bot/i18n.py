"""factbot's own words in English, Malay and Korean, and which of them a member gets.

The catalogues are YAML (factbot/locales/LANG.yaml), one flat key per text, rather than
gettext: they need no compile step in the build or in ``make``, a curator edits them like the
packs, PyYAML is already loaded, and neither Malay nor Korean inflects for number, so
gettext's plural machinery would buy nothing here. tests/test_i18n.py checks that every
catalogue has every English key with the same placeholders.

Only factbot's words are translated; the quotes stay verbatim in the article's language.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from importlib import resources
from typing import TYPE_CHECKING

import yaml

if TYPE_CHECKING:
    from factbot.commands import Command, Option

ENGLISH = "en"
LANGUAGES = ("en", "ms", "ko")
# Malay as Telegram and Discord name it; Discord has no Malay locale (tests note it).
_ALIASES = {"may": "ms", "zsm": "ms", "kor": "ko", "eng": "en"}
_HANGUL = re.compile(r"[\uac00-\ud7a3\u1100-\u11ff\u3130-\u318f]")
_WORD = re.compile(r"[a-z]+")
# Words that mark a question as Malay and not English (none of them is an English word).
_MALAY = frozenset((
    "apa", "apakah", "siapa", "siapakah", "bila", "bilakah", "mengapa", "kenapa",
    "bagaimana", "macam", "mana", "berapa", "berapakah", "adakah", "boleh", "tak", "tidak",
    "yang", "dan", "untuk", "dengan", "tentang", "ini", "itu", "dari", "daripada", "kepada",
    "ke", "di", "ada", "akan", "sudah", "dah", "nak", "hendak", "mahu", "saya", "kita",
    "kami", "awak", "anda", "dia", "mereka", "kerana", "sebab", "antara", "hubungan",
    "negara", "kerjasama", "perdagangan", "pelaburan", "rakyat", "selatan", "ceritakan",
    "beritahu", "terangkan", "tahun", "jumlah", "bilangan", "cuba",
))
_ENGLISH = frozenset((
    "what", "who", "when", "why", "how", "which", "where", "is", "are", "was", "were",
    "the", "a", "an", "of", "to", "in", "on", "for", "with", "about", "and", "does", "do",
    "did", "can", "tell", "me", "you", "i", "it", "this", "that", "many", "much",
))


class Strings:
    """One language's texts: ``t("key", name=value)``; a missing key falls back to English."""

    __slots__ = ("_english", "_texts", "language")

    def __init__(self, language: str) -> None:
        self.language = language
        self._texts = catalogue(language)
        self._english = catalogue(ENGLISH)

    def __call__(self, key: str, /, **values: object) -> str:
        template = self._texts.get(key) or self._english[key]
        return template.format(**values) if values else template

    def either(self, names: Sequence[str]) -> str:
        """"/a", "/a or /b", "/a, /b or /c" in this language."""
        if len(names) < 2:
            return "".join(names)
        return self("list.or", rest=", ".join(names[:-1]), last=names[-1])

    def command(self, spec: Command) -> str:
        """A command's description: the declaration's English, or its translation."""
        return self._texts.get(f"command.{spec.name}") or spec.description

    def option(self, spec: Command, option: Option) -> str:
        return self._texts.get(f"option.{spec.name}.{option.name}") or option.description

    def has(self, key: str) -> bool:
        return key in self._texts

    def __repr__(self) -> str:
        return f"Strings({self.language!r})"


@functools.cache
def catalogue(language: str) -> Mapping[str, str]:
    """The texts of ``language``, read once, when a member first needs them."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    source = resources.files("factbot").joinpath("locales", f"{language}.yaml")
    texts = yaml.load(source.read_text(encoding="utf-8"), Loader=loader)
    return {str(k): str(v) for k, v in (texts or {}).items()}


@functools.cache
def strings(language: str | None = None) -> Strings:
    return Strings(language if language in LANGUAGES else ENGLISH)


ENGLISH_STRINGS = strings(ENGLISH)


def supported(code: str | None) -> str | None:
    """The catalogue for a platform's language code ("ko", "ko-KR", "ms", "en-GB"), if any."""
    if not code:
        return None
    base = code.replace("_", "-").split("-")[0].casefold()
    base = _ALIASES.get(base, base)
    return base if base in LANGUAGES else None


def question_language(text: str) -> str | None:
    """The language a question is written in, when it is plain: Korean, Malay or English.

    Hangul means Korean. Otherwise the words that only Malay uses against those only
    English uses; a command ("/hallyu") or a lone name says nothing.
    """
    if _HANGUL.search(text):
        return "ko"
    if text.lstrip().startswith("/"):
        return None
    found = _WORD.findall(text.casefold())
    malay = sum(w in _MALAY for w in found)
    english = sum(w in _ENGLISH for w in found)
    if malay > english:
        return "ms"
    if english > malay:
        return ENGLISH
    return None


def choose(platform_code: str | None, text: str, chat_language: str | None) -> str:
    """Which language to answer in: the member's app, the question's, the chat's, English.

    An English app is a weak sign (it is most apps' default, and Discord has no Malay
    locale, so Malaysians run it in English): a question plainly in Malay or Korean wins.
    """
    platform = supported(platform_code)
    if platform is not None and platform != ENGLISH:
        return platform
    return question_language(text) or platform or supported(chat_language) or ENGLISH
