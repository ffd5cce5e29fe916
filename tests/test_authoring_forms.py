"""`factbot facts new`: the forms of attribution real reports use, each read the way a
curator would: whose words a quotation is, or nobody's when the article does not say.

The mini-articles are fictional, written for these tests.
"""

from __future__ import annotations

from factbot.authoring import draft, speaker_role, split_article


def _said(article: str) -> dict[str, str | None]:
    return {s.text: s.speaker for s in split_article(article)}


HEAD = "Harbour plan goes to a vote\n\nMonday, June 3, 2024\n\n"


def test_a_colon_after_the_verb_gives_the_quotation_to_who_responds() -> None:
    said = _said(HEAD + "Councillor Dev Patel asked about the cost. Mayor Ana Ruiz responded: "
                 "\"The harbour will pay for itself within ten years.\"\n")
    assert said["The harbour will pay for itself within ten years."] == "Ana Ruiz"
    # The lead-in only says who speaks: no fact of its own.
    assert not any(t.startswith("Mayor Ana Ruiz responded") for t in said)


def test_a_clause_then_who_responds_keeps_the_sentence_whole_with_that_speaker() -> None:
    """"When a reporter asked …, Ruiz replied: “…”": the clause says something, the
    quotation is hers; cut at the colon neither part would stand alone."""
    said = _said(HEAD + "Mayor Ana Ruiz opened the meeting. When a reporter asked what the "
                 "council had decided, Ruiz replied: \"Nothing yet, and nothing this week.\"\n")
    assert said["When a reporter asked what the council had decided, Ruiz replied: \"Nothing "
                "yet, and nothing this week.\""] == "Ana Ruiz"


def test_she_said_in_an_interview_is_the_one_woman_named_and_keeps_the_outlet() -> None:
    said = _said(HEAD + "Mr Tom Reyes spoke with Mrs Alma Duarte, who runs the ferry cafe.\n\n"
                 "\"We have waited long enough for this,\" she said in an interview with the "
                 "Gazette.\n")
    # "in an interview with the Gazette" says more than who speaks: the sentence stays whole.
    assert said["\"We have waited long enough for this,\" she said in an interview with the "
                "Gazette."] == "Alma Duarte"


def test_he_said_is_nobody_when_two_men_could_have_said_it() -> None:
    said = _said(HEAD + "Tom Reyes met Dev Patel at the quay.\n\n"
                 "\"The plan is late,\" he said.\n")
    assert said["The plan is late"] is None


def test_a_pronoun_skips_a_person_of_the_other_sex() -> None:
    said = _said(HEAD + "The minister, Mr Tom Reyes, visited the cafe of Mrs Alma Duarte.\n\n"
                 "\"I came to listen,\" he said.\n")
    assert said["I came to listen"] == "Tom Reyes"


def test_a_quotation_after_narration_and_a_colon_is_who_the_attribution_names() -> None:
    """A colon after narration claims nothing: "…: “…?” she asked him." is hers."""
    said = _said(HEAD + "Mr Tom Reyes walked along the quay. There, he met Mrs Alma Duarte, who "
                 "runs the cafe, before the talk turned to fares: \"Who will pay for the new "
                 "boats?\" she asked him.\n")
    assert said["Who will pay for the new boats?"] == "Alma Duarte"
    assert "There, he met Mrs Alma Duarte, who runs the cafe, before the talk turned to fares" \
        in said


def test_later_adding_goes_on_with_the_speaker_of_the_first_quotation() -> None:
    said = _said(HEAD + "Harbour Minister Ana Ruiz spoke to reporters on the quay.\n\n"
                 "\"The boats are old and the fares are high,\" she said.\n\n"
                 "\"We cannot wait for another summer,\" later adding: \"The vote is on "
                 "Friday.\"\n")
    assert said["We cannot wait for another summer"] == "Ana Ruiz"
    assert said["The vote is on Friday."] == "Ana Ruiz"
    assert "later adding" not in said


def test_later_adding_says_nobody_when_the_first_quotation_is_nobodys() -> None:
    said = _said(HEAD + "The council met on Friday.\n\n"
                 "\"We cannot wait for another summer,\" later adding: \"The vote is on "
                 "Friday.\"\n")
    assert said["We cannot wait for another summer"] is None
    assert said["The vote is on Friday."] is None


def test_with_someone_saying_that_reports_their_words() -> None:
    said = _said(HEAD + "The opposition answered on Tuesday, with Shadow harbour minister Dev "
                 "Patel saying that \"the plan is a gift to the ferry company.\"\n")
    assert said["The opposition answered on Tuesday, with Shadow harbour minister Dev Patel "
                "saying that \"the plan is a gift to the ferry company.\""] == "Dev Patel"


def test_meanwhile_between_the_speaker_and_the_verb() -> None:
    said = _said(HEAD + "Green Party leader Mia Holt, meanwhile said: \"Nobody asked the "
                 "islanders.\"\n\nTom Reyes, meanwhile, said: \"The islanders were asked "
                 "twice.\"\n")
    assert said["Nobody asked the islanders."] == "Mia Holt"
    assert said["The islanders were asked twice."] == "Tom Reyes"


def test_commented_on_the_situation_gives_the_next_paragraph_to_that_person() -> None:
    """The existing rule: a paragraph that is one person's speech, whole, and a quotation
    opening the next paragraph goes on with it."""
    article = HEAD + ("Ivo Marsh, a transport lecturer at Porthaven University, commented on "
                      "the situation.\n\n\"A ferry that loses money is still a road.\"\n")
    said = _said(article)
    assert said["Ivo Marsh, a transport lecturer at Porthaven University, commented on the "
                "situation."] == "Ivo Marsh"
    assert said["A ferry that loses money is still a road."] == "Ivo Marsh"
    assert speaker_role(article, "Ivo Marsh") == "a transport lecturer at Porthaven University"


def test_commented_then_someone_else_in_between_leaves_the_quotation_unsigned() -> None:
    said = _said(HEAD + "Ivo Marsh commented on the situation. The council said nothing.\n\n"
                 "\"A ferry that loses money is still a road.\"\n")
    assert said["A ferry that loses money is still a road."] is None


def test_an_unnamed_spokesman_is_not_the_person_he_speaks_for() -> None:
    """"A spokesman for Reyes said:" names nobody: the quotation has no speaker, never
    Reyes; its first sentence keeps the lead-in, the only place that says who spoke."""
    said = _said(HEAD + "Harbour Minister Tom Reyes left the meeting early.\n\n"
                 "A spokesman for Reyes said: \"The minister has seen the figures. He will "
                 "answer on Friday.\"\n")
    assert said["A spokesman for Reyes said: \"The minister has seen the figures."] is None
    assert said["He will answer on Friday."] is None
    assert "Tom Reyes" not in said.values()


def test_a_section_heading_is_no_fact() -> None:
    said = _said(HEAD + "The council met on Friday.\n\nReactions on the island\n\n"
                 "Ferry users welcomed the plan.\n")
    assert list(said) == ["The council met on Friday.", "Ferry users welcomed the plan."]


def test_roles_are_titles_not_dates_or_ages() -> None:
    article = ("Harbour plan goes to a vote\n\nMonday, June 3, 2024\n\n"
               "Harbour Minister Tom Reyes said the vote would be close. He spoke with Alma "
               "Duarte, aged 70, who runs the cafe.\n\n"
               "\"We will see,\" Duarte said.\n")
    d = draft(article, "vote")
    assert d.speakers == {"Tom Reyes": "Harbour Minister", "Alma Duarte": None}


def test_he_said_is_nobody_when_a_name_may_be_a_persons_or_a_places() -> None:
    """"Dev Lane" reads like a lane, but may be a man: "he said" is then nobody's."""
    said = _said(HEAD + "Tom Reyes met Dev Lane at the quay.\n\n\"The plan is late,\" he said.\n")
    assert said["The plan is late"] is None


def test_said_name_then_a_clause_keeps_the_clause_and_the_speaker() -> None:
    said = _said(HEAD + "\"We won,\" said Sami Haddad, who scored twice. \"Fine,\" said Tom Holt "
                 "on Monday.\n")
    assert said["\"We won,\" said Sami Haddad, who scored twice."] == "Sami Haddad"
    assert said["Fine"] == "Tom Holt"  # "on Monday" says when, not who
