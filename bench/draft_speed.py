"""How long `factbot facts new` takes to draft a long article, and how that grows.

Drafts generated wire-style articles (narration, quotations with and without attribution,
colon lead-ins, named people with titles, section headings) of growing size, up to the
1 MB limit `facts new` accepts, and prints seconds per size and the growth exponent
between sizes (1.0 is linear). Nothing here is a test; the machine is shared and noisy.

Run: .venv/bin/python bench/draft_speed.py [--sizes 100000,250000,500000,1000000]
"""

from __future__ import annotations

import argparse
import math
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from factbot.authoring import MAX_ARTICLE_BYTES, draft, render_yaml  # noqa: E402 - after sys.path

_ROLES = ("Harbour Minister", "council leader", "Port Director", "union spokesman",
          "Transport Secretary", "economist", "spokeswoman")
_GIVEN = ("Ana", "Tom", "Helen", "Sami", "Mei", "Arjun", "Ingrid", "Gareth", "Laura", "Owen")
_FAMILY = ("Ruiz", "Reyes", "Okafor", "Haddad", "Chen", "Nair", "Solberg", "Pryce", "Finch",
           "Hartley", "Marsh", "Doyle", "Lindqvist", "Moreau", "Tanaka", "Kowalski", "Osei",
           "Brennan", "Varga", "Castillo")
# 200 people, as a long report quotes many: per-person work must not multiply the length.
_PEOPLE = [(_ROLES[n % len(_ROLES)], f"{g} {f}") for n, (g, f) in
           enumerate((g, f) for g in _GIVEN for f in _FAMILY)]
_NOUNS = ("ferry", "harbour", "budget", "bridge", "timetable", "crossing", "fare", "union",
          "strike", "council", "report", "inspection", "contract", "terminal", "island",
          "school", "hospital", "road", "station", "festival", "market", "library")
_VERBS = ("approved", "delayed", "reviewed", "cancelled", "extended", "inspected", "funded",
          "criticised", "welcomed", "rebuilt", "closed", "reopened")
_PLACES = ("Port Ellen", "Kestrel Sound", "Quay Road", "Larkspur Bay", "North Point")


def _sentence(rng: random.Random) -> str:
    a, b, c = rng.sample(_NOUNS, 3)
    return (f"The {a} {rng.choice(_VERBS)} the {b} plan for {rng.choice(_PLACES)} after "
            f"{rng.randint(2, 90)} days of talks about the {c}.")


def article(size: int, seed: int = 7) -> str:
    """A wire-style article of about ``size`` characters."""
    rng = random.Random(seed)
    parts = ["Ferry talks go on as the island waits", "", "Tuesday, March 5, 2024", ""]
    length = sum(len(p) + 1 for p in parts)
    n = 0
    while length < size:
        n += 1
        role, name = rng.choice(_PEOPLE)
        kind = n % 6
        if kind == 0:
            para = f"{role} {name} said the {rng.choice(_NOUNS)} was late. {_sentence(rng)}"
        elif kind == 1:
            para = f"“{_sentence(rng)} {_sentence(rng)}” {name.split()[-1]} told reporters."
        elif kind == 2:
            para = f"{name} said: “{_sentence(rng)}”"
        elif kind == 3:
            para = f"{_sentence(rng)} {_sentence(rng)} {_sentence(rng)}"
        elif kind == 4:
            para = (f"“{_sentence(rng)}” she said, but refused to comment on the "
                    f"{rng.choice(_NOUNS)}.")
        else:
            para = f"Talks on the {rng.choice(_NOUNS)}" if n % 12 == 5 else _sentence(rng)
        parts += [para, ""]
        length += len(para) + 2
    return "\n".join(parts)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=f"100000,250000,500000,{MAX_ARTICLE_BYTES}",
                        help="article sizes in characters, comma-separated")
    args = parser.parse_args()
    previous: tuple[int, float] | None = None
    print("| article | facts | topics | draft + YAML | growth |")
    print("|---|---|---|---|---|")
    for size in (int(s) for s in args.sizes.split(",")):
        text = article(size)
        while len(text.encode("utf-8")) > MAX_ARTICLE_BYTES:
            text = text[:text.rindex("\n\n")]
        started = time.perf_counter()
        d = draft(text, "speed")
        render_yaml(d)
        seconds = time.perf_counter() - started
        facts = sum(len(t.sentences) for t in d.topics)
        growth = ""
        if previous:
            growth = f"n^{math.log(seconds / previous[1]) / math.log(size / previous[0]):.2f}"
        print(f"| {len(text.encode('utf-8')):,} bytes | {facts:,} | {len(d.topics)} | "
              f"{seconds:.2f} s | {growth} |")
        previous = (size, seconds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
