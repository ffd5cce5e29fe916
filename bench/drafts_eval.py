"""Answer quality of `factbot facts new` drafts, as generated, with no edit at all.

For each article in tests/data/articles (and the default pack's article) that has a
fact-labelled question set, this drafts a pack into a temporary folder, loads it and
runs the set through bot.evaluate: on-topic top-1, off-topic rejection and the share
of facts shown that were wrong. A line labelled only with a curated command ("/hallyu")
counts against a draft, which cannot know that name: so would it for a user.

It also prints who each drafted quote is credited to, so that a person can check that
no quote is signed with the wrong name (the sets do not label speakers).

Run: .venv/bin/python bench/drafts_eval.py [--errors] [--speakers]
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from factbot.app import build_bot
from factbot.authoring import draft, render_yaml
from factbot.core import FactBot
from factbot.evaluate import evaluate, load_cases
from factbot.packs import FactPack, load_pack
from factbot.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
# (article, pack name, question sets). "frozen_" sets were written blind and never tuned on.
PAIRS = [
    (ROOT / "facts" / "korea-malaysia" / "article.txt", "korea-malaysia",
     ["dev_korea_malaysia.jsonl", "frozen_korea_malaysia.jsonl"]),
    (DATA / "articles" / "wikinews_canada_document.txt", "wikinews-canada-document",
     ["dev_wikinews_canada_document.jsonl"]),
    (DATA / "articles" / "wikinews_brown_remarks.txt", "wikinews-brown-remarks",
     ["dev_wikinews_brown_remarks.jsonl"]),
    (DATA / "articles" / "wikinews_uk_asylum.txt", "wikinews-uk-asylum",
     ["frozen_wikinews_uk_asylum.jsonl"]),
]


def bot_for(packs: Sequence[FactPack]) -> FactBot:
    """A bot on these packs, as `factbot` builds it, without the cooldown."""
    return build_bot(Settings(), packs=packs, cooldown=False)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--errors", action="store_true", help="list every miss, by class")
    parser.add_argument("--speakers", action="store_true", help="print each credited quote")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    print("| article | set | facts | speakers | top-1 | rejection | wrong facts shown |")
    print("|---|---|---|---|---|---|---|")
    notes: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        for article, name, sets in PAIRS:
            text = article.read_text(encoding="utf-8")
            folder = Path(tmp) / name
            folder.mkdir()
            (folder / "article.txt").write_text(text, encoding="utf-8")
            (folder / "pack.yaml").write_text(render_yaml(draft(text, name)), encoding="utf-8")
            pack = load_pack(folder)
            facts = sum(len(t.facts) for t in pack.topics)
            credited = {f.quote: f.speaker for t in pack.topics for f in t.facts if f.speaker}
            for set_name in sets:
                report = evaluate(bot_for([pack]), load_cases(DATA / set_name))
                print(f"| {name} | {set_name} | {facts} | {len(pack.speakers)} | "
                      f"{report.accuracy:.1%} ({report.on_correct}/{report.on_total}) | "
                      f"{report.rejection:.1%} ({report.off_correct}/{report.off_total}) | "
                      f"{report.wrong_share:.1%} ({report.shown_wrong}/{report.shown}) |")
                if args.errors:
                    notes += [f"{name} {set_name}", *report.category_lines(),
                              *report.error_lines()]
            if args.speakers:
                notes.append(f"{name}: speakers {pack.speakers}")
                notes += [f"  {speaker}: {quote[:90]}" for quote, speaker in credited.items()]
    for line in notes:
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
