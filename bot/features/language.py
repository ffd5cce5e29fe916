"""/language: the chat's language, for members whose own language factbot cannot tell."""

from __future__ import annotations

import logging

from factbot.commands import Access, Context, Menu, Option, command
from factbot.i18n import LANGUAGES, strings
from factbot.messages import Reply
from factbot.render import render_info
from factbot.storage.base import BaseStore

log = logging.getLogger(__name__)
AUTO = "auto"


class ChatLanguage:
    def __init__(self, store: BaseStore) -> None:
        self.store = store

    @command("language", "Admins: the language I answer in here", changes=Access.ADMIN,
             changes_with_args=True, menu=Menu.ADMINS, private=True,
             options=(Option("language", "en, ms, ko or auto", required=True,
                             choices=(*LANGUAGES, AUTO)),))
    async def configure(self, ctx: Context, args: str) -> Reply:
        """Say the chat's language, or let an admin set it (``auto``: none of its own)."""
        t = ctx.t
        words = args.casefold().split()
        if not words:
            current = ctx.settings.language
            name = strings(current)("language.name") if current else AUTO
            return render_info(t("language.current", language=name, usage=t("language.usage")),
                               t)
        if len(words) != 1 or words[0] not in (*LANGUAGES, AUTO):
            return render_info(t("language.usage"), t)
        chosen = None if words[0] == AUTO else words[0]
        try:
            await self.store.set_language(ctx.chat, chosen)
        except Exception as exc:  # the store logs its own failures, once
            log.warning("could not save the chat's language: %r", exc)
            return render_info(t("not_saved"), t)
        if chosen is None:
            return render_info(t("language.auto"), t)
        said = strings(chosen)  # confirmed in the language just chosen
        return render_info(said("language.set"), said)
