"""Draft a fact pack from an article: ``factbot facts new ARTICLE.txt --name NAME``.

The draft is built only from text cut out of the article, so every quote is
verbatim by construction. Steps, a module each:

1. ``article``: the paragraphs, and the header (title, byline, dateline, date,
   outlet) and credit line around the body: metadata, never facts.
2. ``sentences``: the body's paragraphs into whole sentences and quotations, and
   who says each one, read by ``speakers`` (names, titles, roles, attributions).
3. ``drafting``: the sentences into topics, each with a command, a description
   and keywords; ``draft`` runs all three steps.
4. ``writer``: the draft as the ``pack.yaml`` a curator edits.

Reading and writing files is the command line's (``factbot.cli_facts``). The modules
share their underscore helpers within this package; the names below are its interface.
"""

from factbot.authoring.article import MAX_ARTICLE_BYTES, Header, Paragraph, paragraphs, read_header
from factbot.authoring.drafting import (
    MAX_DRAFT_FACTS,
    MAX_DRAFT_SPEAKERS,
    Draft,
    TopicDraft,
    draft,
    suggest_topics,
)
from factbot.authoring.sentences import Sentence, split_article
from factbot.authoring.speakers import speaker_role, speaker_roles
from factbot.authoring.writer import render_yaml

__all__ = [
    "MAX_ARTICLE_BYTES",
    "MAX_DRAFT_FACTS",
    "MAX_DRAFT_SPEAKERS",
    "Draft",
    "Header",
    "Paragraph",
    "Sentence",
    "TopicDraft",
    "draft",
    "paragraphs",
    "read_header",
    "render_yaml",
    "speaker_role",
    "speaker_roles",
    "split_article",
    "suggest_topics",
]
