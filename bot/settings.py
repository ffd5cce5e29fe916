"""One typed settings object, read at the entry point and nowhere else.

Sources, later ones winning: built-in defaults, the YAML file named by
``--config`` or ``FACTBOT_CONFIG``, environment variables, command-line flags.
Tokens come from the environment or the file and are never printed: their
``repr`` is masked, and ``mask_secrets`` takes them out of error lines and log
records in whatever letter case a server echoed them.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import os
import re
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from factbot.errors import ConfigError


def default_facts() -> Path:
    """The packs installed with factbot: the package data ``factbot.facts``, on disk.

    This is the directory ``importlib.resources.files("factbot.facts")`` names, in a wheel
    and in each editable mode, read from the package's import spec: importing
    importlib.resources would cost every start 9 ms (bench/matcher.py, start-up).
    """
    from importlib.util import find_spec

    spec = find_spec("factbot.facts")
    locations = list(spec.submodule_search_locations or ()) if spec is not None else []
    if not locations:
        raise ConfigError("factbot's default packs (factbot/facts) are not installed; "
                          "pass --facts DIR or set FACTBOT_FACTS")
    return Path(locations[0])


class Secret(str):  # immutable, so safe as a dataclass default
    """A string that never shows itself in logs, errors or reprs."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "Secret('***')" if self else "Secret('')"

    def __str__(self) -> str:
        return "***" if self else ""

    def reveal(self) -> str:
        return str.__str__(self)


MASK = "<token>"
# A token's secret part shorter than this is no real token's: masking it would garble
# ordinary words in every line and protect nothing.
_MIN_PART = 8


def token_forms(token: str, kind: str = "") -> tuple[str, ...]:
    """The forms of a token that must never be shown: the whole and its secret part.

    A Telegram token is ``BOT_ID:SECRET``; a URL-encoded colon (``%3A``) leaves only the
    secret part to find. A Discord token is ``USER_ID.TIME.HMAC``: the HMAC is the secret.
    """
    whole = str.__str__(token)
    if not whole:
        return ()
    part = ""
    if kind == "telegram":
        part = whole.partition(":")[2]
    elif kind == "discord":
        part = whole.rpartition(".")[2]
    return (whole, part) if len(part) >= _MIN_PART and part != whole else (whole,)


def secret_forms(settings: Settings) -> tuple[str, ...]:
    """Every form of every secret in ``settings``, for :func:`mask_secrets`."""
    return (*token_forms(settings.telegram.token, "telegram"),
            *token_forms(settings.discord.token, "discord"),
            *token_forms(settings.telegram.webhook_secret), *token_forms(settings.salt))


@functools.lru_cache(maxsize=16)
def _secret_pattern(forms: tuple[str, ...]) -> re.Pattern[str] | None:
    unique = sorted({str.__str__(f) for f in forms if f}, key=len, reverse=True)
    if not unique:
        return None
    return re.compile("|".join(re.escape(f) for f in unique), re.IGNORECASE)


def mask_secrets(text: str, forms: Iterable[str]) -> str:
    """``text`` with every form of a secret replaced by ``<token>``, in any letter case.

    Any case, because servers and libraries change it: python-telegram-bot capitalises an
    API error's description, which lower-cases a token the server echoed in it.
    """
    pattern = _secret_pattern(tuple(forms))
    return text if pattern is None else pattern.sub(MASK, text)


def _mask_record(record: logging.LogRecord, forms: tuple[str, ...]) -> None:
    try:
        message = record.getMessage()
    except Exception:  # a malformed record: the handler reports it; nothing to mask
        return
    masked = mask_secrets(message, forms)
    if masked != message:
        record.msg, record.args = masked, None
    if record.exc_info and record.exc_info[1] is not None:
        text = logging.Formatter().formatException(record.exc_info)
        masked = mask_secrets(text, forms)
        if masked != text:  # an exception's message may hold the token (InvalidToken's does)
            record.exc_text = masked
    if record.stack_info:
        record.stack_info = mask_secrets(record.stack_info, forms)


def mask_log_records(forms: Iterable[str]) -> Callable[[], None]:
    """Mask the secrets in every log record from now on; returns the undo.

    A record factory sees records from every logger, including ones created later
    (python-telegram-bot logs its full base URL at DEBUG), and it only runs for
    records that will be emitted.
    """
    frozen = tuple(forms)
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        _mask_record(record, frozen)
        return record

    logging.setLogRecordFactory(factory)

    def undo() -> None:
        if logging.getLogRecordFactory() is factory:
            logging.setLogRecordFactory(previous)

    return undo


@dataclass(frozen=True, slots=True)
class TelegramSettings:
    token: Secret = Secret("")
    api_base_url: str = ""  # python-telegram-bot base_url, e.g. http://127.0.0.1:8081/bot
    webhook_url: str = ""
    listen: str = ""  # HOST:PORT for webhook mode
    webhook_secret: Secret = Secret("")
    concurrent_updates: int = 8


@dataclass(frozen=True, slots=True)
class DiscordSettings:
    token: Secret = Secret("")
    api_base_url: str = ""  # e.g. http://127.0.0.1:PORT/api/v10
    gateway_url: str = ""  # e.g. ws://127.0.0.1:PORT/gateway/
    message_content: bool = False  # privileged intent: answer mentions as free text
    shard_count: int = 0  # 0: let discord.py decide with a plain Client
    shard_ids: tuple[int, ...] = ()
    guild_id: int = 0  # sync commands to one guild (fast, for testing)


@dataclass(frozen=True, slots=True)
class CooldownSettings:
    enabled: bool = True
    user_per_minute: int = 6
    chat_per_minute: int = 20


@dataclass(frozen=True, slots=True)
class Settings:
    facts: Path = field(default_factory=default_facts)
    # None: the default file in the user's data directory; a postgresql:// URL stays text.
    db: Path | str | None = None
    threshold: float | None = None  # None: the calibrated default in bot.router
    log_level: str = ""  # empty: INFO for `factbot run`, WARNING for the quiet commands
    log_format: str = "text"  # or "json": one JSON object per line
    metrics: str = ""  # HOST:PORT of /healthz, /readyz and /metrics; empty: none
    salt: Secret = Secret("")
    # Who may /reload from a chat, as "platform:user id" ("telegram:12345"); the console may.
    operators: tuple[str, ...] = ()
    telegram: TelegramSettings = field(default_factory=TelegramSettings)
    discord: DiscordSettings = field(default_factory=DiscordSettings)
    cooldown: CooldownSettings = field(default_factory=CooldownSettings)


_ENV: dict[str, tuple[str, ...]] = {
    "FACTBOT_FACTS": ("facts",),
    "FACTBOT_DB": ("db",),
    "FACTBOT_LOG_LEVEL": ("log_level",),
    "FACTBOT_LOG_FORMAT": ("log_format",),
    "FACTBOT_METRICS": ("metrics",),
    "FACTBOT_SALT": ("salt",),
    "FACTBOT_OPERATORS": ("operators",),
    "TELEGRAM_BOT_TOKEN": ("telegram", "token"),
    "TELEGRAM_API_BASE_URL": ("telegram", "api_base_url"),
    "DISCORD_BOT_TOKEN": ("discord", "token"),
    "DISCORD_API_BASE_URL": ("discord", "api_base_url"),
    "DISCORD_GATEWAY_URL": ("discord", "gateway_url"),
}


def _is_url(text: str) -> bool:
    """A postgresql:// URL: kept as text, as a Path would fold its '//'."""
    return text[:13].lower().startswith(("postgresql://", "postgres://"))


def _coerce(value: Any, kind: Any, key: str, where: str) -> Any:
    kind_name = getattr(kind, "__name__", str(kind))
    try:
        if kind in (Path, "Path"):
            return Path(str(value)).expanduser()
        if kind in ("Path | None",):
            return None if value in (None, "") else Path(str(value)).expanduser()
        if kind in ("Path | str | None",):  # db: a SQLite file, or a PostgreSQL URL as written
            if value in (None, ""):
                return None
            text = str(value)
            return text if _is_url(text) else Path(text).expanduser()
        if kind in (Secret, "Secret"):
            return Secret("" if value is None else str(value))
        if kind in (bool, "bool"):
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text in ("1", "true", "yes", "on"):
                return True
            if text in ("0", "false", "no", "off", ""):
                return False
            raise ValueError(value)
        if kind in (int, "int"):
            if isinstance(value, bool):
                raise ValueError(value)
            number = int(value)
            if number < 0:
                raise ValueError(value)
            return number
        if kind in ("float | None",):
            if value in (None, ""):
                return None
            ratio = float(value)
            if not 0.0 <= ratio <= 1.0:
                raise ValueError(value)
            return ratio
        if kind in (str, "str"):
            if not isinstance(value, str | int | float):
                raise ValueError(value)
            return str(value)
        if kind in ("tuple[str, ...]",):
            if isinstance(value, str):
                value = [v for v in value.replace(",", " ").split() if v]
            if not isinstance(value, list | tuple) or not all(
                    isinstance(v, str | int) and ":" in str(v) for v in value):
                raise ValueError(value)
            return tuple(str(v).strip() for v in value)
        if kind in ("tuple[int, ...]",):
            if isinstance(value, str):
                value = [v for v in value.replace(",", " ").split() if v]
            if not isinstance(value, list | tuple):
                raise ValueError(value)
            return tuple(_coerce(v, int, key, where) for v in value)
    except (TypeError, ValueError):
        raise ConfigError(f"{where}: {key} has an invalid value (expected {kind_name})") from None
    raise ConfigError(f"{where}: {key} has an unsupported type")  # pragma: no cover


def _apply(obj: Any, values: Mapping[str, Any], where: str, prefix: str = "") -> Any:
    fields = {f.name: f for f in dataclasses.fields(obj)}
    changes: dict[str, Any] = {}
    for key, value in values.items():
        name = f"{prefix}{key}"
        if key not in fields:
            known = ", ".join(sorted(fields))
            raise ConfigError(f"{where}: unknown key {name!r} (known: {known})")
        current = getattr(obj, key)
        if dataclasses.is_dataclass(current):
            if not isinstance(value, Mapping):
                raise ConfigError(f"{where}: {name} must be a mapping")
            changes[key] = _apply(current, value, where, f"{name}.")
        else:
            changes[key] = _coerce(value, fields[key].type, name, where)
    return dataclasses.replace(obj, **changes)


def load_settings(config: str | os.PathLike[str] | None = None,
                  environ: Mapping[str, str] | None = None,
                  overrides: Mapping[str, Any] | None = None) -> Settings:
    """Build the settings from defaults, a YAML file, the environment and flags."""
    env = os.environ if environ is None else environ
    settings = Settings()
    path = config or env.get("FACTBOT_CONFIG")
    if path:
        import yaml  # only with a config file: the packs may come from the cache

        try:
            raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
        except OSError as exc:
            raise ConfigError(f"{path}: cannot read the config file ({exc.strerror})") from None
        except UnicodeDecodeError as exc:
            raise ConfigError(f"{path}: the config file is not UTF-8 text (byte {exc.start})"
                              ) from None
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = f":{mark.line + 1}" if mark else ""
            raise ConfigError(f"{path}{line}: invalid YAML") from None
        if raw is None:
            raw = {}
        if not isinstance(raw, Mapping):
            raise ConfigError(f"{path}: the config file must be a mapping of keys")
        settings = _apply(settings, raw, str(path))
    for name, keys in _ENV.items():
        if env.get(name):
            nested: dict[str, Any] = {keys[-1]: env[name]}
            for key in reversed(keys[:-1]):
                nested = {key: nested}
            settings = _apply(settings, nested, f"environment variable {name}")
    if overrides:
        clean = {k: v for k, v in overrides.items() if v is not None}
        settings = _apply(settings, clean, "command line")
    return settings


def default_db_path() -> Path:
    return user_data_dir(os.environ, sys.platform) / "factbot" / "factbot.db"


def user_data_dir(env: Mapping[str, str], platform: str) -> Path:
    """Where a user's application data lives, as platformdirs has it (without its 1 MB)."""
    if platform == "win32":
        return Path(env.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    if platform == "darwin":
        return Path.home() / "Library" / "Application Support"
    xdg = env.get("XDG_DATA_HOME", "").strip()
    return Path(xdg) if xdg and Path(xdg).is_absolute() else Path.home() / ".local" / "share"
