"""The one exception root of factbot.

    FactbotError
    ├── ConfigError        bad settings file, key or value; missing token
    ├── PackError          a fact pack that does not validate (file, line, what)
    ├── StorageError       the database cannot be opened or used
    └── UnreachableError   a chat platform is down or answers nonsense at start-up

Every error carries a one-line message that names the file, key or argument.
The command line prints it and exits with the error's ``exit_status``: 2, or 75
(EX_TEMPFAIL: "try again later") for a platform or database unreachable now, so that a
service manager retries that one and not a broken config (deploy/factbot.service:
``RestartPreventExitStatus=2``). A clean stop (SIGTERM, end of input) is 0, Ctrl-C
(SIGINT) 130, as a shell has it; 1 is left for what factbot did not foresee (a bug),
whose traceback goes to the log.
"""

from __future__ import annotations

EXIT_USAGE = 2  # usage or configuration: retrying will not help (sysexits' EX_USAGE is 64)
EXIT_TEMPFAIL = 75  # EX_TEMPFAIL: unreachable now, try again later
EXIT_INTERRUPTED = 130  # 128 + SIGINT


class FactbotError(Exception):
    """Root of every error factbot raises on purpose."""

    exit_status = EXIT_USAGE


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

    exit_status = EXIT_TEMPFAIL
