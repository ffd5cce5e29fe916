"""A question gets the sentence that answers it, wherever it lives, or "I don't know"."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from factbot.core import FactBot
from factbot.evaluate import OFF_TOPIC_ANSWERED, REFUSED, WRONG_FACT, Case, evaluate, holds
from factbot.matcher import Matcher
from factbot.matching.rules import COUNT, DATE, LONG, WHEN, WHO, WHY, asks, demands_of, ranks_in
from factbot.messages import IncomingMessage, ReplyKind
from factbot.packs import FactPack, load_pack

from .conftest import ROOT

DATA = ROOT / "tests" / "data"


async def quote(bot: FactBot, text: str) -> str | None:
    reply = await bot.handle(IncomingMessage(text=text, chat_id="answers"))
    assert reply is not None
    return reply.quote if reply.kind is ReplyKind.FACT else None


@pytest.mark.parametrize(("text", "words"), [
    # The frame points to what follows "about", not to the speaker's most frequent quote.
    ("what did the ambassador say about health care", "global health care sector"),
    ("what does the article say about halal", "the halal industry"),
    ("Lee thinks the Korean Wave is popular why?", "two-way interaction among global fans"),
    # Sentence words find the fact, not the topic's first one.
    ("how many Koreans live in Malaysia", "around 13,000 people"),
    ("when will the Korean cultural centre open?", "when the need arises"),
    ("Is Malaysia Korea's biggest trading partner in ASEAN?", "third-largest trading partner"),
    # Malay reaches the English sentence through the glossary.
    ("pertukaran budaya", "promote cultural exchange"),
    # Initials written as one word are the keyword.
    ("cooperation in A.I.?", "artificial intelligence (AI)"),
])
async def test_a_question_gets_the_sentence_that_answers_it(factbot: FactBot, text: str,
                                                            words: str) -> None:
    found = await quote(factbot, text)
    assert found is not None and words in found, (text, found)


@pytest.mark.parametrize("text", [
    # A rank or a scope the article does not state.
    "Which country is Korea's largest trading partner in the world?",
    # "When will…" and the only date is in the past.
    "when will the strategic partnership be signed?",
    # A list of named things the sentence does not give.
    "which superpowers are in conflict?",
    # Somebody the article never quotes.
    "what did the Malaysian prime minister say about the partnership?",
    # Lee never said it: Bernama did.
    "what did Lee say about the Korean community?",
    # Two letters apart are no "A.I.".
    "is it a i think",
])
async def test_a_question_the_article_does_not_answer_gets_no_fact(factbot: FactBot,
                                                                   text: str) -> None:
    assert await quote(factbot, text) is None, text


SPEAKERS_ARTICLE = """Port officials confirmed the new ferry will start on Monday.

Harbour Master Ana Ruiz said the ferry will carry 300 passengers and leave every hour.

"We expect the ferry to cut traffic on the bridge by a third," Ruiz said.

Mayor of Eastport Jane Miller said the bridge will close for repairs in May.

"The bridge has carried too much traffic for too long," Miller said.
"""

SPEAKERS_PACK = """name: ferry
source: {outlet: TODO outlet, dateline: TODO dateline, date: TODO date}
speakers:
  Ana Ruiz: Harbour Master
  Jane Miller: Mayor of Eastport
topics:
  - command: ferry
    description: The new ferry
    keywords: [ferry, boat]
    facts:
      - quote: Port officials confirmed the new ferry will start on Monday.
      - quote: >-
          Harbour Master Ana Ruiz said the ferry will carry 300 passengers and leave every hour.
        speaker: Ana Ruiz
      - quote: We expect the ferry to cut traffic on the bridge by a third
        speaker: Ana Ruiz
  - command: bridge
    description: The bridge repairs
    keywords: [bridge]
    facts:
      - quote: Mayor of Eastport Jane Miller said the bridge will close for repairs in May.
        speaker: Jane Miller
      - quote: The bridge has carried too much traffic for too long
        speaker: Jane Miller
"""


@pytest.fixture
def ferry(tmp_path: Path) -> FactPack:
    from .test_packs import write_pack

    return load_pack(write_pack(tmp_path, SPEAKERS_PACK, SPEAKERS_ARTICLE, name="ferry"))


async def test_what_a_named_person_said_comes_from_that_person(ferry: FactPack) -> None:
    bot = FactBot([ferry])
    # "traffic on the bridge" is in both speakers' quotes: the name decides.
    found = await quote(bot, "what did Ruiz say about traffic on the bridge?")
    assert found is not None and "cut traffic" in found
    found = await quote(bot, "what did the mayor say about traffic?")
    assert found is not None and "too much traffic" in found
    # A person the article quotes on nothing of the kind: no fact.
    assert await quote(bot, "what did Ruiz say about repairs in May?") is None


async def test_a_speaker_alone_is_a_question_about_that_speaker(ferry: FactPack) -> None:
    bot = FactBot([ferry])
    found = await quote(bot, "what did Jane Miller say?")
    assert found is not None and found in {f.quote for t in ferry.topics for f in t.facts
                                           if f.speaker == "Jane Miller"}


def test_the_order_of_facts_in_the_file_breaks_no_tie(tmp_path: Path,
                                                      ferry: FactPack) -> None:
    """Ties go to the fact that best stands for its topic, the same in any order."""
    from .test_packs import write_pack

    reordered = SPEAKERS_PACK.replace(
        "      - quote: Port officials confirmed the new ferry will start on Monday.\n", "")
    reordered = reordered.replace(
        "        speaker: Ana Ruiz\n  - command: bridge",
        "        speaker: Ana Ruiz\n      - quote: Port officials confirmed the new ferry will "
        "start on Monday.\n  - command: bridge")
    other = load_pack(write_pack(tmp_path / "b", reordered, SPEAKERS_ARTICLE, name="ferry"))
    assert [f.quote for f in other.topics[0].facts] != [f.quote for f in ferry.topics[0].facts]
    first = Matcher([ferry]).rank("boat", limit=1)[0]
    second = Matcher([other]).rank("boat", limit=1)[0]
    assert first.fact is not None and second.fact is not None
    assert first.fact.quote == second.fact.quote


@pytest.mark.parametrize(("text", "kind"), [
    ("how many Koreans live here?", COUNT), ("berapa ramai orang Korea?", COUNT),
    ("when was it agreed?", WHEN), ("bila perjanjian itu?", WHEN), ("언제 열어요?", WHEN),
    ("what date will it be signed?", DATE), ("how long have they had ties?", LONG),
    ("who is the ambassador?", WHO), ("siapa duta Korea?", WHO), ("누가 말했어요?", WHO),
    ("why is k-pop popular?", WHY), ("how did the Korean Wave become so popular?", WHY),
    ("kenapa hallyu popular?", WHY), ("tell me about k-pop", None),
])
def test_the_kind_of_answer_a_question_asks_for(text: str, kind: str | None) -> None:
    assert asks(text) == kind


def test_ranks_and_scopes_are_read_from_text() -> None:
    assert ranks_in("malaysia is the third-largest trading partner") == {"3"}
    assert ranks_in("the biggest partner") == {"1"}
    assert ranks_in("a big partner") == frozenset()
    demands = demands_of("Is Korea the largest trading partner in the world?")
    assert demands.ranks == {"1"} and demands.scopes == {"world"} and demands.yesno


def test_a_shown_quote_holds_the_answer_span_or_lies_inside_it() -> None:
    assert holds("Malaysia is the third-largest trading partner of South Korea.",
                 "third-largest trading partner")
    assert holds("the third-largest trading partner",
                 "Malaysia is the third-largest trading partner of South Korea")
    assert not holds("Malaysia is a partner.", "third-largest trading partner")


def test_the_evaluation_counts_wrong_facts_shown_and_names_each_miss(
        packs: tuple[FactPack, ...]) -> None:
    cases = [
        Case("how many koreans live in malaysia", "community", ("around 13,000 people",)),
        # Right topic, wrong sentence: counted as a wrong fact shown.
        Case("how many koreans live in malaysia", "community", ("not in the article",)),
        Case("write me a poem about durian", None, ()),
        Case("what is the weather in seoul tomorrow", None, ()),
        Case("siapa duta", "ambassador", None),
    ]
    report = evaluate(FactBot(packs), cases)
    assert (report.on_total, report.on_correct) == (3, 2)
    assert (report.off_total, report.off_correct) == (2, 2)
    assert (report.shown, report.shown_wrong) == (3, 1)
    assert len(report.classes[WRONG_FACT]) == 1
    assert not report.classes.get(OFF_TOPIC_ANSWERED) and not report.classes.get(REFUSED)


# Written blind from the article alone, then frozen: no matcher change may be tuned on them.
FROZEN = {
    "frozen_korea_malaysia.jsonl":
        "dc6c3022f8ed7c1271c1601704037e80332e0a583ed9b05939c55c01ac5eb598",
    "frozen_wikinews_uk_asylum.jsonl":
        "11033ba17c5295ae1345c8e617afc26fc66899542946a5d3f7f29467692d6660",
}


@pytest.mark.parametrize("name", sorted(FROZEN))
def test_the_frozen_blind_sets_are_unchanged(name: str) -> None:
    assert hashlib.sha256((DATA / name).read_bytes()).hexdigest() == FROZEN[name]


def test_two_letters_apart_are_no_initials(packs: tuple[FactPack, ...]) -> None:
    """"is it a i think" holds no "A.I."; "A.I." written as one word does."""
    matcher = Matcher(packs)
    assert not any(len(u.term) > 1 for u in matcher.analyse("is it a i think").units)
    assert ("ai",) in [u.term for u in matcher.analyse("what about A.I.?").units]


def test_a_numbered_rank_is_that_rank_not_first() -> None:
    assert ranks_in("it is the 13th largest market") == {"13"}
    assert ranks_in("the 2nd biggest buyer") == {"2"}


async def test_what_a_speaker_said_when_the_name_is_also_a_keyword(factbot: FactBot) -> None:
    """"lee" is a keyword of /ambassador: the question is still about Lee's words."""
    found = await quote(factbot, "what did Lee say?")
    assert found is not None


async def test_a_country_the_fact_names_is_no_other_country(tmp_path: Path) -> None:
    """"singapore" stems to "singapor": the fact that names it still answers."""
    from .test_packs import write_pack

    article = "Exports to Singapore rose by five per cent last year.\n"
    pack = """name: exports
source: {outlet: TODO outlet, dateline: TODO dateline, date: TODO date}
topics:
  - command: exports
    description: Exports
    keywords: [exports]
    facts:
      - quote: Exports to Singapore rose by five per cent last year.
"""
    bot = FactBot([load_pack(write_pack(tmp_path, pack, article, name="exports"))])
    found = await quote(bot, "did exports to Singapore rise?")
    assert found is not None and "Singapore" in found
    assert await quote(bot, "did exports to Japan rise?") is None
