"""Throwaway PostgreSQL databases for the tests: one per run, emptied for each test."""

from __future__ import annotations

import asyncio
import secrets
import threading
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import asyncpg

T = TypeVar("T")


def run_aside(work: Callable[..., Awaitable[T]], *args: Any) -> T:
    """Run ``work(*args)`` to the end on an event loop of its own, in a thread of its own.

    A session fixture is set up from within a test's running loop, where asyncio.run
    cannot start another.
    """
    result: list[T] = []
    error: list[BaseException] = []

    def target() -> None:
        try:
            result.append(asyncio.run(work(*args)))  # type: ignore[arg-type]
        except BaseException as exc:  # handed to the caller, raised there
            error.append(exc)

    thread = threading.Thread(target=target, name="postgres fixture")
    thread.start()
    thread.join()
    if error:
        raise error[0]
    return result[0]


def database_url(url: str, name: str) -> str:
    """``url`` with its database replaced by ``name``."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


async def create_database(admin: str) -> str:
    """Create ``factbot_test_<random>`` through the admin URL's database; return its URL."""
    name = f"factbot_test_{secrets.token_hex(6)}"
    conn = await asyncpg.connect(admin, timeout=5)
    try:
        # A name from hex digits made here, never input: identifiers take no parameters.
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return database_url(admin, name)


async def drop_database(admin: str, url: str) -> None:
    name = urlsplit(url).path.lstrip("/")
    conn = await asyncpg.connect(admin, timeout=5)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


async def reset_database(url: str) -> None:
    """Empty the database: its public schema dropped and made again."""
    conn = await asyncpg.connect(url, timeout=5)
    try:
        await conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    finally:
        await conn.close()
