"""factbot's own words in English, Malay and Korean; "Did you mean"; feedback and context.

The adapters' tests (test_telegram_locale.py, test_discord_locale.py) check what reaches the
platforms; these check the core over the shared harness.
"""

from __future__ import annotations

import re
import string
from dataclasses import replace
from pathlib import Path

import pytest

from factbot.checks import check_dir
from factbot.commands import table
from factbot.core import NEAR, Press
from factbot.errors import PackError
from factbot.features.cooldown import Verdict
from factbot.i18n import ENGLISH, LANGUAGES, catalogue, choose, question_language, strings
from factbot.messages import ReplyKind, fact_key
from factbot.packs import Fact, FactPack, load_pack, load_packs, paragraphs
from factbot.settings import CooldownSettings, Settings
from factbot.storage import MemoryStore
from tests.harness import Harness

FACTS = Path(__file__).resolve().parent.parent / "facts"
PLACEHOLDER = string.Formatter()
TRANSLATIONS = [lang for lang in LANGUAGES if lang != ENGLISH]


def fields(template: str) -> set[str]:
    return {name for _, name, _, _ in PLACEHOLDER.parse(template) if name}


# --- the catalogues ---------------------------------------------------------------------

@pytest.mark.parametrize("language", TRANSLATIONS)
def test_every_catalogue_has_every_english_key_with_its_placeholders(language: str) -> None:
    english, texts = catalogue(ENGLISH), catalogue(language)
    missing = sorted(set(english) - set(texts))
    assert not missing, f"{language}.yaml lacks {missing}"
    for key, template in english.items():
        assert fields(texts[key]) == fields(template), f"{language}.yaml {key}"
        assert texts[key].strip()
    strays = sorted(k for k in set(texts) - set(english)
                    if not k.startswith(("command.", "option.")))
    assert not strays, f"{language}.yaml has keys English lacks: {strays}"


@pytest.mark.parametrize("language", TRANSLATIONS)
def test_every_command_and_option_is_translated_within_the_platforms_limits(
        language: str) -> None:
    t = strings(language)
    for spec in table():
        assert t.has(f"command.{spec.name}"), f"{language}: command.{spec.name}"
        assert 1 <= len(t.command(spec)) <= 100  # Discord's limit; Telegram's is 256
        for option in spec.options:
            assert t.has(f"option.{spec.name}.{option.name}"), \
                f"{language}: option.{spec.name}.{option.name}"
            assert 1 <= len(t.option(spec, option)) <= 100


def test_a_missing_catalogue_key_falls_back_to_english_and_placeholders_fill_in() -> None:
    assert strings("ko")("fact.source", source="Bernama") == "출처: Bernama"
    assert strings("xx").language == ENGLISH  # an unknown language is English
    assert strings("ms").either(["/a", "/b", "/c"]) == "/a, /b atau /c"
    assert strings("en").either(["/a"]) == "/a"


# --- which language ------------------------------------------------------------------

@pytest.mark.parametrize(("text", "language"), [
    ("날씨 어때요?", "ko"),
    ("apa hubungan Malaysia dengan Korea Selatan?", "ms"),
    ("bila kedutaan dibuka di sini", "ms"),
    ("what is the hallyu wave", "en"),
    ("/hallyu", None),
    ("Lee Chi-beom", None),
])
def test_the_language_of_a_question(text: str, language: str | None) -> None:
    assert question_language(text) == language


def test_the_members_app_language_comes_first_then_the_question_then_the_chat() -> None:
    assert choose("ko-KR", "what is hallyu", "ms") == "ko"
    assert choose("de", "apa itu hallyu", "ko") == "ms"  # no German: the question's
    assert choose(None, "/hallyu", "ko") == "ko"  # a command says nothing: the chat's
    assert choose(None, "/hallyu", None) == ENGLISH
    # English is most apps' default, a weak sign: a question plainly in Malay or Korean wins.
    assert choose("en-GB", "날씨 어때요?", None) == "ko"
    assert choose("en-US", "apa hubungan Malaysia dengan Korea?", "ko") == "ms"
    assert choose("en-US", "/hallyu", "ms") == ENGLISH


async def test_a_korean_and_a_malay_member_get_their_language(harness: Harness) -> None:
    korean = await harness.ask("날씨 어때요?", language="ko")
    assert korean.kind is ReplyKind.FALLBACK and korean.language == "ko"
    assert korean.text.startswith(strings("ko")("fallback.heading"))
    malay = await harness.ask("날씨 어때요?", language="ms", user="u2")
    assert malay.language == "ms" and malay.text.startswith(strings("ms")("fallback.heading"))
    english = await harness.ask("what's the weather like", user="u3")
    assert english.language == ENGLISH and english.text.startswith("Sorry, I don't know")
    help_ko = await harness.ask("/help", language="ko-KR")
    assert help_ko.heading == strings("ko")("help.heading")
    start_ms = await harness.ask("/start", language="ms")
    assert start_ms.text.startswith(strings("ms")("start.heading"))


async def test_quotes_stay_verbatim_and_only_the_labels_are_translated(
        harness: Harness, packs: tuple[FactPack, ...]) -> None:
    reply = await harness.ask("/hallyu", language="ko")
    english = await harness.ask("/hallyu", chat="c2")
    assert reply.quote is not None and reply.quote == english.quote
    assert reply.quote in packs[0].article
    assert f"출처: {packs[0].source.line()}" in reply.text
    assert "Source:" not in reply.text and reply.language == "ko"


async def test_an_admin_sets_the_chats_language_and_members_without_one_get_it(
        harness: Harness) -> None:
    refused = await harness.ask("/language ko", group=True, user="member", admin=False)
    assert refused.text == strings(ENGLISH)("not_admin")
    done = await harness.ask("/language ko", group=True, user="boss", admin=True)
    assert done.text == strings("ko")("language.set")  # confirmed in the new language
    fact = await harness.ask("/hallyu", group=True, user="member")
    assert fact.language == "ko" and "출처:" in fact.text
    shown = await harness.ask("/language", group=True, user="member")
    assert "한국어" in shown.text
    # The member's own app language still comes first.
    assert (await harness.ask("/hallyu", group=True, user="member", language="ms")
            ).language == "ms"
    await harness.ask("/language auto", group=True, user="boss")
    assert (await harness.ask("/hallyu", group=True, user="member")).language == ENGLISH
    bad = await harness.ask("/language klingon", group=True, user="boss")
    assert bad.text == strings(ENGLISH)("language.usage")


async def test_the_daily_fact_speaks_the_chats_language(harness: Harness) -> None:
    await harness.ask("/language ms", chat="c9")
    await harness.ask("/daily on 08:00 UTC", chat="c9")
    from factbot.storage import ChatKey
    chat = ChatKey("telegram", "c9")
    reply = await harness.bot.daily.reply(chat, await harness.store.chat_settings(chat))
    assert reply is not None and reply.text.startswith("Fakta hari ini:\n")
    assert "Sumber:" in reply.text


# --- "Did you mean" ----------------------------------------------------------------------

async def test_a_near_miss_names_the_nearest_topics_after_saying_it_did_not_find_one(
        harness: Harness) -> None:
    reply = await harness.ask("What is Lee's full name?")
    assert reply.kind is ReplyKind.FALLBACK
    assert reply.text == (f"{strings(ENGLISH)('fallback.heading')}\n"
                          "Did you mean /ambassador?")
    assert [c for c, _ in reply.items] == ["ambassador"]
    korean = await harness.ask("양국 국민 간 상호 이해를 높이려면 뭘 해야 한다고 했죠?")
    assert korean.text.endswith("혹시 /culture 말씀이세요?")


async def test_a_question_nowhere_near_lists_the_topics_as_before(harness: Harness) -> None:
    reply = await harness.ask("what's the weather like in Paris")
    assert reply.text.startswith(strings(ENGLISH)("fallback.heading"))
    assert "Did you mean" not in reply.text and "Try one of these:" in reply.text


async def test_near_topics_skip_topics_turned_off_and_stay_under_three(
        harness: Harness) -> None:
    await harness.ask("/topics off ambassador")
    reply = await harness.ask("What is Lee's full name?")
    assert "/ambassador" not in reply.text
    near = harness.bot._near(harness.bot.catalogue, "Where exactly will the Korean Cultural "
                             "Centre be built?", None)
    assert 1 <= len(near) <= 3
    assert NEAR < 0.40  # "just short" of the router's threshold


# --- "Not what I asked" -----------------------------------------------------------------

def press(**given: object) -> Press:
    """A press on the default pack's fact, with the key its button carries (unless given)."""
    base = Press(platform="telegram", chat_id="-100", user_id="7", topic="hallyu", fact=0,
                 reply_key="-100:55", question="what do Malaysians love about Korea?")
    made = replace(base, **given)  # type: ignore[arg-type]
    if "key" in given:
        return made
    topic = next((t for p in load_packs(FACTS) for t in p.topics if t.command == made.topic),
                 None)
    facts = topic.facts if topic else ()
    if made.fact is not None and 0 <= made.fact < len(facts):
        made = replace(made, key=fact_key(facts[made.fact].quote))
    return made


async def test_a_feedback_press_is_logged_once_per_member_and_reply(
        harness: Harness, packs: tuple[FactPack, ...]) -> None:
    bot, store = harness.bot, harness.store
    assert await bot.feedback(press()) == strings(ENGLISH)("feedback.thanks")
    assert await bot.feedback(press(language="ko")) == strings("ko")("feedback.already")
    assert await bot.feedback(press(user_id="8")) == strings(ENGLISH)("feedback.thanks")
    assert await bot.feedback(press(reply_key="-100:56")) == strings(ENGLISH)("feedback.thanks")
    assert await store.wrong_total() == 3
    [wrong] = await store.wrong_answers()
    hallyu = next(t for t in packs[0].topics if t.command == "hallyu")
    assert (wrong.topic, wrong.quote, wrong.count) == ("hallyu", hallyu.facts[0].quote, 3)
    assert wrong.questions == ("what do Malaysians love about Korea?",)
    rows = await store.feedback_rows(wrong.last_seen.replace(year=2000))
    assert all(not re.fullmatch(r"\d+", row.user_hash) for row in rows)  # hashes, not ids
    stats = await harness.ask("/stats")
    assert "Not what I asked\": 3" in stats.text and "3 × /hallyu" in stats.text


async def test_feedback_presses_are_rate_limited_like_messages(
        packs: tuple[FactPack, ...]) -> None:
    settings = Settings(cooldown=CooldownSettings(user_per_minute=2, chat_per_minute=100))
    h = Harness(settings, MemoryStore(), packs=packs, cooldown=True)
    answers = [await h.bot.feedback(press(reply_key=f"-100:{n}")) for n in range(4)]
    assert answers[:2] == [strings(ENGLISH)("feedback.thanks")] * 2
    assert answers[2:] == [strings(ENGLISH)("slow_down")] * 2
    assert await h.store.wrong_total() == 2


async def test_feedback_on_a_fact_that_is_gone_is_still_kept_with_its_topic(
        harness: Harness) -> None:
    assert await harness.bot.feedback(press(fact=99)) == strings(ENGLISH)("feedback.thanks")
    [wrong] = await harness.store.wrong_answers()
    assert (wrong.topic, wrong.quote) == ("hallyu", "")


# --- "Show context" ---------------------------------------------------------------------

def test_context_is_the_articles_paragraph_around_the_quote(packs: tuple[FactPack, ...],
                                                           harness: Harness) -> None:
    pack = packs[0]
    for topic in pack.topics:
        for index, fact in enumerate(topic.facts):
            reply = harness.bot.context(press(topic=topic.command, fact=index))
            assert reply is not None and reply.kind is ReplyKind.CONTEXT
            start, end = next(span for span in paragraphs(pack.article)
                              if span[0] <= fact.offset < span[1])
            assert reply.quote == pack.article[start:end].strip()  # verbatim, whole
            assert fact.quote in reply.quote and reply.context == fact.quote
            assert reply.source == pack.source.line() and reply.fact == index
    assert harness.bot.context(press(fact=99)) is None
    assert harness.bot.context(press(topic="nosuch")) is None
    korean = harness.bot.context(press(language="ko"))
    assert korean is not None and korean.heading == strings("ko")("context.heading")


def test_a_long_paragraph_is_cut_around_the_quote_at_word_boundaries(
        packs: tuple[FactPack, ...]) -> None:
    from factbot.render import MAX_CONTEXT, render_context

    pack = packs[0]
    topic = pack.topics[0]
    fact = topic.facts[0]
    filler = "word " * 400
    article = filler + pack.article[fact.offset:fact.offset + len(fact.quote)] + " " + filler
    offset = len(filler)
    long = replace(pack, article=article)
    moved = replace(fact, offset=offset)
    reply = render_context(long, replace(topic, facts=(moved,)), moved, (0, len(article)))
    assert reply.quote is not None and reply.quote.startswith("…") and reply.quote.endswith("…")
    inner = reply.quote.strip("…")
    assert inner in article and fact.quote in inner and len(inner) <= MAX_CONTEXT
    assert not inner.startswith("ord") and not inner.endswith("wor")


# --- translated topic descriptions ----------------------------------------------------------

def write_pack(tmp_path: Path, extra: str) -> Path:
    folder = tmp_path / "p"
    folder.mkdir()
    (folder / "article.txt").write_text("KUALA LUMPUR, Oct 2 (Bernama) -- The bridge opened "
                                        "on Monday after ten years of work.\n", encoding="utf-8")
    (folder / "pack.yaml").write_text(
        "name: bridge\nsource: {outlet: Bernama, dateline: KUALA LUMPUR, date: Oct 2}\n"
        "topics:\n  - command: bridge\n    description: The new bridge\n" + extra +
        "    facts:\n      - quote: The bridge opened on Monday after ten years of work.\n",
        encoding="utf-8")
    return folder


def test_a_pack_may_translate_its_topic_descriptions(tmp_path: Path) -> None:
    folder = write_pack(tmp_path, "    description_ko: 새 다리\n"
                                  "    descriptions: {ms: Jambatan baharu}\n")
    topic = load_pack(folder).topics[0]
    assert topic.described("ko") == "새 다리" and topic.described("ms") == "Jambatan baharu"
    assert topic.described("en") == "The new bridge"
    h = Harness(packs=[load_pack(folder)])
    assert ("bridge", "새 다리") in h.bot.commands("ko")
    assert ("bridge", "Jambatan baharu") in h.bot.commands("ms", admins=True)


def test_a_translated_description_over_the_limit_is_refused_and_reported(
        tmp_path: Path) -> None:
    folder = write_pack(tmp_path, f"    description_ko: {'가' * 101}\n")
    with pytest.raises(PackError, match="description_ko is 101 characters"):
        load_pack(folder)
    report = check_dir(tmp_path)
    assert any(f.check == "description_length" and "ko description" in f.message
               for f in report.errors)
    (tmp_path / "x").mkdir()
    french = write_pack(tmp_path / "x", "    descriptions: {fr: Le pont}\n")
    with pytest.raises(PackError, match="language 'fr'"):
        load_pack(french)


async def test_every_fact_reply_names_its_fact_for_the_buttons(
        harness: Harness, packs: tuple[FactPack, ...]) -> None:
    topics = {t.command: t for t in packs[0].topics}
    for text in ("how many koreans live in malaysia?", "/hallyu", "/hallyu", "/fact",
                 "/trade why"):
        reply = await harness.ask(text)
        assert reply.kind is ReplyKind.FACT and reply.topic is not None
        assert reply.fact is not None
        assert topics[reply.topic].facts[reply.fact].quote == reply.quote


async def test_presses_follow_the_chats_own_cooldown(packs: tuple[FactPack, ...]) -> None:
    settings = Settings(cooldown=CooldownSettings(user_per_minute=50, chat_per_minute=100))
    h = Harness(settings, MemoryStore(), packs=packs, cooldown=True, admins=["boss"])
    await h.ask("/cooldown 1 100", chat="-100", group=True, user="boss")
    first = await h.bot.feedback(press(reply_key="-100:1"))
    second = await h.bot.feedback(press(reply_key="-100:2"))
    assert (first, second) == (strings(ENGLISH)("feedback.thanks"), strings(ENGLISH)("slow_down"))
    assert await h.bot.press_verdict(press(chat_id="-200")) is Verdict.ANSWER  # the default


async def test_a_press_after_a_reload_names_the_fact_it_was_under_or_none(
        harness: Harness, packs: tuple[FactPack, ...]) -> None:
    """The button carries the fact's index and the quote's key: a reload that moved the
    fact finds it by key; one that edited or removed it gives nothing, never its neighbour."""
    pack = packs[0]
    hallyu = next(t for t in pack.topics if t.command == "hallyu")
    first, second = hallyu.facts[0], hallyu.facts[1]
    shown = press(fact=0, key=fact_key(first.quote))
    before = harness.bot.context(shown)
    assert before is not None and before.context == first.quote

    def reload_with(facts: tuple[Fact, ...]) -> None:
        moved = replace(hallyu, facts=facts)
        harness.bot.load([replace(pack, topics=tuple(moved if t is hallyu else t
                                                      for t in pack.topics))])

    reload_with((second, first, *hallyu.facts[2:]))  # moved: found at its new place
    again = harness.bot.context(shown)
    assert again is not None and again.context == first.quote and again.fact == 1
    reload_with((second, *hallyu.facts[2:]))  # removed: index 0 is now another fact
    assert harness.bot.context(shown) is None
    assert await harness.bot.feedback(shown) == strings(ENGLISH)("feedback.thanks")
    [wrong] = await harness.store.wrong_answers()
    assert wrong.quote == ""  # never the quote now at index 0
    assert harness.bot.context(press(fact=0, key="")) is None  # no key: no fact named


def test_no_context_for_words_the_article_has_twice(tmp_path: Path) -> None:
    """Two paragraphs hold the same words: which one the fact came from is unsure, so the
    context button says it cannot show it rather than show perhaps the other speaker's."""
    folder = write_pack(tmp_path, "")
    (folder / "article.txt").write_text(
        "KUALA LUMPUR, Oct 2 (Bernama) -- Ali said: The bridge opened on Monday after ten "
        "years of work.\n\nBakar later repeated: The bridge opened on Monday after ten years "
        "of work.\n", encoding="utf-8")
    pack = load_pack(folder)
    h = Harness(packs=[pack])
    quote = pack.topics[0].facts[0].quote
    assert h.bot.context(press(topic="bridge", fact=0, key=fact_key(quote))) is None
