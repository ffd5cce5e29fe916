"""The one exception root of factbot.

    FactbotError
    ├── ConfigError        bad settings file, key or value; missing token
    ├── PackError          a fact pack that does not validate (file, line, what)
    ├── StorageError       the database cannot be opened or used
    └── UnreachableError   a chat platform is down or answers nonsense at start-up

Every error carries a one-line message that names the file, key or argument.
The command line prints it and exits with the error's ``exit_status``: 2, or 75
(EX_TEMPFAIL: "try again later") for an unreachable platform, so that a service
manager retries that one and not a broken config.
"""

from __future__ import annotations


class FactbotError(Exception):
    """Root of every error factbot raises on purpose."""

    exit_status = 2


class ConfigError(FactbotError):
    """Settings are missing, malformed or out of bounds."""


# A problem longer than this is cut: it is one line of a log, a terminal or a chat reply.
MAX_PROBLEM = 500


class PackError(FactbotError):
    """A fact pack failed validation."""

    def __init__(self, path: str, line: int | None, problem: str) -> None:
        problem = " ".join(problem.splitlines())  # one line, whatever a parser said
        if len(problem) > MAX_PROBLEM:
            problem = problem[:MAX_PROBLEM - 1] + "…"
        self.path = path
        self.line = line
        self.problem = problem
        where = f"{path}:{line}" if line else path
        super().__init__(f"{where}: {problem}")


class StorageError(FactbotError):
    """The state database cannot be opened or written."""


class UnreachableError(FactbotError):
    """A platform's API is unreachable, fails (5xx) or sends garbage: retry later."""

    exit_status = 75
