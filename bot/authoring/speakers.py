"""People in an article: names, titles and roles, and the clauses that say who speaks.

Titles are not names: "Agency Administrator Ana Ruiz" is Ana Ruiz, her role "Agency
Administrator". A speaker is read only from what the article says: an attribution
("said Lee", "Lee told Bernama", "according to Lee", "Lee's statement added", "Lee
issued a statement") or a lead-in ("Lee told GB News:", "In a statement, Lee said:");
``sentences`` decides which quotation each of them attributes.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from functools import lru_cache

from factbot.authoring.article import _WEEKDAY
from factbot.text import words
from factbot.vocab import FOREIGN_PLACES, STOPWORDS

# --- names and titles ------------------------------------------------------------------

def _wordset(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Possessive and anchored at a word's start: a run of capitals is read once, not retried
# from each letter (a hostile 1 MB article of capitals).
NAME_TOKEN = r"(?<!\w)[A-Z][\w\-]*+(?:['’][A-Za-z]++)?"
_NAME = rf"{NAME_TOKEN}(?:\s+(?:(?:de|van|der|von|bin|binti|al)\s+)?{NAME_TOKEN}){{0,5}}"
_RUN = re.compile(rf"(?<![\w’'\-]){_NAME}")
_PRONOUNS = {"he", "she", "they"}
# Words that make a phrase a role, in front of a name ("Environment Minister John Baird",
# "port manager Linh Tran") or in apposition ("Paul Dewar, an Ottawa New Democrat MP").
_ROLE_WORDS = _wordset("""
minister secretary administrator governor president premier chancellor director executive chief
head chair chairman chairwoman chairperson manager officer official ambassador envoy mayor
senator congressman congresswoman representative commissioner councillor councilor mp mep msp
mla leader founder co-founder cofounder coach captain analyst economist professor lecturer
researcher scientist lawyer attorney solicitor barrister adviser advisor inspector
superintendent constable sergeant detective colonel commander admiral lieutenant editor
reporter correspondent historian spokesperson spokeswoman spokesman deputy assistant treasurer
secretary-general attorney-general ceo cfo cto coo boss supervisor organiser organizer
coordinator principal curator trustee archbishop sheriff prosecutor vice-president
president-elect goalkeeper striker midfielder defender centre-back
substitute winger skipper chef author campaigner activist member resident student teacher nurse
doctor engineer pilot worker owner partner spokespeople
""")
# Words in front of a name that are courtesy, not a role and not the name.
_HONORIFICS = {"mr", "mrs", "ms", "miss", "mx", "dr", "sir", "dame", "lord", "lady", "baroness",
               "baron", "rev", "prof"}
_ORG_WORDS = {"robotics", "logistics", "fc", "united", "rovers", "city", "sport", "sports",
              "wire", "group", "inc", "ltd", "bank", "ministry", "government", "club", "company",
              "corp", "corporation", "holdings", "fund", "airlines", "university", "council",
              "association", "news", "times", "post", "press", "agency", "board", "athletic",
              "albion", "school", "institute", "foundation", "party", "league", "division",
              "office", "department", "authority", "commission", "service", "services",
              "police", "court", "parliament", "senate", "congress", "committee", "campaign",
              "charity", "trust", "network", "coalition", "alliance", "federation", "union",
              "guard", "navy", "army", "force", "organisation", "organization", "centre",
              "center", "hospital", "museum", "library", "channel", "radio", "television",
              "tv", "international", "national", "nations", "road", "street", "avenue", "park",
              "square", "station", "airport", "river", "lake", "sound", "island", "bay", "hall",
              "house", "stadium", "ground", "lane", "system", "database", "act", "bill"}
# Capitalised words that start sentences but name nobody.
_NOT_NAMES = {"The", "A", "An", "This", "That", "These", "Those", "It", "Its", "In", "On", "At",
              "With", "From", "For", "After", "Before", "When", "While", "Throughout", "To",
              "January", "February", "March", "April", "May", "June", "July", "August",
              "September", "October", "November", "December", "Monday", "Tuesday", "Wednesday",
              "Thursday", "Friday", "Saturday", "Sunday", "Founded", "Currently", "But", "And",
              "However", "Meanwhile", "According", "If", "As", "Asked", "Speaking", "His", "Her",
              "Their", "Our", "We", "They", "He", "She", "I", "Elaborating", "Source"}
_PREPOSITIONS = {"of", "for", "to", "from", "with", "by", "at", "in", "on", "about", "against",
                 "and", "or", "&", "between", "than", "like", "under", "over", "into"}


def _tokens(run: str) -> list[str]:
    return re.sub(r"['’]s\b", "", run).split()


def _is_role_word(token: str) -> bool:
    return token.casefold().strip(".,") in _ROLE_WORDS


@lru_cache(maxsize=65536)  # the same names come back in every paragraph
def _strip_titles(run: str) -> str | None:
    """The name in a capitalised run: "Environment Minister John Baird" -> "John Baird",
    "Ms Braverman" -> "Braverman". A run that is only a title ("The Home Secretary") comes
    back as the title, for ``_Resolver`` to look up."""
    raw = run.split()
    owners = [i for i, t in enumerate(raw[:-1]) if re.search(r"['’]s$", t)]
    toks = _tokens(" ".join(raw[owners[-1] + 1:] if owners else raw))  # "Labour's Yvette Cooper"
    while toks and (toks[0] in _NOT_NAMES or toks[0].casefold().rstrip(".") in _HONORIFICS):
        toks.pop(0)
    titles = [i for i, t in enumerate(toks[:-1]) if _is_role_word(t)]
    if titles:
        toks = toks[titles[-1] + 1:]
    while toks and toks[0].casefold().rstrip(".") in _HONORIFICS:
        toks.pop(0)
    return " ".join(toks) or None


def _is_title(name: str) -> bool:
    """Whether a capitalised run is a title with no name: "Home Secretary", "Governor"."""
    return _is_role_word(name.split()[-1])


def _is_org(name: str) -> bool:
    toks = name.split()
    if name.casefold() in FOREIGN_PLACES:
        return True
    return any(t.casefold() in _ORG_WORDS or t.casefold() in FOREIGN_PLACES
               or (len(t) >= 2 and t.isupper()) for t in toks)


def _trailing_person(part: str) -> str | None:
    """The person a clause ends with ("... spokesperson Julie Hahn"), or None when it ends
    with a common noun ("the club"), an object ("a spokesperson for Rishi Sunak") or a list."""
    found = re.search(rf"(?<![\w’'\-])(?P<run>{_NAME})$", part.strip())
    if found is None:
        return None
    toks = _tokens(found.group("run"))
    before = part.strip()[:found.start()].split()
    prev = before[-1].casefold() if before else ""
    if prev in ("of", "for") and len(before) >= 2 and _is_role_word(before[-2]):
        # "Governor of Ohio Jane Miller": the place runs into the name; the name is the end.
        return " ".join(toks[-2:]) if len(toks) >= 3 else None
    if prev in _PREPOSITIONS:
        return None
    return _strip_titles(found.group("run"))


def _leading_person(part: str) -> str | None:
    """The person a phrase starts with or is: "Enver Solomon, chief executive of ..."."""
    found = re.match(rf"(?P<run>{_NAME})$", part.strip())
    if found is None:
        return None
    return _strip_titles(found.group("run"))


# --- speech ----------------------------------------------------------------------------

_SPEECH_VERBS = ("said", "says", "added", "adds", "told", "tells", "stated", "states",
                 "continued", "continues", "highlighted", "stressed", "noted", "explained",
                 "insisted", "admitted", "expressed", "warned", "asked", "recalled", "wrote",
                 "writes", "argued", "claimed", "commented", "replied", "responded",
                 "announced", "acknowledged", "confirmed", "declared", "urged", "tweeted",
                 "remarked", "reiterated", "emphasised", "emphasized", "conceded", "cautioned",
                 "posted")
# "issued a statement", "released a brief statement", "put out a statement"
_STATEMENT = (r"(?:issued|released|published|put\s+out|gave|made)\s+(?:a|an|the|her|his|their|its)"
              r"\s+(?:[\w\-]+\s+){0,2}?statement")
_SPEECH = rf"(?:{_STATEMENT}|went\s+on|{'|'.join(_SPEECH_VERBS)})"
# Participles speak too, but their subject is another clause's: "with Osborne saying that",
# "…,” later adding: “…”", "Duffy, speaking to reporters, …".
_PARTICIPLES = ("saying", "adding", "telling", "stating", "noting", "explaining", "arguing",
                "warning", "insisting", "claiming", "writing", "speaking", "asking", "replying",
                "responding", "stressing", "urging", "commenting")
_SPEECH_OR_PARTICIPLE = rf"(?:{_SPEECH}|{'|'.join(_PARTICIPLES)})"
_VERB = re.compile(rf"(?<![\w’'\-]){_SPEECH_OR_PARTICIPLE}(?![\w’'\-])")
# Before a verb these make it passive or subordinate: "was told", "when asked".
_NOT_SPEAKING = {"was", "were", "been", "being", "be", "is", "are", "when", "if", "as", "who",
                 "which", "that", "not"}
_ACCORDING = re.compile(r"\b[Aa]ccording\s+to\s+(?P<np>[^.;:“”\"()]+)")
_STATEMENT_OF = re.compile(rf"(?P<who>{_NAME})['’]s?\s+(?:[\w\-]+\s+)?statement\s+(?:said|says|"
                           r"added|adds|read|reads|continued|continues|stated|states|went\s+on)\b")
_INVERTED = re.compile(rf"^(?:{_SPEECH})\s+(?P<np>.+)$", re.S)
# Words that end a subject without being part of it: "Ruiz has", "Lee also",
# "Okafor on Monday evening", "Cooper in a statement".
_ADVERBIAL_END = re.compile(
    r"(?:^|,?\s+)(?:has|have|had|also|later|then|further|previously|again|earlier|once|today|"
    r"yesterday|tonight|recently|meanwhile|however|too|though|instead|in\s+turn|"
    rf"(?:on|last|this|late|early)\s+{_WEEKDAY}(?:\s+(?:morning|afternoon|evening|night))?|"
    r"in\s+(?:a|an|the|her|his|their|its)\s+(?:[\w\-]+\s+)?(?:statement|interview|letter|post|"
    r"tweet|video|speech|report)|"
    r"at\s+(?:a|the)\s+(?:[\w\-]+\s+)?(?:briefing|conference|meeting|rally|hearing|event))"
    r"\s*,?$")
# Words an attribution may hold besides the speaker, the verb and proper names:
# "told reporters on Tuesday", "said in a statement", "told the BBC in an interview".
_ATTRIBUTION_FILLER = {"statement", "interview", "reporters", "journalists", "press",
                       "conference", "briefing", "morning", "afternoon", "evening", "night",
                       "earlier", "later", "saying", "elaborating", "speaking", "asked",
                       "separately", "meanwhile", "written", "emailed", "brief", "short",
                       "issued", "released", "published", "put", "gave", "made", "read", "went",
                       "according", "yesterday", "tonight", "week", "separate"}


def _verbs(text: str) -> Iterator[re.Match[str]]:
    """The speech verbs of a clause that have a speaker ("was told" has none)."""
    for verb in _VERB.finditer(text):
        before = text[max(0, verb.start() - 40):verb.start()].split()
        if before and before[-1].casefold().strip(",") in _NOT_SPEAKING:
            continue
        yield verb


def _first_verb(text: str) -> re.Match[str] | None:
    return next(_verbs(text), None)


# A clause before the main one: "When an aide asked what Duffy had said, Brown responded".
_SUBORDINATE_LEAD = re.compile(r"^(?:When|While|After|Before|As|Once|If|Although|Though|"
                               r"Since|Because|Until|Unless)\b[^,;:“”\"]*,\s+")
# "with Shadow chancellor George Osborne saying that …": the participle's own subject.
_WITH_PARTICIPLE = re.compile(rf"\bwith\s+(?P<np>[^,;:“”\"]{{1,80}}?)\s+"
                              rf"(?:{'|'.join(_PARTICIPLES)})\b")


def _np_person(np: str) -> str | None:
    """Who a noun phrase after "said" or "according to" names."""
    np, prev = np.strip(" ,.;:"), None
    while prev != np:  # "said Tom Holt on Monday", "said Ruiz in a statement"
        prev, np = np, _ADVERBIAL_END.sub("", np).strip(" ,.;:")
    parts = [p.strip() for p in re.split(r",\s*", np) if p.strip()]
    if not parts:
        return None
    first = _leading_person(parts[0])
    if first:
        return first
    if len(parts) >= 2:
        second = _leading_person(parts[1])
        if second:
            return second  # "the chief executive of the Refugee Council, Enver Solomon"
    return _trailing_person(parts[0])


def _subject(before: str) -> str | None:
    """The speaker a clause names before its verb: "Ana Ruiz", "Haddad, who signed ...,",
    "The chief executive of X, Enver Solomon,", "In a statement, Ruiz", "he"."""
    text, prev = before.rstrip(), None
    while prev != text:
        prev, text = text, _ADVERBIAL_END.sub("", text).rstrip()
    appositive = text.endswith(",")
    parts = [p.strip() for p in re.split(r",\s+", text.rstrip(" ,")) if p.strip()]
    if not parts:
        return None
    if re.search(r"(?:^|\s)(?:and|but)$", text):
        # "Duffy, speaking to reporters, described Brown as …, but later said": one
        # subject for both verbs, the name the clause opens with.
        opening = _RUN.match(text)
        return _strip_titles(opening.group(0)) if opening else None
    last = parts[-1]
    if last.casefold() in _PRONOUNS:
        return last.casefold()
    if appositive and len(parts) >= 2:
        whole = _leading_person(last)
        if whole:
            return whole
        for part in reversed(parts[:-1]):
            whole = _leading_person(part)
            if whole:
                return whole  # "Mei Chen, Larkspur's co-founder and chief executive,"
        return _trailing_person(parts[0])
    return _trailing_person(last)


def _speaks(text: str) -> bool:
    """Whether a clause is speech at all (said, told, according to, a statement ...)."""
    return bool(_first_verb(text) or _ACCORDING.search(text) or _STATEMENT_OF.search(text))


def _speaker_phrase(text: str) -> str | None:
    """The surface name (or pronoun) of whoever speaks in a clause or sentence, or None."""
    text = text.strip(" \n,;:—–-")
    head = _INVERTED.match(text)
    if head:
        return _np_person(head.group("np"))  # ", said Haddad", "added Lee"
    lead = _SUBORDINATE_LEAD.match(text)
    if lead and _first_verb(text[lead.end():]):
        text = text[lead.end():]
    with_participle = _WITH_PARTICIPLE.search(text)
    if with_participle:
        who = _trailing_person(with_participle.group("np"))
        if who:
            return who
    statement = _STATEMENT_OF.search(text)
    verb = _first_verb(text)
    according = _ACCORDING.search(text)
    if statement and (verb is None or statement.start() <= verb.start()):
        return _strip_titles(statement.group("who"))  # "Ruiz's statement added"
    if according and (verb is None or according.start() < verb.start()):
        return _np_person(according.group("np"))
    for verb in _verbs(text):
        if verb.start() > 240:
            break
        participle = verb.group(0) in _PARTICIPLES
        if not participle and text[:verb.start()].rstrip().endswith(","):
            # "The plan would work, said Environment Minister Ian Holt."
            inverted = _np_person(text[verb.end():])
            if inverted:
                return inverted
        subject = _subject(text[:verb.start()])
        if subject or not participle:
            return subject
        # "Speaking to reporters, Lee said": the participle's subject comes later.
    return None


def _participle_only(text: str) -> bool:
    """Whether a clause speaks only through a participle with no subject of its own:
    "later adding", "saying"."""
    verbs = list(_verbs(text))
    return bool(verbs) and all(v.group(0) in _PARTICIPLES for v in verbs) \
        and _speaker_phrase(text) is None


def _attribution_only(text: str) -> bool:
    """Whether a clause only says who speaks ("Culture Secretary Maya Linton told GB News",
    "In a statement, Ruiz said"), with nothing of its own worth quoting."""
    leftover = 0
    for raw in re.findall(r"[\w’'\-]+", text):
        w = raw.casefold()
        if raw[:1].isupper() or w in STOPWORDS or w in _ATTRIBUTION_FILLER \
                or w in _SPEECH_VERBS or w in _PARTICIPLES or w in _PRONOUNS \
                or _is_role_word(w) or w.isdigit():
            continue
        leftover += 1
    return leftover <= 1


# Words an attribution may hold without saying anything more than who speaks.
_BARE_ATTRIBUTION = _ATTRIBUTION_FILLER | {
    "him", "her", "them", "me", "us", "later", "also", "then", "again", "further", "once",
    "simply", "just", "quietly", "firmly", "monday", "tuesday", "wednesday", "thursday",
    "friday", "saturday", "sunday"}


def _describes_someone(text: str) -> bool:
    """Whether an attribution naming nobody says who speaks ("a spokesman for Brown said",
    "said one passenger"), rather than only that someone does ("later adding")."""
    return any(w not in STOPWORDS and w not in _BARE_ATTRIBUTION and w not in _SPEECH_VERBS
               and w not in _PARTICIPLES and w not in _PRONOUNS and not w.isdigit()
               for w in (raw.casefold() for raw in re.findall(r"[\w’'\-]+", text)))


def _says_more(text: str, outlet: frozenset[str] = frozenset()) -> bool:
    """Whether an attribution after a quotation says more than who speaks: an occasion,
    an outlet other than the article's, an act ("…,” she said in an interview with the
    BBC", "…,” she said, but refused …"), not only "Baird said", "said one passenger" or
    "said Margaret Doyle, the club historian"."""
    verb = _first_verb(text)
    if verb is None:
        return not _attribution_only(text)
    rest = text[verb.end():]
    if not words(text[:verb.start()]):
        # "said Mei Chen, Larkspur's co-founder": the speaker and their role follow the verb.
        more = re.search(r",?\s+(?:but|and|who|which|whose|in|at|on|during|after|before|"
                         r"while|as|when|with|adding|saying)\s", rest)
        rest = rest[more.start():] if more else ""
    for raw in re.findall(r"[\w’'\-]+", rest):
        w = raw.casefold()
        if w in outlet or w in STOPWORDS or w in _BARE_ATTRIBUTION or w in _SPEECH_VERBS \
                or w in _PARTICIPLES or w in _PRONOUNS or w in _HONORIFICS or _is_role_word(w):
            continue
        return True
    return False


# --- who speaks -------------------------------------------------------------------------


def _people(article: str) -> tuple[Counter[str], set[str]]:
    """Full names of the people the article mentions (titles left out), with how often,
    and the words of organisations' names."""
    flat = re.sub(r"\s+", " ", article)
    people: Counter[str] = Counter()
    org_words: set[str] = set()
    for match in _RUN.finditer(flat):
        run = match.group(0)
        before = flat[max(0, match.start() - 80):match.start()].split()[-2:]
        if len(before) == 2 and before[1] in ("of", "for") and _is_role_word(before[0]):
            toks = _tokens(run)  # "Governor of Ohio Jane Miller"
            run = " ".join(toks[-2:]) if len(toks) >= 3 else ""
        name = _strip_titles(run)
        if not name or _is_title(name):
            continue
        if _is_org(name):
            org_words.update(t for t in name.split() if t.casefold() not in _ORG_WORDS)
        elif len(name.split()) >= 2:
            people[name] += 1
    return people, org_words


# Words that say whether a person is a man or a woman, in front of their name.
_SEX_WORDS = {"mr": "m", "sir": "m", "lord": "m", "spokesman": "m", "chairman": "m",
              "congressman": "m", "businessman": "m", "mrs": "f", "ms": "f", "miss": "f",
              "dame": "f", "lady": "f", "baroness": "f", "spokeswoman": "f", "chairwoman": "f",
              "congresswoman": "f", "businesswoman": "f"}


_SEX_NAME = re.compile(rf"\b((?i:{'|'.join(_SEX_WORDS)}))\.?\s+"
                       r"((?:[A-Z][\w\-]*\s+)?[A-Z][\w\-]*)\b")


class _Resolver:
    """Surface names to full names: "Baird" -> "John Baird"; organisations -> None."""

    def __init__(self, article: str, strong: set[str]) -> None:
        self.people, self.org_words = _people(article)
        self.lower = {w.casefold() for w in re.findall(r"(?<![.!?]\s)\b[a-z][\w\-]*", article)}
        self.strong = strong  # single names the article attributes a quotation to
        self.flat = re.sub(r"\s+", " ", article)
        # Both read in one pass over the article, whatever the number of people in it.
        self._titles: dict[str, set[str]] = defaultdict(set)
        for match in _RUN.finditer(self.flat):
            name = _strip_titles(match.group(0))
            at = match.group(0).find(name) if name else -1
            if name and at >= 0:
                start = match.start() + at
                title = _title_before(self.flat[max(0, start - 200):start])
                if title:
                    self._titles[name].add(title.casefold())
        self._said_sex: dict[str, set[str]] = defaultdict(set)
        for match in _SEX_NAME.finditer(self.flat):
            toks = match.group(2).split()
            for key in (toks[-1], " ".join(toks)):
                self._said_sex[key].add(_SEX_WORDS[match.group(1).casefold()])

    def titles(self, person: str) -> set[str]:
        """The titles the article puts in front of a person's name, folded."""
        return self._titles.get(person, set())

    def sex(self, person: str) -> str | None:
        """"m" or "f" when the article says so ("Mr Brown", "Mrs Duffy", "spokeswoman
        Sujata Raisinghani"), else None (also when it says both)."""
        said = self._said_sex.get(person, set()) | self._said_sex.get(person.split()[-1], set())
        said |= {_SEX_WORDS[w] for t in self.titles(person) for w in t.split()
                 if w in _SEX_WORDS}
        return next(iter(said)) if len(said) == 1 else None

    def __call__(self, surface: str | None) -> str | None:
        if not surface or surface.casefold() in _PRONOUNS:
            return None
        name = _strip_titles(surface)
        if name and _is_title(name):
            # "The Home Secretary added": the one person the article gives that title.
            titled = {p for p in self.people if name.casefold() in self.titles(p)}
            return titled.pop() if len(titled) == 1 else None
        if not name or _is_org(name):
            return None
        toks = name.split()
        if len(toks) >= 2:
            return name
        if toks[0] in self.org_words:
            return None  # "Larkspur" of "Larkspur Robotics" is a company
        # "Lee" is "Lee Chi-beom", "Chen" is "Mei Chen": the longer name that holds it.
        holders = [p for p in self.people if toks[0] in p.split()]
        if holders:
            return max(holders, key=lambda p: (self.people[p], -len(p)))
        if surface in self.strong and name not in _NOT_NAMES and name.casefold() not in self.lower:
            return name
        return None


def _maybe_person(run: str) -> str | None:
    """A name that may be a person's though the resolver reads it as a place or a firm
    ("Dev Lane", "Ann Hall"): one more candidate for "he said" makes it nobody's, which
    is safer than making it the wrong person's."""
    name = _strip_titles(run) or ""
    toks = name.split()
    if not 2 <= len(toks) <= 3 or not all(t.isalpha() and t.istitle() for t in toks):
        return None
    folded = [t.casefold() for t in toks]
    if toks[0] in _NOT_NAMES or name.casefold() in FOREIGN_PLACES \
            or any(t in FOREIGN_PLACES for t in folded) \
            or any(t in _ORG_WORDS for t in folded[:-1]) \
            or (folded[-1] in _ORG_WORDS and (len(toks) > 2 or folded[-1] not in _SURNAMES)):
        return None  # "Environment Canada", "Sky News", "Korean Cultural Centre"
    return name


# Words of firms and places that are also surnames: "Dev Lane", "Ann Hall".
_SURNAMES = {"hall", "park", "lane", "street", "house", "bay", "lake", "rivers", "bank",
             "court", "sound", "ground", "square", "league"}


# --- speakers' roles -------------------------------------------------------------


def _role_ok(role: str) -> bool:
    return any(_is_role_word(t) for t in re.split(r"[\s’']+", role)) \
        and len(role.split()) <= 12


# A role after the name: "Mei Chen, Larkspur's co-founder and chief executive."
_ROLE_AFTER = re.compile(r", (?P<role>[^,.;“”\"]{3,80}?)[,.;]")
# A role before it: "South Korea’s ambassador to Malaysia, Lee Chi-beom said", "The chief
# executive of the Refugee Council, Enver Solomon, said" (at the start of a window of text).
_ROLE_BEFORE = re.compile(r"(?:[.!?”\"]\s|, |\bsaid |\bto )(?P<role>[^,.;:“”\"]{2,80}), $")
_ROLE_BEFORE_AT_START = re.compile(r"(?:^|[.!?”\"]\s|, |\bsaid |\bto )"
                                   r"(?P<role>[^,.;:“”\"]{2,80}), $")


def speaker_role(article: str, name: str) -> str | None:
    """The role the article gives a speaker, cut verbatim from it, or None. The first
    mention with a role wins."""
    return speaker_roles(article, [name])[name]


def speaker_roles(article: str, names: Iterable[str]) -> dict[str, str | None]:
    """``speaker_role`` for each of ``names``, reading the article once for all of them:
    each mention is looked at within a few words around it."""
    flat = re.sub(r"\s+", " ", article)
    found_for: dict[str, list[tuple[int, str]]] = {name: [] for name in names}
    wanted = sorted(found_for, key=len, reverse=True)  # "Lee Chi-beom" before "Lee"
    mentions = re.finditer(rf"\b(?:{'|'.join(re.escape(n) for n in wanted)})\b", flat) \
        if wanted else iter(())
    for mention in mentions:
        found = found_for[mention.group(0)]
        at = mention.start()
        after = _ROLE_AFTER.match(flat, mention.end())
        if after:
            role = after.group("role").strip()
            first = role.split()[0] if role else ""
            if role and first not in ("who", "which", "whose", "said", "told", "says",
                                      "aged") and not role.isdigit() and (
                    first[0].islower() or "'s " in role or "’s " in role
                    or _role_ok(role)):
                found.append((at, role))
        window = max(0, at - 100)
        before = (_ROLE_BEFORE_AT_START if window == 0 else _ROLE_BEFORE).search(
            flat[window:at])
        if before:
            role = re.sub(rf"^(?:[Aa]ccording\s+to\s+|(?:{_SPEECH})\s+)?(?:[Tt]he|[Aa]n?)\s+",
                          "", before.group("role").strip())
            if role and _role_ok(role) and any(w[0].islower() for w in role.split()):
                found.append((window + before.start("role"), role))
        # "Environment Minister John Baird", "Governor of Ohio Jane Miller",
        # "Harbourside manager Elena Marsh", "according to port manager Linh Tran"
        title = _title_before(flat[max(0, at - 200):at])
        if title:
            found.append((at - len(title), title))
    return {name: min(found)[1] if found else None for name, found in found_for.items()}


def _title_before(text: str) -> str | None:
    """The role words right in front of a name, verbatim, or None."""
    toks = re.findall(r"\S+", text[-120:])
    taken: list[str] = []
    for tok in reversed(toks):
        bare = tok.strip()
        if re.search(r"[,.;:!?”“\"()]$", bare) or re.match(r"^[“\"(]", bare) \
                or not re.search(r"\w", bare) or any(c.isdigit() for c in bare):
            break  # "2010 UK Prime Minister": the date line ends before the title
        low = bare.casefold()
        if low in ("of", "for") and taken and taken[-1][:1].isupper():
            taken.append(bare)  # "Governor of Ohio", "Minister for Housing"
            continue
        if low in STOPWORDS or low in _SPEECH_VERBS:
            break
        taken.append(bare)
    taken.reverse()
    # Leading words that describe the action, not the person: "sending goalkeeper X".
    while taken and not taken[0][:1].isupper() and not _is_role_word(taken[0]) \
            and (taken[0].endswith(("ing", "ed")) or len(taken) == 1):
        taken.pop(0)
    while taken and taken[0].casefold() in ("of", "for"):
        taken.pop(0)
    role = " ".join(taken)
    if not role or not _role_ok(role) or any(c.isdigit() for c in role):
        return None
    return role
