"""Does a sentence have the shape of an answer, and does it meet what the question demands?

A "when" question needs a date, a time or a condition; "how many" a number; "who" a
person or organisation; "where" a place; "why" a reason. A superlative or rank
("largest", "third-largest") and a scope ("in the world", "in South-east Asia") the
question sets must be met by the sentence too. Each function here reads text only.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from typing import NamedTuple

from factbot.text import fold, stem

# --- what a question asks for ------------------------------------------------------

WHEN = "when"
COUNT = "count"
WHO = "who"
WHERE = "where"
WHY = "why"
DATE = "date"  # "what date": a condition will not do
LONG = "long"  # "how long": a duration or a date since when
RANK = "rank"  # "what rank", "nombor berapa": a place in a ranking

# What each kind of question says, as words and word pairs (one set test each, no
# scanning: the matcher reads every message), and as Korean pieces found inside words.
_ASK_WORDS: dict[str, frozenset[str]] = {
    COUNT: frozenset({"berapa"}),
    DATE: frozenset({"tarikh"}),
    LONG: frozenset(),
    RANK: frozenset({"ranked", "ranks", "ranking"}),
    WHEN: frozenset({"when", "bila", "bilakah"}),
    WHO: frozenset({"who", "whom", "whose", "siapa", "siapakah", "nama"}),
    WHERE: frozenset({"where"}),
    WHY: frozenset({"why", "kenapa", "mengapa", "sebab"}),
}
_ASK_PAIRS: dict[str, frozenset[str]] = {
    COUNT: frozenset({"how many", "how much", "how big", "how large", "number of",
                      "berapa ramai", "berapa banyak", "berapa orang", "berapa ribu",
                      "berapa tahun", "berapa jumlah", "berapa bilangan"}),
    DATE: frozenset({"what date", "which date", "exact date", "what day", "which day",
                     "what time"}),
    WHEN: frozenset({"what year", "which year", "what month", "which month", "bila masa"}),
    LONG: frozenset({"how long", "since when", "berapa lama", "how old"}),  # or an age
    RANK: frozenset({"what rank", "which rank", "what position", "which position",
                     "what place", "nombor berapa", "tempat ke", "kedudukan ke"}),
    WHO: frozenset({"which person", "which official", "which minister", "which people",
                    "which organisation", "which organization", "which group", "which company",
                    "which charity", "full name", "his name", "her name", "the name"}),
    WHERE: frozenset({"di mana", "kat mana", "dekat mana", "which city", "which town",
                      "which street", "which place", "which location", "which area",
                      "what city", "what town", "what place", "what location"}),
    WHY: frozenset({"how come", "apa sebab", "what made", "what makes", "what caused",
                    "what causes", "the reason", "what s behind", "s behind"}),
}
_ASK_HANGUL: dict[str, tuple[str, ...]] = {
    COUNT: ("몇 명", "몇명", "몇 개", "몇개", "얼마나 많"),
    DATE: ("날짜", "며칠", "무슨 요일"),
    WHEN: ("언제", "몇 년도", "몇년도"),
    LONG: ("얼마나 오래", "몇 년째", "몇 년 동안", "몇 년", "몇년"),
    RANK: ("몇 위", "몇위", "몇 번째", "몇번째", "순위"),
    WHO: ("누구", "누가", "이름"),
    WHERE: ("어디",),
    WHY: ("왜", "이유", "덕분"),
}
# "What is the number / size / value of…" asks for a count.
_COUNT_NOUNS = frozenset({"number", "size", "amount", "figure", "percentage", "value",
                          "population", "headcount", "count", "total"})
# "How did it become so popular?" asks why; "how many" does not.
_HOW_AUX = frozenset({"how did", "how does", "how do", "how has", "how have", "how could",
                      "how can"})
_HOW_WHY = frozenset({"become", "became", "get", "got", "gain", "gained", "grow", "grew",
                      "come", "manage", "managed"})
_TOKENS = re.compile(r"[^\w]+")
# Some word of a question kind: without one, no kind is asked (the pairs hold one too).
_CUES = frozenset().union(*_ASK_WORDS.values(), {p.split()[0] for ps in _ASK_PAIRS.values()
                                                  for p in ps}, _COUNT_NOUNS, {"how"})
# "How many years", "berapa tahun", "몇 년": how long, in a count of time.
_COUNT_SPANS = frozenset({f"{a} {b}" for a in ("many", "berapa") for b in (
    "years", "months", "decades", "weeks", "tahun", "bulan", "dekad")})
_WH = frozenset({"what", "who", "whom", "whose", "which", "where", "why", "how", "when"})
_ORDER = (RANK, LONG, COUNT, DATE, WHEN, WHO, WHERE, WHY)


def _kind(tokens: list[str], folded: str) -> str | None:
    present = set(tokens)
    hangul = not folded.isascii()
    if present.isdisjoint(_CUES) and not hangul:
        return None  # no question word at all: one set test
    if "when" in present:
        # "What did the PM say when he apologised?": a "when" after another question word
        # joins two clauses; it asks nothing.
        first = next((t for t in tokens if t in _WH), None)
        if first is not None and first != "when":
            present = present - {"when"}
    if hangul and ("어디에 쓰" in folded or "어디에 사용" in folded):
        return None  # "where is it used" in Korean asks what for
    pairs = {f"{a} {b}" for a, b in itertools.pairwise(tokens)}
    for kind in _ORDER:
        if not present.isdisjoint(_ASK_WORDS[kind]) or not pairs.isdisjoint(_ASK_PAIRS[kind]) \
                or (hangul and any(h in folded for h in _ASK_HANGUL[kind])):
            if kind in (WHO, WHERE) and not pairs.isdisjoint(_HOW_AUX) \
                    and not present.isdisjoint(_HOW_WHY):
                return WHY
            if kind == COUNT and not pairs.isdisjoint(_COUNT_SPANS):
                return LONG  # "how many years": a duration answers it
            return kind
        if kind == COUNT and "what" in present and not present.isdisjoint(_COUNT_NOUNS):
            return COUNT
    if (not pairs.isdisjoint(_HOW_AUX) and not present.isdisjoint(_HOW_WHY)) or (
            hangul and "어떻게" in folded and ("인기" in folded or "성공" in folded)):
        return WHY
    return None


def asks(text: str) -> str | None:
    """The kind of answer a question asks for, or None for "tell me about…"."""
    folded = fold(text)
    return _kind([t for t in _TOKENS.split(folded) if t], folded)


# --- what a sentence can answer --------------------------------------------------------

_MONTH = (r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
          r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)")
_WEEKDAY = r"(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)"
_TIME = re.compile(
    r"\b(?:1[6-9]|20)\d\d\b|\b" + _MONTH + r"\b\.? ?\d|\bin " + _MONTH + r"\b|"
    r"\b(?:" + _WEEKDAY + r"|today|yesterday|tomorrow|"
    r"tonight|currently|now|this (?:year|week|month)|last (?:year|week|month|summer|winter|"
    r"spring|autumn|night)|next (?:year|week|month)|\d+(?:st|nd|rd|th) year|"
    r"a\.m\.|p\.m\.|o'clock|morning|afternoon|evening|night|decade|century|"
    r"earlier|later|recently|soon)\b")
# How long something lasts answers "how long", not "when": "his three-year tenure".
_DURATION = re.compile(r"\b(?:\d+|one|two|three|four|five|six|seven|eight|nine|ten|several|many)"
                       r"[- ](?:year|month|week|day|hour|decade)s?\b|\b\d+(?:st|nd|rd|th) year\b|"
                       r"\bsince\b|\bfor (?:years|decades|months)\b")
# A condition answers "when" too: "when the need arises", "once it is signed".
_CONDITION = re.compile(r"\b(?:when|once|after|before|until|as soon as|in conjunction with|"
                        r"during|while|by the time)\b")
_NUMBER_WORD = (r"one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|"
                r"thirty|forty|fifty|hundred|hundreds|thousand|thousands|million|millions|"
                r"billion|billions|dozen|dozens|half")
# A count or an amount: "13,000", "three-year", "62nd year". "Third-largest" is a rank.
_NUMBER = re.compile(r"\d+(?!(?:st|nd|rd|th)?[- ]?(?:largest|biggest|most|highest|place))"
                     r"|"
                     r"\b(?:" + _NUMBER_WORD + r")\b(?![- ]?(?:largest|biggest|way))|per ?cent|%")
# Dates are no counts: "Oct 3", "in 2019", "November 2019".
_DATES = re.compile(r"\b" + _MONTH + r"\b\.? ?\d{1,2}\b|\b(?:1[6-9]|20)\d\d\b|"
                    r"\b\d{1,2} " + _MONTH + r"\b")
# A time yet to come, or a condition: what "when will…" needs.
_FUTURE = re.compile(r"\b(?:will|would|next|upcoming|expected|plans?|planned|soon|later|"
                     r"when the|once|if|until|from (?:" + _WEEKDAY + r"|today|tomorrow)|tomorrow|"
                     r"by (?:the end|next))\b")
_FUTURE_ASK = re.compile(r"\bwill\b|\bnext\b|\bupcoming\b|\bgoing to\b|\bgonna\b|\bakan\b|"
                         r"\bnanti\b|할 ?예정|"
                         r"(?:ㄹ|을|할|될|열) ?(?:까|거|건가)|나요\?*$")
_REASON = re.compile(r"\b(?:because|due to|owing to|thanks to|as a result|since|so that|"
                     r"in order to|reason|reasons|why|cause|caused|led to|lead to|derived|"
                     r"based on|driven|given|amid|to further|to (?:help|ensure|promote|"
                     r"strengthen|enhance|reduce|speed|clear|avoid|make|get|respond)|"
                     r"particularly|as)\b")
_AGENT_WORDS = re.compile(r"\b(?:government|governments|ministry|minister|office|department|"
                          r"agency|council|company|people|fans|community|officials|official|"
                          r"spokesperson|spokeswoman|spokesman|ambassador|president|secretary|"
                          r"police|charity|team|party|group|he|she|they|we|i)\b")
# A capitalised word inside a sentence: a name ("Lee", "Braverman", "Home Office").
_PROPER = re.compile(r"(?<=[a-z,;:] )[A-Z][a-z]+")
_PLACE_WORDS = re.compile(r"\b(?:here|there|in the region|overseas|abroad|at home|nationwide|"
                          r"street|road|city|town|country|countries|capital|region|"
                          r"in [A-Z][a-z]+)")


# A capitalised run after these is a place or a time, not somebody: "in March", "on Castle Road".
_NOT_AGENT_BEFORE = frozenset({"in", "on", "at", "from", "to", "near", "into", "across", "since",
                               "until", "by", "of"})
_MONTHS_DAYS = """january february march april may june july august september october
november december monday tuesday wednesday thursday friday saturday sunday"""
_CALENDAR = frozenset(_MONTHS_DAYS.split())


def _names_someone(sentence: str) -> bool:
    """Whether a sentence names a person or an organisation inside it ("Lee", "the CBC")."""
    tokens = sentence.split()
    for i in range(1, len(tokens)):
        word = tokens[i].strip(".,;:!?\"'“”‘’()")
        if not word[:1].isupper() or tokens[i - 1][:1].isupper():
            continue
        before = tokens[i - 1].strip(".,;:!?\"'“”‘’()").casefold()
        if before in _NOT_AGENT_BEFORE or word.casefold() in _CALENDAR:
            continue
        return True
    return False


@dataclass(frozen=True, slots=True)
class Shape:
    """What kinds of question a sentence can answer."""

    time: bool
    date: bool  # a date or a time, not only a condition
    duration: bool  # how long: "three-year tenure", "62nd year"
    compares: bool  # "more than", "unlike", "beyond": it compares
    future: bool  # a time yet to come or a condition
    number: bool
    agent: bool
    place: bool
    reason: bool
    ranks: frozenset[str]
    scopes: frozenset[str]

    def answers(self, kind: str | None) -> bool:
        if kind == WHEN:
            return self.time
        if kind == LONG:  # "how old" too: a duration, a date, or an age
            return self.duration or self.date or self.number
        if kind == RANK:
            return bool(self.ranks)
        if kind == DATE:
            return self.date
        if kind == COUNT:
            return self.number
        if kind == WHO:
            return self.agent
        if kind == WHERE:
            return self.place
        if kind == WHY:
            return self.reason
        return True


def shape_of(sentence: str, speaker: str | None, places: frozenset[str]) -> Shape:
    """Read a sentence's answer shape; ``places`` are the pack's place names, folded."""
    folded = fold(sentence)
    has_place = bool(_PLACE_WORDS.search(sentence)) or any(
        re.search(rf"\b{re.escape(p)}\b", folded) for p in places)
    return Shape(
        time=bool(_TIME.search(folded) or _CONDITION.search(folded)),
        date=bool(_TIME.search(folded)),
        duration=bool(_DURATION.search(folded)),
        compares=bool(re.search(r"\b(?:than|unlike|beyond|compared|more|less)\b", folded)),
        future=bool(_FUTURE.search(folded)),
        number=bool(_NUMBER.search(_DURATION.sub(" ", _DATES.sub(" ", folded)))),
        agent=speaker is not None or _names_someone(sentence) or bool(_AGENT_WORDS.search(folded)),
        place=has_place,
        reason=bool(_REASON.search(folded)),
        ranks=ranks_in(folded),
        scopes=scopes_in(folded))


# --- constraints a question sets ---------------------------------------------------

# A rank: an ordinal with a superlative ("third-largest"), or a bare superlative ("the
# largest", which means first). Written as ("3", "large"): ordinal and the stem it ranks.
_ORDINALS = {"first": "1", "1st": "1", "second": "2", "2nd": "2", "third": "3", "3rd": "3",
             "fourth": "4", "4th": "4", "fifth": "5", "5th": "5", "top": "1",
             "pertama": "1", "kedua": "2", "ketiga": "3", "keempat": "4", "kelima": "5",
             "첫": "1", "두": "2", "세": "3", "네": "4", "다섯": "5"}
_SUPERLATIVES = {"largest": "large", "biggest": "large", "greatest": "large",
                 "most": "most", "highest": "high", "lowest": "low", "smallest": "small",
                 "best": "good", "worst": "bad", "main": "main", "leading": "main",
                 "oldest": "old", "newest": "new", "latest": "new", "fastest": "fast",
                 "terbesar": "large", "tertinggi": "high", "terendah": "low",
                 "terbaik": "good", "utama": "main", "paling": "most", "teratas": "main",
                 "가장": "most", "최대": "large", "제일": "most", "최고": "good", "최초": "first"}
_RANK = re.compile(r"(?:(\d+)(?:st|nd|rd|th)?|([a-z]+)|([가-힣]+))[- ]?"
                   r"(largest|biggest|greatest|highest|lowest|smallest|best|worst|most|"
                   r"oldest|newest|latest|fastest)\b")
_KOREAN_RANK = re.compile(r"(\d+) ?위|(첫|두|세|네|다섯) ?번째")


_RANK_WORDS = frozenset(_SUPERLATIVES) | frozenset(_ORDINALS) | {
    "largest", "biggest", "greatest", "highest", "lowest", "smallest", "best", "worst", "most",
    "oldest", "newest", "latest", "fastest"}
_ORDINAL_DIGITS = re.compile(r"\d+(?:st|nd|rd|th)\b")
_RANK_HANGUL = ("위", "번째", "가장", "최대", "제일", "최고", "최초")


def ranks_in(folded: str, present: set[str] | None = None) -> frozenset[str]:
    """Ranks a text states: {"3"} for "third-largest", {"1"} for "the largest"."""
    if present is None:
        present = set(_TOKENS.split(folded.replace("-", " ")))
    if present.isdisjoint(_RANK_WORDS) and not _ORDINAL_DIGITS.search(folded) and (
            folded.isascii() or not any(h in folded for h in _RANK_HANGUL)):
        return frozenset()
    found: set[str] = set()
    for match in _RANK.finditer(folded):
        head = match.group(1) or match.group(2) or match.group(3) or ""
        ordinal = _ORDINALS.get(head) or (head if head.isdigit() else None)
        found.add(ordinal or "1")
    for match in _KOREAN_RANK.finditer(folded):
        found.add(match.group(1) or _ORDINALS.get(match.group(2), "1"))
    tokens = folded.split()
    for i, token in enumerate(tokens):
        word = token.strip(".,!?;:()\"'")
        if word in _SUPERLATIVES and not _RANK.search(word):
            before = tokens[i - 1].strip(".,!?;:()\"'") if i else ""
            numbered = _ORDINAL_DIGITS.match(before)
            if numbered is None or before.rstrip("stndrh") not in found:  # "13th largest"
                found.add(_ORDINALS.get(before, "1"))
        elif word in _ORDINALS and word not in ("top",) and i + 1 < len(tokens) \
                and tokens[i + 1].strip(".,!?") in ("place", "position", "spot", "biggest",
                                                      "largest", "tempat", "terbesar"):
            found.add(_ORDINALS[word])
    return frozenset(found)


# A scope: where a rank or a claim holds. Synonyms share one name.
_SCOPES = (
    ("world", re.compile(r"\b(?:in the world|world'?s|worldwide|globally|on earth|of all|"
                         r"di dunia|seluruh dunia|sedunia)\b|세계")),
    ("sea", re.compile(r"\b(?:south-?east asia|south east asia|asean|asia tenggara)\b|동남아")),
    ("asia", re.compile(r"\b(?:in asia|asia'?s|di asia)\b|아시아")),
    ("europe", re.compile(r"\b(?:europe|european|eropah)\b|유럽")),
)


_SCOPE_WORDS = frozenset({"world", "worlds", "worldwide", "global", "globally", "earth", "all",
                          "dunia", "sedunia", "asia", "asias", "asean", "europe", "european",
                          "eropah", "tenggara", "southeast"})
_SCOPE_HANGUL = ("세계", "동남아", "아시아", "유럽")


def scopes_in(folded: str, present: set[str] | None = None) -> frozenset[str]:
    if present is None:
        present = set(_TOKENS.split(folded))
    if present.isdisjoint(_SCOPE_WORDS) and (
            folded.isascii() or not any(h in folded for h in _SCOPE_HANGUL)):
        return frozenset()
    return frozenset(name for name, pattern in _SCOPES if pattern.search(folded))


class Demands(NamedTuple):  # one per message: a tuple is quicker to make than a dataclass
    """What a question asks of the sentence that answers it."""

    kind: str | None
    ranks: frozenset[str]
    scopes: frozenset[str]
    future: bool = False  # "when will…": a past date does not answer it
    yesno: bool = False  # "is it the largest?": "the third-largest" answers that, by saying no
    compares: bool = False  # "better than": a sentence that compares nothing cannot answer
    which: str | None = None  # "which superpowers": the thing asked for, by name


# "which companies", "which superpowers": named instances are asked for.
_WHICH = re.compile(r"\bwhich ((?:[a-z]+ ){0,2}[a-z]+s)\b(?! of)")
# A sentence names instances: a proper name, a list, a number.
_INSTANCES = re.compile(r"\bsuch as\b|\bincluding\b|\bamong others\b|\bnamely\b|:|\d")


_COMPARES = re.compile(r"\b(?:better|worse|bigger|smaller|cheaper|stronger|weaker) than\b|"
                       r"\blebih (?:baik|bagus|teruk)\b|보다 (?:더|나)")
_YESNO = re.compile(r"\s*(?:is|are|was|were|does|do|did|has|have|can|could|will|would|"
                    r"adakah|apakah benar|betul ke)\b")


def _plural(word: str) -> str | None:
    """The noun of "which superpowers", if plural: "which news" asks for no list."""
    return word if stem(word) != word and not word.endswith("ss") else None


def demands_of(text: str) -> Demands:
    folded = fold(text)
    tokens = [t for t in _TOKENS.split(folded) if t]
    kind = _kind(tokens, folded)
    present = set(tokens)
    which = _WHICH.search(folded) if kind is None and "which" in present else None
    parts = present if "-" not in folded else set(_TOKENS.split(folded.replace("-", " ")))
    hangul = not folded.isascii()
    return Demands(kind=kind, ranks=ranks_in(folded, parts), scopes=scopes_in(folded, present),
                   future=kind in (WHEN, DATE) and bool(_FUTURE_ASK.search(folded)),
                   which=_plural(which.group(1).split()[-1]) if which else None,
                   yesno=bool(_YESNO.match(folded)),
                   compares=("than" in present or "lebih" in present or hangul)
                   and bool(_COMPARES.search(folded)))


def names_instances(sentence: str, ignore: frozenset[str]) -> bool:
    """Whether a sentence names things: a list, a number, or a proper name other than
    ``ignore`` (the speakers and the pack's own places)."""
    if _INSTANCES.search(sentence):
        return True
    return any(m.group(0).casefold() not in ignore for m in _PROPER.finditer(sentence))


def unmet(demands: Demands, shape: Shape) -> str | None:
    """Why the sentence cannot answer the question, or None when it can."""
    if demands.kind is not None and demands.kind != WHY and not shape.answers(demands.kind):
        return f"asks {demands.kind}"
    if demands.future and not shape.future:
        return "asks when, yet to come"
    if demands.compares and not shape.compares:
        return "asks for a comparison"
    if demands.ranks and not demands.ranks <= shape.ranks and not (
            demands.yesno and shape.ranks and not demands.scopes - shape.scopes):
        return "another rank"
    if demands.scopes and shape.scopes and not demands.scopes & shape.scopes:
        return "another scope"
    if demands.scopes and not shape.scopes and demands.ranks:
        return "another scope"
    return None
