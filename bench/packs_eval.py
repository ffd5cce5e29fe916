"""Accuracy per pack: the draft of `factbot facts new` as generated, and after curation.

For each curated pack (tests/data/packs/*, plus the hand-written facts/korea-malaysia)
this drafts a pack again from its article.txt, then runs the pack's evaluation set
(tests/data/eval_<pack>.jsonl) through bot.evaluate on:

- the draft, alone. Its topics have machine names, so each expected topic is
  translated to the draft topic holding most of the curated topic's quotes;
- the curated pack, alone;
- the curated pack with every other pack loaded too (what a bot with several
  packs sees: shared words such as "price" or "cost" now have two owners);
- the curated pack on tests/data/heldout_<pack>.jsonl, questions written after the
  last curation and never used to tune anything.

Run: .venv/bin/python bench/packs_eval.py [--errors]
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from factbot import commands
from factbot.app import build_bot
from factbot.authoring import draft, render_yaml
from factbot.core import FactBot
from factbot.evaluate import Case, Report, evaluate, load_cases
from factbot.packs import FactPack, load_pack
from factbot.settings import Settings
from factbot.text import normalise_quote

ROOT = Path(__file__).resolve().parent.parent
CURATED = [ROOT / "facts" / "korea-malaysia",
           *sorted((ROOT / "tests" / "data" / "packs").iterdir())]


def bot_for(packs: Sequence[FactPack]) -> FactBot:
    """A bot on these packs, as `factbot` builds it, without the cooldown."""
    return build_bot(Settings(), packs=packs, cooldown=False)


def _key(text: str) -> str:
    return normalise_quote(text).casefold().strip(" .,;:!?\"'")


def _translate(cases: list[Case], curated: FactPack, drafted: FactPack) -> list[Case]:
    """Expected curated topics -> the draft topic that holds most of their quotes."""
    where: dict[str, str] = {}
    for topic in curated.topics:
        votes: Counter[str] = Counter()
        for fact in topic.facts:
            q = _key(fact.quote)
            for candidate in drafted.topics:
                if any(q in _key(f.quote) or _key(f.quote) in q for f in candidate.facts):
                    votes[candidate.command] += 1
        if votes:
            where[topic.command] = votes.most_common(1)[0][0]
    out = []
    for case in cases:
        if case.topic is None or case.topic in commands.names():
            out.append(case)
        else:
            # A question naming a curated command ("/goals") cannot find a draft that lacks it:
            # that counts against the draft, as it would for a user.
            out.append(Case(case.text, where.get(case.topic, case.topic)))
    return out


def _cell(report: Report) -> str:
    return (f"{report.accuracy:.1%} ({report.on_correct}/{report.on_total}) / "
            f"{report.rejection:.1%} ({report.off_correct}/{report.off_total})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--errors", action="store_true", help="list every miss")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    packs = [load_pack(folder) for folder in CURATED]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for folder, pack in zip(CURATED, packs, strict=True):
            eval_file = ROOT / "tests" / "data" / f"eval_{pack.name.replace('-', '_')}.jsonl"
            cases = load_cases(eval_file)
            out = Path(tmp) / pack.name
            out.mkdir()
            article = (folder / "article.txt").read_text(encoding="utf-8")
            (out / "article.txt").write_text(article, encoding="utf-8")
            (out / "pack.yaml").write_text(render_yaml(draft(article, pack.name)),
                                           encoding="utf-8")
            drafted = load_pack(out)
            results = {
                "draft": evaluate(bot_for([drafted]), _translate(cases, pack, drafted)),
                "curated": evaluate(bot_for([pack]), cases),
                "all packs": evaluate(bot_for(packs), cases),
            }
            heldout = eval_file.with_name(eval_file.name.replace("eval_", "heldout_"))
            if heldout.is_file():
                results["held-out"] = evaluate(bot_for([pack]), load_cases(heldout))
            rows.append((pack, drafted, len(cases), results))
            if args.errors:
                for label, report in results.items():
                    for miss in report.misses:
                        print(f"{pack.name} [{label}] miss: {miss}")
    print("accuracy = on-topic top-1 accuracy; rejection = off-topic questions answered "
          "\"I don't know\"\n")
    print("| pack | questions | draft topics | draft: accuracy / rejection | curated topics "
          "| curated: accuracy / rejection | curated, all packs loaded | curated, held-out set |")
    print("|---|---|---|---|---|---|---|---|")
    for pack, drafted, n, results in rows:
        held = _cell(results["held-out"]) if "held-out" in results else "—"
        print(f"| {pack.name} | {n} | {len(drafted.topics)} | {_cell(results['draft'])} | "
              f"{len(pack.topics)} | {_cell(results['curated'])} | "
              f"{_cell(results['all packs'])} | {held} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
