"""State behind a small async interface: rotation, settings, usage, unmatched questions."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from factbot.storage.base import BaseStore, ChatKey
from factbot.storage.memory import MemoryStore

if TYPE_CHECKING:
    from factbot.settings import Settings

__all__ = ["BaseStore", "ChatKey", "MemoryStore", "db_location", "describe_location",
           "is_postgres_url", "make_store"]

_URL_SCHEMES = ("postgresql://", "postgres://")


def is_postgres_url(db: object) -> bool:
    """Whether ``db`` names a PostgreSQL database rather than a SQLite file."""
    return isinstance(db, str) and db[:13].lower().startswith(_URL_SCHEMES)


def db_location(db: str | os.PathLike[str] | None, settings: Settings) -> str | Path:
    """Where the state lives: ``--db``, else FACTBOT_DB or the config's ``db`` (both in
    settings), else the default file. A ``postgresql://`` URL is returned as it is, anything
    else is a SQLite path."""
    chosen: str | os.PathLike[str] | None = db or settings.db
    if chosen is None or chosen == "":
        from factbot.settings import default_db_path

        return default_db_path()
    if is_postgres_url(chosen):
        return str(chosen)
    return Path(chosen).expanduser()


def make_store(db: str | os.PathLike[str] | None, settings: Settings, *,
               create: bool = True, exclusive: bool = False,
               read_only: bool = False) -> BaseStore:
    """The store for ``db`` (see db_location), not yet open: ``async with make_store(…)``.

    PostgreSQL for a ``postgresql://`` URL, SQLite otherwise (the default: no server).
    ``create=False``: a SQLite file that does not exist is an error, not a new database.
    ``exclusive=True`` (the bot: run, chat, ask with a database): a SQLite file another
    process holds so is refused in one line; PostgreSQL needs no such lock.
    ``read_only=True`` (the dashboard): a SQLite file is read as it is, beside the bot that
    holds it, never migrated or written; PostgreSQL takes it as a normal connection.
    """
    where = db_location(db, settings)
    if isinstance(where, str):
        from factbot.storage.postgres import PostgresStore

        return PostgresStore(where)
    from factbot.storage.sqlite import SqliteStore

    if read_only:
        return SqliteStore(where, create=False, read_only=True)
    return SqliteStore(where, create=create, exclusive=exclusive)


def describe_location(where: str | Path) -> str:
    """``where`` (from db_location) for a log line: its kind and schema, a password masked."""
    if isinstance(where, str):
        from factbot.storage import postgres

        return (f"{postgres.redact_url(where)} (PostgreSQL, schema version "
                f"{postgres.SCHEMA_VERSION})")
    from factbot.storage import sqlite

    return f"{where} (SQLite, schema version {sqlite.SCHEMA_VERSION})"
