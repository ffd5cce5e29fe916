"""``log_format: json``: one JSON object per log line, for a log collector to read.

Each line holds ``time`` (ISO 8601, UTC), ``level``, ``logger`` and ``message``, and
``exc_info`` (the traceback, as a string) when the record has one. Secrets are masked
before a record reaches any formatter (``mask_log_records`` in factbot.settings), so
JSON lines hide them exactly as text lines do.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any


class JsonFormatter(logging.Formatter):
    """A log record as one line of JSON."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(
                timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        # exc_text first: the masking put the traceback there when it held a secret.
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exc_info"] = record.exc_text
        if record.stack_info:
            entry["stack_info"] = self.formatStack(record.stack_info)
        # ASCII only: a lone surrogate in a message cannot break the line on its way out.
        return json.dumps(entry)


def json_line(level: int, logger: str, message: str) -> str:
    """One JSON log line made here, for what must show whatever the log level."""
    return JsonFormatter().format(logging.LogRecord(logger, level, "", 0, message, None, None))


def json_handler() -> logging.Handler:
    """A handler writing JSON lines to stderr."""
    out = logging.StreamHandler()
    out.setFormatter(JsonFormatter())
    return out
