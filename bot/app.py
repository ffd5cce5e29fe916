"""The composition root: one place that turns settings and a store into a running FactBot.

The console, ``factbot run``, ``factbot discord sync``, the benches and the tests all build
their bot here, so none of them can forget a setting (operators, salt, cooldown).
"""

from __future__ import annotations

from collections.abc import Sequence

from factbot.core import FactBot
from factbot.packcache import load_cached
from factbot.packs import FactPack
from factbot.router import THRESHOLD
from factbot.settings import Settings
from factbot.storage import BaseStore

# The person at the terminal of `factbot chat` started the process: they run the bot.
CONSOLE_OPERATOR = "console:console"


def build_bot(settings: Settings, store: BaseStore | None = None, *,
              packs: Sequence[FactPack] | None = None, cooldown: bool = True,
              console: bool = False) -> FactBot:
    """A bot on ``settings``: its packs (``settings.facts`` unless given), store and limits.

    ``cooldown`` False: one person at a shell (``factbot ask``) is not a flood.
    ``console`` True: the terminal's user is an operator (may /reload).
    """
    operators = tuple(settings.operators) + ((CONSOLE_OPERATOR,) if console else ())
    from_settings = packs is None  # then /reload reads settings.facts again
    index = None
    if packs is None:
        packs, index = load_cached(settings.facts)
    return FactBot(
        packs, store, index=index,
        threshold=settings.threshold if settings.threshold is not None else THRESHOLD,
        salt=settings.salt.reveal() if settings.salt else "",
        cooldown=settings.cooldown if cooldown else None,
        facts_dir=settings.facts if from_settings else None,
        operators=operators)
