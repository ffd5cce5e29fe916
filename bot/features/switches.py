"""/topics: the topic list, and topics (or a whole pack) turned on or off per chat."""

from __future__ import annotations

import logging

from factbot.commands import Access, Context, Option, command
from factbot.messages import Reply, ReplyKind
from factbot.render import render_info, render_topics
from factbot.storage.base import BaseStore

log = logging.getLogger(__name__)


def switching(args: str) -> bool:
    """``/topics off NAME`` / ``/topics on NAME``: a change; anything else lists the topics."""
    words = args.split()
    return len(words) == 2 and words[0].casefold() in ("on", "off")


class TopicSwitches:
    def __init__(self, store: BaseStore) -> None:
        self.store = store  # the packs come with each message (Context.catalogue)

    @command("topics", "List every topic", changes=Access.ADMIN, changing=switching,
             bare=True, kind=ReplyKind.TOPICS,
             phrases=("topics", "topic", "subjects", "subject", "menu", "list", "what can you",
                      "what can i ask", "what do you know", "what do you know about",
                      "what else", "what can you do", "what do you cover",
                      "what can you answer", "can you answer", "what kind of things",
                      "senarai", "topik", "boleh tanya apa", "nak tanya apa", "주제", "목록",
                      "물어볼 수", "뭘 물어", "뭐 물어", "무엇을 물어"),
             options=(Option("action", "Admins: turn a topic on or off in this channel",
                             choices=("on", "off")),
                      Option("topic", "The topic to turn on or off", kind="topic")))
    async def topics(self, ctx: Context, args: str) -> Reply:
        catalogue = ctx.catalogue
        if not switching(args):
            return render_topics(catalogue.packs, catalogue.enabled(ctx.settings), ctx.t)
        action, name = (w.casefold() for w in args.split())
        enabled = action == "on"
        pack = next((p for p in catalogue.packs if p.name == name
                     and catalogue.topic(name) is None), None)
        if pack is not None:
            commands = [t.command for t in pack.topics]
            try:
                for topic in commands:
                    await self.store.set_topic_enabled(ctx.chat, topic, enabled)
            except Exception:
                log.exception("could not save a pack setting")
                return render_info(ctx.t("not_saved"), ctx.t)
            return render_info(ctx.t(f"switches.pack_{action}", pack=pack.name,
                                     count=len(commands)), ctx.t)
        found = catalogue.matcher.resolve_command(name.lstrip("/"))
        if found is None or found[0].topic is None or found[1] < 1.0:
            return render_info(ctx.t("switches.usage"), ctx.t)
        topic = found[0].topic.command
        try:
            await self.store.set_topic_enabled(ctx.chat, topic, enabled)
        except Exception as exc:
            log.warning("could not save a topic setting: %r", exc)
            return render_info(ctx.t("not_saved"), ctx.t)
        return render_info(ctx.t(f"switches.topic_{action}", topic=topic), ctx.t)
