"""/stats: what members ask most, and how many questions went unanswered."""

from __future__ import annotations

import logging

from factbot.commands import Access, Context, Menu, command
from factbot.messages import Reply
from factbot.render import render_info
from factbot.storage.base import BaseStore

log = logging.getLogger(__name__)


def _short(quote: str, limit: int = 60) -> str:
    return quote if len(quote) <= limit else quote[:limit - 1].rstrip() + "…"


class Stats:
    def __init__(self, store: BaseStore) -> None:
        self.store = store

    @command("stats", "Admins: most asked topics and unanswered questions",
             access=Access.ADMIN, menu=Menu.ADMINS)
    async def show(self, ctx: Context, args: str) -> Reply:
        t = ctx.t
        try:
            top = await self.store.top_topics(5)
            unmatched = await self.store.unmatched_total()
            wrong_total = await self.store.wrong_total()
            wrong = await self.store.wrong_answers(3)
        except Exception as exc:
            log.warning("could not read the statistics: %r", exc)
            return render_info(t("stats.unavailable"), t)
        lines = [t("stats.top")] if top else [t("stats.empty")]
        lines += [f"/{topic.topic} — {topic.count}" for topic in top]
        lines.append(t("stats.unanswered", count=unmatched)
                     + (f" {t('stats.more')}" if unmatched else ""))
        lines.append(t("stats.wrong", count=wrong_total))
        # Grouped by the fact shown: the curators fix that fact's keywords, or its topic's.
        lines += [t("stats.wrong_fact", count=w.count, topic=w.topic, quote=_short(w.quote))
                  for w in wrong]
        return render_info("\n".join(lines), t)
