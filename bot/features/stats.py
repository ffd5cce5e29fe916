"""/stats: what members ask most, and how many questions went unanswered."""

from __future__ import annotations

import logging

from factbot.commands import Access, Context, Menu, command
from factbot.messages import Reply
from factbot.render import render_info
from factbot.storage.base import BaseStore

log = logging.getLogger(__name__)


class Stats:
    def __init__(self, store: BaseStore) -> None:
        self.store = store

    @command("stats", "Admins: most asked topics and unanswered questions",
             access=Access.ADMIN, menu=Menu.ADMINS)
    async def show(self, ctx: Context, args: str) -> Reply:
        try:
            top = await self.store.top_topics(5)
            unmatched = await self.store.unmatched_total()
        except Exception as exc:
            log.warning("could not read the statistics: %r", exc)
            return render_info("Statistics are not available just now.")
        lines = ["Most asked topics:"] if top else ["No topic has been asked yet."]
        lines += [f"/{t.topic} — {t.count}" for t in top]
        lines.append(f"Unanswered questions kept: {unmatched}"
                     + (" (`factbot stats` lists them)" if unmatched else ""))
        return render_info("\n".join(lines))
