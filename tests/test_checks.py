"""`factbot facts check`: each check, warnings against errors, JSON, exit status."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from factbot.checks import attributed_name, check_dir, dangling_reference
from factbot.cli import main
from factbot.commands import PLATFORM_MAX_COMMANDS, menu_commands, topic_room
from factbot.errors import PackError
from factbot.packs import load_packs

ROOT = Path(__file__).resolve().parent.parent
PACKS = ROOT / "tests" / "data" / "packs"

ARTICLE = """CITYVILLE, May 1 (Town Wire) — The town council approved a new library on Monday.

The library will open in 2027 and hold 40,000 books.

“Reading matters to everyone here,” said Mayor Ann Lake.

The council also cut the bus fare to one dollar.

Buses will run every ten minutes from June.
"""


def write_pack(folder: Path, topics: str, *, name: str | None = None,
               article: str = ARTICLE, extra: str = "") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "article.txt").write_text(article, encoding="utf-8")
    (folder / "pack.yaml").write_text(
        f"name: {name or folder.name}\n"
        "source: {outlet: Town Wire, dateline: CITYVILLE, date: May 1}\n"
        f"{extra}topics:\n{topics}", encoding="utf-8")
    return folder


LIBRARY = """  - command: library
    description: The new library
    keywords: [library, books, reading]
    facts:
      - quote: The town council approved a new library on Monday.
      - quote: The library will open in 2027 and hold 40,000 books.
      - quote: Reading matters to everyone here
"""
BUS = """  - command: bus
    description: Bus fares and times
    keywords: [bus, fare, buses, timetable]
    facts:
      - quote: The council also cut the bus fare to one dollar.
      - quote: Buses will run every ten minutes from June.
"""


def test_a_complete_pack_has_no_findings(tmp_path: Path) -> None:
    report = check_dir(write_pack(tmp_path / "town", LIBRARY + BUS))
    assert report.findings == []
    assert [p.name for p in report.packs] == ["town"]


def test_sentences_no_topic_quotes_are_warnings_with_their_article_line(tmp_path: Path) -> None:
    report = check_dir(write_pack(tmp_path / "town", LIBRARY))
    found = [(f.level, f.check, Path(f.file).name, f.line) for f in report.findings]
    assert found == [("warning", "unreachable", "article.txt", 7),
                     ("warning", "unreachable", "article.txt", 9)]
    assert "bus fare" in report.findings[0].message


def test_topics_with_overlapping_terms_are_reported_as_a_confusable_pair(tmp_path: Path) -> None:
    transport = BUS.replace("command: bus", "command: transport").replace(
        "[bus, fare, buses, timetable]", "[bus, fare, transport]").replace(
        "      - quote: The council also cut the bus fare to one dollar.\n", "")
    bus = BUS.replace("      - quote: Buses will run every ten minutes from June.\n", "")
    report = check_dir(write_pack(tmp_path / "town", LIBRARY + bus + transport))
    pairs = [f for f in report.findings if f.check == "confusable"]
    assert len(pairs) == 1 and pairs[0].level == "warning"
    assert "/bus and /transport" in pairs[0].message
    assert "(bus, fare)" in pairs[0].message
    assert not report.errors


def test_every_quote_over_the_limit_is_an_error_with_its_line(tmp_path: Path) -> None:
    long_sentence = "The mayor said " + "very " * 60 + "much."
    article = ARTICLE + f"\n{long_sentence}\n\n{long_sentence.replace('much', 'more')}\n"
    topics = LIBRARY + BUS + f"""  - command: mayor
    description: The mayor
    facts:
      - quote: {long_sentence}
      - quote: {long_sentence.replace('much', 'more')}
"""
    report = check_dir(write_pack(tmp_path / "town", topics, article=article))
    errors = [(f.check, f.line) for f in report.errors]
    assert errors == [("quote_length", 20), ("quote_length", 21)]
    assert "the limit is 280" in report.errors[0].message


def test_a_description_over_the_platform_limit_is_an_error(tmp_path: Path) -> None:
    topics = LIBRARY.replace("The new library", "The new library " + "and more " * 12) + BUS
    report = check_dir(write_pack(tmp_path / "town", topics))
    assert [(f.check, f.line) for f in report.errors] == [("description_length", 5)]
    assert "Discord 100" in report.errors[0].message


def test_a_command_in_two_packs_is_an_error_naming_both_files(tmp_path: Path) -> None:
    write_pack(tmp_path / "a", LIBRARY + BUS)
    write_pack(tmp_path / "b", BUS)
    report = check_dir(tmp_path)
    assert [f.check for f in report.errors] == ["collision"]
    message = f"{report.errors[0].where()}: {report.errors[0].message}"
    assert str(tmp_path / "a" / "pack.yaml") in message
    assert str(tmp_path / "b" / "pack.yaml") in message


def test_todo_placeholders_are_warnings_and_pass(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    folder = write_pack(tmp_path / "town", LIBRARY + BUS)
    yaml_text = (folder / "pack.yaml").read_text(encoding="utf-8").replace(
        "outlet: Town Wire", 'outlet: "TODO: who published it"')
    (folder / "pack.yaml").write_text(yaml_text, encoding="utf-8")
    report = check_dir(folder)
    assert [(f.level, f.check) for f in report.findings] == [("warning", "todo")]
    assert main(["facts", "check", str(folder)]) == 0
    assert "warning:" in capsys.readouterr().out


def test_schema_errors_from_the_loader_are_errors_with_file_and_line(tmp_path: Path) -> None:
    broken = LIBRARY.replace("on Monday.", "on Tuesday.")
    report = check_dir(write_pack(tmp_path / "town", broken + BUS))
    assert [(f.check, f.line) for f in report.errors] == [("load", 8)]
    assert "not verbatim" in report.errors[0].message
    assert report.packs == []


def test_json_output_separates_errors_and_warnings_for_ci(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_pack(tmp_path / "ok", LIBRARY)  # warnings only
    assert main(["facts", "check", "--json", str(tmp_path / "ok")]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["ok"] is True and data["errors"] == []
    assert {w["check"] for w in data["warnings"]} == {"unreachable"}
    assert data["packs"][0]["topics"] == [{"command": "library", "facts": 3}]
    write_pack(tmp_path / "bad", LIBRARY + BUS + BUS)  # /bus twice
    assert main(["facts", "check", "--json", str(tmp_path / "bad")]) == 2
    data = json.loads(capsys.readouterr().out)
    assert data["ok"] is False
    assert data["errors"][0]["check"] == "load" and data["errors"][0]["line"]


def menu_pack(folder: Path, topics: int) -> Path:
    """A pack of ``topics`` topics; each repeats the same quotes under its own name."""
    many = "".join(BUS.replace("command: bus", f"command: bus{i}") for i in range(topics - 1))
    return write_pack(folder, many + LIBRARY)


def test_a_pack_a_platform_menu_would_cut_is_refused(tmp_path: Path) -> None:
    """The built-ins' count comes from the command table: one more topic than fits fails."""
    room = topic_room()
    assert room == PLATFORM_MAX_COMMANDS - len(menu_commands())
    fits = check_dir(menu_pack(tmp_path / "fits", room))
    assert "menu_size" not in {f.check for f in fits.errors}
    load_packs(tmp_path / "fits")
    report = check_dir(menu_pack(tmp_path / "over", room + 1))
    assert {f.check for f in report.errors} == {"menu_size"}
    assert f"{room + 1 + len(menu_commands())} menu commands" in report.errors[0].message
    with pytest.raises(PackError, match=f"{room + 1} topics in all"):
        load_packs(tmp_path / "over")


def test_the_shipped_and_curated_packs_check_clean(tmp_path: Path) -> None:
    """Clean but for the curated packs' quotes that open with a pronoun and have no context."""
    for folder in [ROOT / "facts" / "korea-malaysia", *sorted(PACKS.iterdir())]:
        shutil.copytree(folder, tmp_path / folder.name)
    report = check_dir(tmp_path)
    assert report.errors == []
    found = {(Path(f.file).parent.name, f.line, f.check) for f in report.warnings}
    assert found == {
        ("harbourside-redmoor", 65, "context"),  # "He has trained with the first team ..."
        ("harbourside-redmoor", 89, "context"),  # "He added that losing Whitcombe ..."
        ("larkspur-tern2", 31, "context"),  # "Its battery lasts 14 hours ..."
        ("larkspur-tern2", 33, "context"),  # "It is faster, it runs longer ..."
        ("larkspur-tern2", 48, "context"),  # "We spent three years on this machine."
        ("larkspur-tern2", 51, "context"),  # "I think it is the best thing ..."
        ("larkspur-tern2", 85, "context"),  # "He added that the robot's cameras ..."
    }
    assert len(report.packs) == 3


def test_the_shipped_pack_checks_clean(tmp_path: Path) -> None:
    report = check_dir(ROOT / "facts")
    assert report.errors == [] and report.warnings == []


# --- quotes that stand alone, speakers the article agrees with ---------------------------

PRONOUN_ARTICLE = ARTICLE + """
Mayor Ann Lake said the library plan was approved after a long debate.

“It will change the town,” she said.
"""
PRONOUN_TOPIC = LIBRARY + BUS + """  - command: mayor
    description: The mayor on the library
    keywords: [mayor, change]
    facts:
      - quote: Mayor Ann Lake said the library plan was approved after a long debate.
        speaker: Ann Lake
      - quote: It will change the town,
        speaker: Ann Lake
"""


def test_a_fact_opening_with_a_pronoun_and_no_context_is_a_warning(tmp_path: Path) -> None:
    folder = write_pack(tmp_path / "town", PRONOUN_TOPIC, article=PRONOUN_ARTICLE,
                        extra="speakers: {Ann Lake: Mayor}\n")
    report = check_dir(folder)
    [warning] = report.findings
    assert (warning.level, warning.check, warning.line) == ("warning", "context", 24)
    assert warning.where() == f"{folder / 'pack.yaml'}:24"
    assert "'It'" in warning.message and "context:" in warning.message
    with_context = PRONOUN_TOPIC.replace(
        "      - quote: It will change the town,\n",
        "      - quote: It will change the town,\n        context: the library plan\n")
    assert check_dir(write_pack(tmp_path / "town", with_context, article=PRONOUN_ARTICLE,
                                extra="speakers: {Ann Lake: Mayor}\n")).findings == []


@pytest.mark.parametrize(("quote", "pointer"), [
    ("It will mark a new momentum", "It"),
    ("He added as South Korea seeing growth", "He"),
    ("This importance comes greatly today", "This importance"),
    ("I think it will continue to bring positive impacts", "it"),
    ("As we work hand-in-hand on this particular front, I am sure", "this particular front"),
    ("Their fans came too.", "Their"),
    ("This year marks the 62nd year of relations.", None),
    ("I think the positive effects are not limited.", None),
    ("The Korean Wave was able to gain this much popularity.", None),
    ("Throughout his tenure, Lee highlighted the wave.", None),
    ("Such as it was, the plan held.", None),
])
def test_pointing_words_at_the_start_are_found(quote: str, pointer: str | None) -> None:
    assert dangling_reference(quote) == pointer


TWO_SPEAKERS = """HARBOURTOWN, June 2 (Quay Post) — The council met on Tuesday.

“We will build the bridge by 2027,” said Mayor Ann Lake.

“The budget for the bridge is tight,” Treasurer Bob Stone told the council.

Stone said the council would borrow the rest.
"""


def _speaker_pack(tmp_path: Path, budget_speaker: str, borrow_speaker: str) -> Path:
    folder = tmp_path / "bridge"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "article.txt").write_text(TWO_SPEAKERS, encoding="utf-8")
    (folder / "pack.yaml").write_text(f"""\
name: bridge
source: {{outlet: Quay Post, dateline: HARBOURTOWN, date: June 2}}
speakers:
  Ann Lake: Mayor
  Bob Stone: Treasurer
topics:
  - command: bridge
    description: The new bridge
    keywords: [bridge, budget, council]
    facts:
      - quote: The council met on Tuesday.
      - quote: We will build the bridge by 2027,
        speaker: Ann Lake
      - quote: The budget for the bridge is tight,
        speaker: {budget_speaker}
      - quote: Stone said the council would borrow the rest.
        speaker: {borrow_speaker}
""", encoding="utf-8")
    return folder


def test_a_quote_given_to_the_wrong_listed_speaker_is_a_warning(tmp_path: Path) -> None:
    report = check_dir(_speaker_pack(tmp_path, "Ann Lake", "Bob Stone"))
    assert [(f.level, f.check, f.line) for f in report.findings] == [("warning", "speaker", 14)]
    assert "'Ann Lake'" in report.findings[0].message
    assert "'Bob Stone'" in report.findings[0].message
    assert report.errors == []


def test_narration_given_to_the_wrong_speaker_is_a_warning(tmp_path: Path) -> None:
    report = check_dir(_speaker_pack(tmp_path, "Bob Stone", "Ann Lake"))
    assert [(f.check, f.line) for f in report.findings] == [("speaker", 16)]


def test_the_right_speakers_surname_alone_is_the_same_person(tmp_path: Path) -> None:
    assert check_dir(_speaker_pack(tmp_path, "Bob Stone", "Bob Stone")).findings == []


@pytest.mark.parametrize(("narration", "name"), [
    (", Lee told Bernama in conjunction with the day.", "Lee"),
    (", added Lee.", "Lee"),
    (" Harbourside manager Elena Marsh said.", "Elena Marsh"),
    ("Ingrid Solberg, Halvorsen's regional head of operations, said the pilot worked.",
     "Ingrid Solberg"),
    ("According to Mei Chen, the robot is fast.", "Mei Chen"),
    (", he said.", None),
    ("The company said it would hire.", None),
    ("No attribution at all here.", None),
])
def test_attributions_name_the_person_speaking(narration: str, name: str | None) -> None:
    assert attributed_name(narration) == name


def test_a_missing_directory_is_an_error(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["facts", "check", str(tmp_path / "nope")]) == 2
    assert "no such facts directory" in capsys.readouterr().out
