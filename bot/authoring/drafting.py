"""A draft pack from an article's sentences: topics, their commands, descriptions and keywords.

``suggest_topics``: paragraphs (a quotation counts as one) are cut into runs of related
text where neighbouring paragraphs share the fewest words, and each run gets a command
named after a noun that sets it apart (a thing, place, person or organisation, never a
verb, unit or adjective), a description that is a phrase from its text, and keywords,
speakers' names among them.
"""

from __future__ import annotations

import bisect
import dataclasses
import math
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from factbot import commands
from factbot.authoring.article import Header, read_header
from factbot.authoring.sentences import Sentence, _split
from factbot.authoring.speakers import (
    _NOT_NAMES,
    _PREPOSITIONS,
    _ROLE_WORDS,
    _RUN,
    _SPEECH_VERBS,
    NAME_TOKEN,
    _is_org,
    _is_role_word,
    _people,
    _speaker_phrase,
    _tokens,
    _wordset,
    speaker_roles,
)
from factbot.errors import ConfigError
from factbot.packs import COMMAND_RE, MAX_DESCRIPTION, MAX_FACTS, MAX_SPEAKERS
from factbot.text import stem, words
from factbot.vocab import STOPWORDS

# The most facts and speakers a draft holds: the pack loader's limits too. (A 1 MB article
# has some 10,000 sentences: its draft keeps the first 1,000.)
MAX_DRAFT_FACTS = MAX_FACTS
MAX_DRAFT_SPEAKERS = MAX_SPEAKERS

# --- topics ------------------------------------------------------------------------

FACTS_PER_TOPIC = 4  # a draft topic's size; a curator merges or splits from there
KEYWORDS_PER_TOPIC = 12
# Words that say nothing about what a topic is about.
_WEAK = set(_SPEECH_VERBS) | {
    "year", "years", "week", "weeks", "time", "first", "last", "one", "two", "three", "four",
    "five", "six", "seven", "eight", "nine", "ten", "new", "today", "day", "days", "month",
    "months", "per", "cent", "percent", "since", "still", "around", "next", "told", "make",
    "made", "would", "could", "every", "even", "well", "long", "used", "went", "came", "come",
    "including", "compared", "between", "against", "without", "think", "though", "although",
    "able", "already", "while", "after", "before", "among", "least", "saying", "him", "her",
    "going", "way", "ever", "never", "them", "our", "us", "we", "they", "its", "their",
    "however", "also", "may", "might", "must", "shall", "should", "yet", "thing", "things",
    "lot", "part", "number", "people", "ones", "other", "others", "another", "much", "many",
    "whether", "say", "tell", "add", "state", "stated", "provide", "provided", "dont"}
# Units, amounts and times: "/hour" or "/centimetres" names no subject.
_UNITS = _wordset("""
hour hours minute minutes second seconds day days week weeks month months year years decade
decades century centuries centimetre centimetres centimeter centimeters metre metres meter meters
millimetre millimetres kilometre kilometres kilometer kilometers mile miles foot feet inch inches
kg kilogram kilograms gram grams tonne tonnes ton tons litre litres liter liters per cent percent
dollar dollars pound pounds euro euros ringgit yen won rupee rupees million millions billion
billions thousand thousands hundred hundreds dozen dozens times morning afternoon evening night
tonight today yesterday tomorrow weekend am pm degree degrees unit units item items
""")
# Common adjectives and other words that qualify a noun without naming a thing.
_ADJECTIVES = _wordset("""
old new young big small large little long short high low good bad great best better worse worst
early late full free hard easy clear main major minor key top huge real whole same other own
last next first second third fourth fifth wrong right serious sensitive various possible likely
able certain local national international global public private political economic social
cultural regional official special general current former recent previous further strong weak
wide narrow fast slow quick average single double total extra positive negative particular
entire senior junior available open closed ready sure true false safe unsafe secure poor rich
simple complex direct modern ancient deep far near close mere potential existing strategic
mutual various rainy wet dry hot cold warm cool dark light heavy busy empty whole half only
north south east west northern southern eastern western
lowest highest biggest largest smallest fastest oldest newest latest greatest second-lowest
important significant different difficult likely unlikely undeniable
such less more most few several both each every all any some enough rather quite very
""")
_ADJ_SUFFIX = re.compile(r"(?:ous|ful|less|able|ible|ive|ical|ish|ic|al|ary|ian|ese)$")
_DETERMINERS = {"the", "a", "an", "this", "that", "these", "those", "its", "their", "his", "her",
                "our", "my", "your", "every", "each", "any", "some", "no", "many", "several",
                "few", "both", "all", "another", "such", "more", "most"}
_VERB_CUES = {"to", "will", "would", "can", "could", "should", "must", "may", "might",
              "shall", "cannot", "not", "never", "they", "we", "i", "you", "he", "she", "it",
              "did", "does", "do", "don't", "didn't", "won't", "who", "which"}


@dataclass
class TopicDraft:
    command: str
    description: str
    keywords: list[str]
    sentences: list[Sentence]
    lines: tuple[int, int]


@dataclass
class Draft:
    name: str
    header: Header
    speakers: dict[str, str | None]
    generic_terms: list[str]
    topics: list[TopicDraft]
    notes: list[str] = field(default_factory=list)


def _plain(text: str) -> str:
    """Backquotes as apostrophes ("don`t" is one word, not "don")."""
    return text.replace("`", "’")


@lru_cache(maxsize=65536)  # topics read each sentence's stems several times
def _content_stems(text: str) -> tuple[str, ...]:
    return tuple(stem(w) for w in words(_plain(text))
                 if w not in STOPWORDS and w not in _WEAK and not w.isdigit() and len(w) > 2)


def _units(sentences: Sequence[Sentence]) -> list[list[Sentence]]:
    """Paragraphs, with a quotation spanning paragraphs kept in one unit."""
    units: list[list[Sentence]] = []
    for s in sentences:
        if units and (units[-1][-1].paragraph == s.paragraph or (
                s.quotation is not None and units[-1][-1].quotation == s.quotation)):
            units[-1].append(s)
        else:
            units.append([s])
    return units


def _cosine(a: Counter[str], b: Counter[str]) -> float:
    dot = sum(v * b[k] for k, v in a.items() if k in b)
    na = math.sqrt(sum(v * v for v in a.values()))
    nb = math.sqrt(sum(v * v for v in b.values()))
    return dot / (na * nb) if na and nb else 0.0


_CUT_WINDOW = 64


def _cut_places(sizes: Sequence[int], k: int) -> list[list[int]]:
    """Where each of the k - 1 cuts between k runs may fall (with 0 and n at the ends),
    ``sizes`` being the facts before each unit. The nth cut lies within _CUT_WINDOW units
    of where equal runs would end: any unit in an article of up to 2 * _CUT_WINDOW units,
    a bounded number in a longer one, so that the work grows with the article's length,
    not with its square."""
    n = len(sizes) - 1
    ideal = sizes[-1] / k
    places: list[list[int]] = [[0]]
    for nth in range(1, k):
        target = bisect.bisect_left(sizes, nth * ideal)
        places.append(list(range(max(1, target - _CUT_WINDOW),
                                 min(n - 1, target + _CUT_WINDOW) + 1)))
    places.append([n])
    return places


def _segment(units: list[list[Sentence]], common: set[str]) -> list[list[list[Sentence]]]:
    """Cut the units into runs of about FACTS_PER_TOPIC facts, where neighbours share the
    fewest words (TextTiling-like), by dynamic programming over the cut points. Words in
    many paragraphs (``common``) join every pair, so they do not count here."""
    n = len(units)
    total = sum(len(u) for u in units)
    k = max(1, min(n, 12, round(total / FACTS_PER_TOPIC)))
    if k == 1:
        return [units]
    bags = [Counter(s for sent in u for s in _content_stems(sent.text) if s not in common)
            for u in units]
    cut_cost = [0.0] * (n + 1)  # cost of a cut before unit i
    for i in range(1, n):
        left = bags[max(0, i - 2)] + bags[i - 1]
        right = bags[i] + (bags[i + 1] if i + 1 < n else Counter())
        cut_cost[i] = _cosine(left, right)
        a, b = units[i - 1][-1], units[i][0]
        if a.speaker and a.speaker == b.speaker:
            cut_cost[i] += 0.3  # one person speaking on is usually one subject
    sizes = [0]
    for u in units:
        sizes.append(sizes[-1] + len(u))
    ideal = total / k

    def run_cost(i: int, j: int) -> float:
        return 0.15 * (sizes[j] - sizes[i] - ideal) ** 2 / ideal

    places = _cut_places(sizes, k)
    best: list[dict[int, float]] = [{0: 0.0}]
    back: list[dict[int, int]] = [{}]
    for parts in range(1, k + 1):
        layer: dict[int, float] = {}
        links: dict[int, int] = {}
        for j in places[parts]:
            for i, base in best[parts - 1].items():
                if i >= j:
                    continue
                cost = base + run_cost(i, j) + (cut_cost[i] if i else 0.0)
                if cost < layer.get(j, float("inf")):
                    layer[j], links[j] = cost, i
        best.append(layer)
        back.append(links)
    if n not in best[k]:  # no way through the windows: equal runs
        cuts = sorted({*(p[len(p) // 2] for p in places[1:-1]), n})
    else:
        cuts = []
        j = n
        for parts in range(k, 0, -1):
            cuts.append(j)
            j = back[parts][j]
        cuts.reverse()
    runs, prev = [], 0
    for cut in cuts:
        runs.append(units[prev:cut])
        prev = cut
    return [r for r in runs if r]


def _surfaces(sentences: Iterable[Sentence]) -> dict[str, Counter[str]]:
    forms: dict[str, Counter[str]] = defaultdict(Counter)
    seen: dict[str, list[tuple[str, str]]] = {}  # a token's stems and forms, worked out once
    for s in sentences:
        for token in re.findall(r"[\w’'\-]+", _plain(s.text)):
            if token not in seen:
                raw = re.sub(r"['’]s$", "", token).strip("-’'")
                seen[token] = [(stem(w), raw if raw.casefold().replace("-", "") == w else w)
                               for w in words(raw)]
            for st, form in seen[token]:
                forms[st][form] += 1
    return forms


def _pick_form(forms: Counter[str]) -> str:
    best = forms.most_common()
    # Lower case unless the word is always capitalised (a name).
    lower = [f for f, _ in best if not f[:1].isupper()]
    return lower[0] if lower else best[0][0]


@dataclass
class _WordUse:
    """How the article uses each word stem: as a noun, a verb or a name."""

    noun: Counter[str] = field(default_factory=Counter)
    verb: Counter[str] = field(default_factory=Counter)
    named: Counter[str] = field(default_factory=Counter)  # capitalised inside a sentence
    lower: Counter[str] = field(default_factory=Counter)  # written in lower case

    def proper(self, st: str) -> bool:
        return bool(self.named[st]) and not self.lower[st]

    def nounish(self, st: str, form: str) -> bool:
        """Whether a word can name a subject: a name, or a noun that is not a unit, an
        adjective or a verb ("/provide", "/old", "/hour" name nothing)."""
        low = form.casefold()
        if form in _NOT_NAMES or form.capitalize() in _NOT_NAMES:
            return False  # "March", "Friday", "However"
        if self.proper(st):
            return True
        if "-" in form or any(c.isdigit() for c in form) or len(low) <= 3 or low.endswith("ly") \
                or low in _WEAK or low in _UNITS or low in _ADJECTIVES or low in STOPWORDS \
                or low in _ROLE_WORDS:
            return False
        noun, verb = self.noun[st], self.verb[st]
        if _ADJ_SUFFIX.search(low) or low.endswith(("ed", "ing")):
            return noun >= 2 and noun > verb
        return noun >= 1 and noun > verb


def _word_use(sentences: Sequence[Sentence]) -> _WordUse:
    use = _WordUse()
    stems: dict[str, str] = {}  # a token's stem, worked out once per article
    for s in sentences:
        toks = re.findall(r"[A-Za-z][\w’'\-]*|\d[\d,.]*|[^\w\s]", _plain(s.text))
        for i, tok in enumerate(toks):
            if not tok[0].isalpha():
                continue
            if tok not in stems:
                stems[tok] = stem("".join(words(tok)))
            st = stems[tok]
            if not st:
                continue
            if tok[0].isupper():
                if i > 0 and toks[i - 1] not in ".!?“\"”:" and toks[i - 1][0].isalpha():
                    use.named[st] += 1
            else:
                use.lower[st] += 1
            prev = toks[i - 1].casefold() if i else ""
            if prev in _VERB_CUES:
                use.verb[st] += 1
                continue
            for j in range(i - 1, max(-1, i - 4), -1):
                t = toks[j].casefold()
                if t in _DETERMINERS or t[:1].isdigit() or re.search(r"['’]s$", t) \
                        or (j == i - 1 and t in _PREPOSITIONS and t not in ("to", "and", "or")):
                    use.noun[st] += 1
                    break
                if not t[:1].isalpha() or t in STOPWORDS or t in _VERB_CUES or not (
                        toks[j][:1].isupper() or "-" in t or t in _ADJECTIVES
                        or _ADJ_SUFFIX.search(t) or t.endswith(("ed", "ing"))):
                    break  # only adjectives and names stand between a determiner and its noun
    return use


def _noun_form(st: str, forms: Counter[str], use: _WordUse) -> str | None:
    """The most used form of a word that can name a topic ("importance", not
    "important"), or None."""
    for form, _ in forms.most_common():
        if use.nounish(st, form):
            return form.casefold() if not use.proper(st) else form
    return None


def _command_name(word: str, used: set[str]) -> str | None:
    ascii_word = unicodedata.normalize("NFKD", word).encode("ascii", "ignore").decode()
    name = re.sub(r"[^a-z0-9_]+", "_", ascii_word.casefold()).strip("_")[:32]
    if not name or not COMMAND_RE.match(name) or name in commands.names() or name in used:
        return None
    return name


def _names_alone(sentences: Sequence[Sentence]) -> frozenset[str]:
    """Capitalised words used on their own, not as part of a longer name ("Baird", but
    not "Julie" of "Julie Couillard"): read once, for every speaker's ``_surname``."""
    text = " ".join(s.text for s in sentences)
    return frozenset(run[0] for run in (_tokens(m.group(0)) for m in _RUN.finditer(text))
                     if len(run) == 1)


def _surname(name: str, alone: frozenset[str]) -> str:
    """The word the article calls a person by: "Baird", or "Lee" for "Lee Chi-beom"."""
    toks = name.split()
    used = [t for t in toks if t in alone]
    return used[0] if len(used) == 1 else toks[-1]


def _subject_stems(sentences: Sequence[Sentence], title: str | None, use: _WordUse,
                   forms: dict[str, Counter[str]]) -> list[str]:
    """What the article is about: the nouns of its title (or first sentence), most
    frequent first."""
    head = title or (sentences[0].text if sentences else "")
    # A word inside the name of an organisation or a title ("Harbour" of "Harbour Office",
    # "Harbour Secretary Ana Vale") is that name's, not the article's subject.
    def outside(text: str) -> str:
        return re.sub(rf"{NAME_TOKEN}(?:\s+{NAME_TOKEN})+", lambda m: " " if _is_org(
            m.group(0)) or any(_is_role_word(t) for t in m.group(0).split()) else m.group(0),
                      text)

    df = Counter(st for s in sentences for st in set(_content_stems(outside(s.text))))
    cands = {stem(w) for w in words(_plain(head)) if w not in STOPWORDS}
    cands = {st for st in cands if st in forms and use.nounish(st, _pick_form(forms[st]))}
    if title is None:
        # A first sentence names places and parties in passing ("The governments of South
        # Korea and Malaysia are in discussions ..."): its common nouns say what it is about.
        return sorted(cands, key=lambda st: (use.proper(st), -df[st], st))
    # On a tie a name wins ("Tern" over "robot"): members type the product, the place.
    return sorted(cands, key=lambda st: (-df[st], not use.proper(st), st))


def suggest_topics(sentences: Sequence[Sentence], taken: Iterable[str] = (),
                   title: str | None = None) -> tuple[list[TopicDraft], list[str]]:
    """Group sentences into topics; return them and the pack's generic terms (none: the
    article's own frequent words are what it is about, evidence for its topics)."""
    units = _units(sentences)
    unit_bags = [set(s for sent in u for s in _content_stems(sent.text)) for u in units]
    unit_df: Counter[str] = Counter(s for bag in unit_bags for s in bag)
    common = {s for s, n in unit_df.items() if n >= max(3, len(units) / 4)}
    runs = _segment(units, common)
    forms = _surfaces(sentences)
    use = _word_use(sentences)
    # How many of a run's sentences use a word: a name said twice in one sentence
    # ("... System and Intelligence System") is not twice the evidence.
    bags = [Counter(s for u in run for sent in u for s in set(_content_stems(sent.text)))
            for run in runs]
    df: Counter[str] = Counter(s for bag in bags for s in bag)
    flats = [[s for u in run for s in u] for run in runs]
    ranked_all = []
    for bag, flat in zip(bags, flats, strict=True):
        # A word a sentence opens with is what that sentence is about ("Deliveries begin
        # in September, starting with customers in ... Australia").
        opening = {st for s in flat for st in _content_stems(" ".join(
            _SCENE.sub("", s.text).split()[:3]))}
        ranked = sorted((s for s in bag if s in forms),
                        key=lambda s: (-(bag[s] + 0.5 * (s in opening))
                                       * math.log(1 + len(runs) / df[s]), -len(s), s))
        ranked_all.append(ranked)
    used = set(taken)
    commands: list[str | None] = [None] * len(runs)
    # The article's subject names the topic that speaks of it most: /document, /asylum.
    for st in _subject_stems(sentences, title, use, forms)[:1]:
        at = next((i for i, flat in enumerate(flats)
                   if any(st in _content_stems(s.text) for s in flat)), 0)
        name = _command_name(_pick_form(forms[st]), used) if bags[at][st] else None
        if name:
            commands[at] = name
            used.add(name)
    # A person who carries one topic names it: /baird, /dewar.
    dominant = [_dominant(flat) for flat in flats]
    alone = _names_alone(sentences)
    carried = Counter(d for d in dominant if d)
    by_speaker: set[str] = set()
    for i, who in enumerate(dominant):
        if commands[i] is None and who and carried[who] == 1:
            name = _command_name(_surname(who, alone), used)
            if name:
                commands[i] = name
                used.add(name)
                by_speaker.add(name)
    # First names name nobody on their own: "/ollie" for Ollie Brandt.
    people = {s.speaker for s in sentences if s.speaker} | set(_people(
        " ".join(s.text for s in sentences))[0])
    given = {t for p in people for t in p.split()[:-1]}
    topics: list[TopicDraft] = []
    for i, (flat, ranked) in enumerate(zip(flats, ranked_all, strict=True)):
        command = commands[i]
        for s in ranked:
            if command is not None:
                break
            form = _noun_form(s, forms[s], use)
            if form and form not in given:
                command = _command_name(form, used)
        if command is None:
            command = _command_name(f"topic_{i + 1}", used) or f"t{i + 1}"
        used.add(command)
        own = {stem(w) for w in words(command.replace("_", " "))}
        # Words in most topics tell them apart from nothing, unless this topic is named so.
        spread = [s for s in ranked if df[s] * 2 <= len(runs) or s in own or len(runs) < 3]
        spread.sort(key=lambda s: not use.nounish(s, _pick_form(forms[s])))
        # People ask "what did Baird say": the topic's speakers are among its keywords,
        # by surname and full name, rather than a first name on its own.
        voices = list(dict.fromkeys(s.speaker for s in flat if s.speaker))
        name_parts = {stem(w) for v in voices for w in words(v)}
        keywords = [_pick_form(forms[s]) for s in spread if s not in name_parts]
        keywords = keywords[:KEYWORDS_PER_TOPIC]
        for voice in voices:
            for name in (_surname(voice, alone), voice):
                if name.casefold() not in {k.casefold() for k in keywords}:
                    keywords.append(name)
        who = dominant[i]
        description = _description(flat, command, who, command in by_speaker)
        topics.append(TopicDraft(command, description, keywords, flat,
                                 (flat[0].line, flat[-1].line)))
    return topics, []


def _dominant(sentences: Sequence[Sentence]) -> str | None:
    """The person who says at least half of a topic's facts, if one does."""
    speakers = Counter(s.speaker for s in sentences if s.speaker)
    if not speakers:
        return None
    name, n = speakers.most_common(1)[0]
    return name if n * 2 >= len(sentences) else None


# Openers that set a scene rather than say what the sentence is about.
_SCENE = re.compile(r"^(?:According to [^,]{1,80}(?:, [A-Z][\w\-]*(?: [A-Z][\w\-]*)*)?,\s+|"
                    r"(?:However|But|And|Meanwhile|Currently|Also|Still|Yet|Instead|"
                    r"Elaborating further|In addition|Separately),\s+|"
                    r"(?:In|On|At|During|Throughout|After|Before|Since|Until|Last|With|"
                    r"To|For)\b[^,]{0,60},\s+)")
# Words a phrase cannot end on.
_DANGLING = _DETERMINERS | _PREPOSITIONS | {
    "the", "a", "an", "to", "and", "or", "but", "that", "which", "who", "is", "are", "was",
    "were", "be", "been", "has", "have", "had", "as", "so", "than", "not", "it", "will",
    "would", "can", "could", "should", "may", "might", "must", "very", "such", "also", "up",
    "out", "off", "if", "when", "while", "because", "i", "we", "you", "he", "she", "they",
    "after", "before", "since", "until", "during", "among", "its", "their", "his", "her"}
_JOINTS = {"after", "before", "when", "while", "because", "since", "until", "where", "which",
           "who", "that", "with", "as", "whose", "although", "though", "unless"}
_SUBORDINATE = re.compile(r"^(?:If|When|Although|Though|While|Unless|Because|As|Since|Whether)\b")
_CLAUSE_END = re.compile(r",\s|;\s|\s[—–]\s|:\s|\s\(|\s(?:which|who|whose|because|but|while|"
                         r"although|when|where|that|if|by)\s")
_REPORTED = re.compile(r"^(?P<subj>[^“”\"]{0,120}?)\s(?:said|says|told\s+(?:[A-Z][\w.]*\s+)"
                       r"{1,3}|stated|added|warned|argued|insisted|explained|noted)\s+"
                       r"(?:that\s+)?(?P<content>[a-zA-Z].*)$")


def _clause(text: str, limit: int = 80, capital: bool = True) -> str:
    """A phrase from a sentence: its main clause, without scene-setting, under ``limit``."""
    text = _SCENE.sub("", text.strip())
    text = text.strip(" “”\"")
    toks = text.split()
    for match in _CLAUSE_END.finditer(text):
        before = text[:match.start()]
        need = 4 if match.group(0).strip() in ",;—–:(" else 8
        if len(before.split()) >= need:
            text = before
            break
    else:
        text = " ".join(toks)
    truncated = len(text) > limit
    if truncated:
        text = text[:limit].rsplit(" ", 1)[0]
    # No dangling words or quotation marks at the end, nor an adjective cut from its noun.
    cut = text.split()
    if truncated:
        # Back to where a subordinate part began: "... minister after it became" -> "... minister".
        joints = [n for n, w in enumerate(cut) if n >= 5 and w in _JOINTS]
        if joints:
            cut = cut[:joints[-1]]
    while len(cut) > 3 and (cut[-1].casefold().strip(",;:") in _DANGLING or (
            truncated and cut[-1].casefold() in _ADJECTIVES)):
        cut.pop()
    text = " ".join(cut).rstrip(" ,;:.—–-")
    if text.count("\"") % 2 or text.count("“") > text.count("”"):
        text = text[:max(text.rfind("\""), text.rfind("“"))].rstrip(" ,;:")
    return text[:1].upper() + text[1:] if capital else text


def _description(flat: Sequence[Sentence], command: str, speaker: str | None,
                 named_for_speaker: bool = False) -> str:
    """A phrase saying what a topic is about, from its own text: the sentence that names
    its command, cut to its main clause; a speaker's topic says who speaks, and what."""
    own = {stem(w) for w in words(command.replace("_", " "))}
    narrative = [s for s in flat if s.quotation is None]
    quoted = [s for s in flat if s.quotation is not None and s.speaker == speaker]
    if named_for_speaker and speaker and quoted:
        return f"{speaker}: “{_clause(quoted[0].text, 70)}”"[:MAX_DESCRIPTION]

    def names(s: Sentence) -> bool:
        return bool(own & {stem(w) for w in words(_plain(s.text))})

    def position(s: Sentence) -> int:
        stems = [stem(w) for w in words(_plain(_SCENE.sub("", s.text)))]
        return next((n for n, st in enumerate(stems) if st in own), len(stems))

    candidates = [s for s in narrative if names(s) and not _SUBORDINATE.match(s.text)] \
        or [s for s in flat if names(s)]
    order = {id(s): n for n, s in enumerate(flat)}
    key = min(candidates, key=lambda s: position(s) + 3 * order[id(s)]) if candidates \
        else (narrative or list(flat))[0]
    if key.speaker and (speaker is None or key.speaker == speaker):
        reported = _REPORTED.match(key.text)
        if key.quotation is not None:
            text = f"{key.speaker}: “{_clause(key.text, 70)}”"
        elif reported and _speaker_phrase(reported.group("subj") + " said"):
            text = f"{key.speaker}: {_clause(reported.group('content'), 70, capital=False)}"
        else:
            at = key.text.find(key.speaker)
            text = _clause(key.text[at:] if at > 0 else key.text)
    else:
        text = _clause(key.text)
    return text[:MAX_DESCRIPTION] if text else command


def draft(article: str, name: str, taken: Iterable[str] = ()) -> Draft:
    """Everything ``facts new`` writes, before it becomes YAML."""
    header = read_header(article)
    sentences, notes = _split(article)
    if not sentences:
        raise ConfigError("the article has no sentences to quote")
    sentences, more = _within_limits(sentences)
    topics, generic = suggest_topics(sentences, taken, header.title)
    names = list(dict.fromkeys(s.speaker for s in sentences if s.speaker))
    speakers = speaker_roles(article, names)
    return Draft(name, header, speakers, generic, topics, [*notes, *more])


def _within_limits(sentences: list[Sentence]) -> tuple[list[Sentence], list[str]]:
    """The first MAX_DRAFT_FACTS sentences, credited to at most MAX_DRAFT_SPEAKERS people
    (the first to speak; a later one's facts keep no speaker rather than a wrong one), and
    notes saying what was left out."""
    notes = []
    if len(sentences) > MAX_DRAFT_FACTS:
        rest = sentences[MAX_DRAFT_FACTS:]
        notes.append(f"left out: article lines {rest[0].line}-{rest[-1].line} ({len(rest):,} "
                     f"sentences): a pack holds at most {MAX_DRAFT_FACTS:,} facts; draft "
                     f"them from a shorter article")
        sentences = sentences[:MAX_DRAFT_FACTS]
    names = list(dict.fromkeys(s.speaker for s in sentences if s.speaker))
    if len(names) > MAX_DRAFT_SPEAKERS:
        kept = set(names[:MAX_DRAFT_SPEAKERS])
        dropped = sum(1 for s in sentences if s.speaker and s.speaker not in kept)
        notes.append(f"left out: the speaker of {dropped:,} facts ({len(names) - len(kept):,} "
                     f"people): a pack lists at most {MAX_DRAFT_SPEAKERS} speakers")
        sentences = [s if s.speaker in kept or not s.speaker else
                     dataclasses.replace(s, speaker=None) for s in sentences]
    return sentences, notes
