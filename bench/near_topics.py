"""How well "Did you mean" suggests topics, for questions the bot does not answer.

For every free-text question of the given sets that the default pack's bot answers with
"I don't know", this prints, at several NEAR cut-offs, how many get suggestions at all, and
for those whose label names a topic, how many suggestions include it. factbot.core.NEAR is
the cut-off the bot uses. Suggestions are never shown as answers, so a suggestion for an
unanswerable question costs a line of text, not a wrong fact.

Run: .venv/bin/python bench/near_topics.py [SET.jsonl ...]
(default: the tuning sets tests/data/{dev,eval,unseen,unseen2,blind}_korea_malaysia.jsonl)
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from factbot import commands  # noqa: E402 - after the path set-up
from factbot.core import NEAR  # noqa: E402
from factbot.matcher import Matcher  # noqa: E402
from factbot.packs import load_packs  # noqa: E402
from factbot.render import MAX_NEAR  # noqa: E402
from factbot.router import decide  # noqa: E402

TUNING = [ROOT / "tests/data" / f"{name}_korea_malaysia.jsonl"
          for name in ("dev", "eval", "unseen", "unseen2", "blind")]
CUTS = (0.15, 0.2, NEAR, 0.3, 0.35)


def near(matcher: Matcher, text: str, cut: float) -> list[str]:
    """What FactBot._near suggests at ``cut``, every topic enabled."""
    found: list[str] = []
    for candidate in matcher.rank(text, limit=12):
        topic = candidate.intent.topic
        if candidate.score < cut or len(found) == MAX_NEAR:
            break
        if topic is not None and topic.command not in found:
            found.append(topic.command)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sets", nargs="*", type=Path, default=TUNING)
    args = parser.parse_args()
    matcher = Matcher(load_packs(ROOT / "facts"))
    builtins = commands.names()
    counts: Counter[tuple[float, str]] = Counter()
    for path in args.sets:
        for line in path.read_text(encoding="utf-8").splitlines():
            case = json.loads(line)
            text, want = case["text"], case.get("topic")
            if text.startswith("/") or want in builtins or decide(matcher, text).intent:
                continue
            kind = "topic" if want else "none"
            counts[(0.0, kind)] += 1
            for cut in CUTS:
                shown = near(matcher, text, cut)
                counts[(cut, f"{kind} suggested")] += bool(shown)
                counts[(cut, "right")] += bool(shown) and want in shown
    print(f"unanswered: {counts[(0.0, 'topic')]} with a topic in their label, "
          f"{counts[(0.0, 'none')]} the article cannot answer")
    print("cut-off  labelled: suggested  incl. right topic   unanswerable: suggested")
    for cut in CUTS:
        mark = "  <- NEAR" if cut == NEAR else ""
        print(f"  {cut:.2f}   {counts[(cut, 'topic suggested')]:>17}  {counts[(cut, 'right')]:>17}"
              f"   {counts[(cut, 'none suggested')]:>22}{mark}")


if __name__ == "__main__":
    main()
