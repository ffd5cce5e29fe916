"""The dashboard's grouping of unanswered questions and its suggestions, as plain functions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import yaml

from factbot.dashboard.grouping import (
    Asked,
    content_words,
    generic_stems,
    group_questions,
    overlap,
    suggest,
)

T0 = datetime(2026, 11, 1, 12, tzinfo=UTC)


def asked(*texts: str, platform: str = "telegram") -> list[Asked]:
    return [Asked(t, T0 + timedelta(minutes=n), platform, f"h{n % 3}")
            for n, t in enumerate(texts)]


def test_content_words_are_factbots_own_folded_stemmed_and_without_stop_words() -> None:
    assert content_words("Is K-pop POPULAR in Malaysia?") == content_words("kpop popular malaysia")
    assert content_words("how many Koreans live in Malaysia") == {"korean", "live", "malaysia"}
    assert content_words("what is it?") == frozenset()


def test_overlap_is_shared_over_all_words_and_zero_without_words() -> None:
    assert overlap(frozenset("ab"), frozenset("bc")) == 1 / 3
    assert overlap(frozenset(), frozenset("a")) == 0.0


def test_rewordings_form_one_group_with_its_count_example_and_people() -> None:
    groups = group_questions(asked(
        "when is the next blackpink concert", "When is the next BLACKPINK concert??",
        "blackpink concert in kl when", "when is the next blackpink concert",
        "what is the visa fee for korea"))
    assert [g.count for g in groups] == [4, 1]
    concert = groups[0]
    # The most asked wording, as last typed.
    assert concert.example == "when is the next blackpink concert"
    assert concert.top_wordings() == [("when is the next blackpink concert", 3),
                                      ("blackpink concert in kl when", 1)]
    assert concert.people == 3  # three distinct user hashes among the four
    assert concert.platforms == {"telegram": 4}
    assert concert.last_seen == T0 + timedelta(minutes=3)
    assert groups[1].example == "what is the visa fee for korea"


def test_questions_sharing_too_few_words_stay_apart() -> None:
    groups = group_questions(asked("korean restaurant near me", "korean visa fee",
                                   "korean restaurant near me please"))
    assert sorted(g.count for g in groups) == [1, 2]
    assert {g.example for g in groups} == {"korean restaurant near me", "korean visa fee"}


def test_questions_without_content_words_group_only_by_their_key() -> None:
    groups = group_questions(asked("?", "??", "what is it", "what is it!", "👍"))
    assert {g.example: g.count for g in groups} == {"what is it!": 2, "?": 1, "??": 1, "👍": 1}


def test_groups_are_ordered_by_count_then_most_recent_and_the_order_is_stable() -> None:
    rows = asked("alpha beta", "gamma delta", "gamma delta", "epsilon zeta")
    first = group_questions(rows)
    assert [g.example for g in first] == ["gamma delta", "epsilon zeta", "alpha beta"]
    assert [g.example for g in group_questions(list(reversed(rows)))] == \
        [g.example for g in first]


def test_an_unknown_word_becomes_a_keyword_of_the_nearest_topic_as_yaml() -> None:
    s = suggest([("when is the next blackpink concert", 3), ("blackpink concert kl", 1)],
                [("concert",), ("concert",)], "hallyu", 0.18, 0.40,
                pack_file="korea-malaysia/pack.yaml")
    assert (s.kind, s.topic, s.terms) == ("keyword", "hallyu", ("concert",))
    assert s.reason == "if /hallyu answers this, add concert to its keywords"
    data = yaml.safe_load(s.yaml)
    assert data == [{"command": "hallyu", "keywords": ["concert"]}]


def test_unknown_words_most_asked_first_at_most_three() -> None:
    s = suggest([("a b c d", 1), ("d e", 5)], [("bb", "cc", "dd", "aa"), ("dd", "ee")],
                "t", 0.3, 0.4)
    assert s.terms == ("dd", "ee", "bb")


def test_a_short_question_of_only_unknown_words_names_the_topic_an_alias() -> None:
    s = suggest([("korean wave", 4)], [("korean", "wave")], "hallyu", 0.1, 0.4)
    assert (s.kind, s.terms) == ("alias", ("korean wave",))
    assert yaml.safe_load(s.yaml) == [{"command": "hallyu", "aliases": ["korean wave"]}]


def test_no_suggestion_without_a_near_topic_or_without_unknown_words() -> None:
    far = suggest([("visa fee", 2)], [("visa", "fee")], None, 0.0, 0.4)
    assert far.kind == "" and far.yaml == "" and "no topic comes near" in far.reason
    refused = suggest([("when did they sign", 2)], [()], "partnership", 0.5, 0.4,
                      refused="asks when")
    assert refused.kind == "" and "asks when" in refused.reason
    low = suggest([("tell me about ties", 1)], [()], "partnership", 0.3, 0.4)
    assert "0.30, under the threshold 0.40" in low.reason


def test_yaml_quotes_what_plain_yaml_would_misread() -> None:
    for term in ("true", "null", "2019", "k: pop", 'say "hi"', "#tag", "o'brien"):
        s = suggest([(f"{term} ferry timetable", 1)], [(term,)], "t", 0.1, 0.4)
        assert s.kind == "keyword", term
        assert yaml.safe_load(s.yaml) == [{"command": "t", "keywords": [term]}], s.yaml


def test_a_packs_generic_terms_do_not_tell_questions_apart() -> None:
    rows = asked("when is the next blackpink concert",
                 "is there a blackpink concert in kuala lumpur")
    assert len(group_questions(rows)) == 2  # 2 words of 5 shared
    ignore = generic_stems(["kuala lumpur", "malaysia"])
    assert content_words("blackpink in Kuala Lumpur", ignore) == {"blackpink"}
    assert [g.count for g in group_questions(rows, ignore=ignore)] == [2]  # 2 of 3
