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
import typing
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from factbot.errors import ConfigError

log = logging.getLogger(__name__)


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


# "scheme://user:password@": the password runs to the LAST "@", as written, so that one
# holding "/", "#" or "?" (which end a URL's authority for urlsplit) is still found.
_URL_PASSWORD = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.\-]*://[^:/@\s]*:)(?P<password>[^\s]*)@")
_QUERY_PASSWORD = re.compile(r"(?i)([?&]password=)([^&#\s]*)")


def url_password(url: str) -> tuple[str, ...]:
    """The password forms in ``url`` (as written and percent-decoded), for masking logs."""
    from urllib.parse import unquote

    found = [m.group("password") for m in _URL_PASSWORD.finditer(url)]
    found += [m.group(2) for m in _QUERY_PASSWORD.finditer(url)]
    return tuple({form for raw in found if raw for form in (raw, unquote(raw))})


def redact_url(url: str) -> str:
    """``url`` with its password, if any, shown as ``***`` (in the user part or the query).

    Masked in the text as written: rebuilding the URL would change it (``postgres:///db``).
    """
    return _QUERY_PASSWORD.sub(r"\1***", _URL_PASSWORD.sub(r"\g<head>***@", url))


def secret_forms(settings: Settings) -> tuple[str, ...]:
    """Every form of every secret in ``settings``, for :func:`mask_secrets`."""
    urls = (settings.telegram.api_base_url, settings.telegram.webhook_url,
            settings.discord.api_base_url, settings.discord.gateway_url)
    # A password of a few letters would mask those letters in every line; factbot's own
    # messages show URLs with the password masked anyway.
    passwords = tuple(p for url in urls for p in url_password(str(url)) if len(p) >= 4)
    return (*token_forms(settings.telegram.token, "telegram"),
            *token_forms(settings.discord.token, "discord"),
            *token_forms(settings.telegram.webhook_secret), *token_forms(settings.salt),
            *token_forms(settings.dashboard.token), *passwords)


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


# --- declaring a setting ------------------------------------------------------------------
# Each field of the settings dataclasses is declared once, with all there is to know about
# it: its default, its meaning, what it takes and any older environment name. Environment
# variables, error messages, docs/operating.md's table and the tests all derive from it.

ENV_PREFIX = "FACTBOT_"
# Words for a text of a given shape (``form=``), said in errors and in the docs.
_FORMS = {
    "host:port": "HOST:PORT, like 127.0.0.1:9100",
    "http-url": "a URL starting with http:// or https://",
    "https-url": "a URL starting with https://",  # Telegram posts webhooks to https only
    "ws-url": "a URL starting with ws:// or wss://",
    "operators": "a list of platform:user-id names, like [telegram:12345, discord:6789]",
    # What the Bot API accepts as a webhook's secret_token.
    "webhook-secret": "1 to 256 letters, digits, _ or -",
}


def setting(default: Any = dataclasses.MISSING, doc: str = "", *,
            factory: Callable[[], Any] | None = None, shown: str = "", alias: str = "",
            minimum: float | None = None, maximum: float | None = None,
            choices: tuple[str, ...] = (), form: str = "", unit: str = "") -> Any:
    """Declare a settings field: its default, what it means and what values it takes.

    ``shown``: the default as the docs say it, where the value is computed at run time.
    ``alias``: an older environment variable for it that still works (TELEGRAM_BOT_TOKEN).
    ``minimum``, ``maximum``: bounds of a number, ``unit`` what it counts ("seconds");
    ``choices``: the words a text may be; ``form``: the shape of a text (a key of _FORMS).
    """
    if form and form not in _FORMS:
        raise ValueError(f"unknown setting form {form!r}")
    meta = {"doc": doc, "shown": shown, "alias": alias, "minimum": minimum,
            "maximum": maximum, "choices": choices, "form": form, "unit": unit}
    if factory is not None:
        return field(default_factory=factory, metadata=meta)
    return field(default=default, metadata=meta)


@dataclass(frozen=True, slots=True)
class TelegramSettings:
    token: Secret = setting(Secret(""), "the bot's token from @BotFather",
                            alias="TELEGRAM_BOT_TOKEN")
    api_base_url: str = setting(
        "", "a self-hosted Bot API server (python-telegram-bot's base_url; the token is "
        "appended), e.g. http://127.0.0.1:8081/bot", shown="api.telegram.org",
        alias="TELEGRAM_API_BASE_URL", form="http-url")
    webhook_url: str = setting("", "serve a webhook at this public URL instead of "
                               "long polling", shown="none: long polling", form="https-url")
    listen: str = setting("", "where the webhook listens", shown="0.0.0.0:8443",
                          form="host:port")
    webhook_secret: Secret = setting(Secret(""), "the secret Telegram sends with each "
                                     "webhook POST", shown="a fresh random one each start",
                                     form="webhook-secret")
    register_webhook: bool = setting(True, "call setWebhook at start-up (one process); false: "
                                     "a worker behind a proxy, which needs webhook_secret "
                                     "and `factbot telegram set-webhook` run once")
    concurrent_updates: int = setting(8, "updates handled at once", minimum=1, maximum=256)


@dataclass(frozen=True, slots=True)
class DiscordSettings:
    token: Secret = setting(Secret(""), "the bot's token from the Developer Portal",
                            alias="DISCORD_BOT_TOKEN")
    api_base_url: str = setting("", "another REST API base, e.g. http://127.0.0.1:PORT/api/v10",
                                shown="discord.com/api/v10", alias="DISCORD_API_BASE_URL",
                                form="http-url")
    gateway_url: str = setting("", "another gateway, e.g. ws://127.0.0.1:PORT/gateway/",
                               shown="Discord's gateway", alias="DISCORD_GATEWAY_URL",
                               form="ws-url")
    message_content: bool = setting(False, "answer @mentions as questions (needs the "
                                    "privileged Message Content intent)")
    shard_count: int = setting(0, "total shards; 0: one plain connection", minimum=0)
    shard_ids: tuple[int, ...] = setting((), "the shards this process runs (with shard_count)",
                                         shown="all", minimum=0)
    guild_id: int = setting(0, "sync the slash commands to this guild only (instant, for "
                            "testing); 0: globally", minimum=0)
    sync_commands: str = setting("auto", "sync the slash commands at start-up: auto (only the "
                                 "process running shard 0) or never (`factbot discord sync`)",
                                 choices=("auto", "never"))


@dataclass(frozen=True, slots=True)
class CooldownSettings:
    enabled: bool = setting(True, "limit how fast one person or one group can ask")
    user_per_minute: int = setting(6, "answers per person per minute in a group; 0: no limit",
                                   minimum=0)
    chat_per_minute: int = setting(20, "answers per group per minute; 0: no limit", minimum=0)


@dataclass(frozen=True, slots=True)
class DashboardSettings:
    token: Secret = setting(Secret(""), "the token `factbot dashboard` asks for; needed to "
                            "listen anywhere but 127.0.0.1", shown="none: local only")


@dataclass(frozen=True, slots=True)
class Settings:
    facts: Path = setting(doc="directory with the fact packs (one folder per pack)",
                          factory=default_facts, shown="the packs installed with factbot")
    db: Path | str | None = setting(None, "the state database file (rotation, daily facts, "
                                    "stats), or a postgresql:// URL",
                                    shown="factbot/factbot.db in the user's data directory "
                                    "($XDG_DATA_HOME or ~/.local/share)")
    threshold: float | None = setting(None, "minimum match score for free text; lower "
                                      "answers more, and risks more",
                                      shown="0.40 (calibrated)", minimum=0.0, maximum=1.0)
    log_level: str = setting("", "how much to log", shown="INFO for factbot run, WARNING "
                             "otherwise", choices=("DEBUG", "INFO", "WARNING", "ERROR"))
    log_format: str = setting("text", "text, or json: one JSON object per line",
                              choices=("text", "json"))
    metrics: str = setting("", "serve /healthz, /readyz and /metrics here",
                           shown="none", form="host:port")
    salt: Secret = setting(Secret(""), "the key for hashing user ids in the stored "
                           "questions", shown="a random one kept in the database")
    operators: tuple[str, ...] = setting((), "who may /reload from a chat (the console "
                                         "may)", shown="nobody", form="operators")
    telegram: TelegramSettings = field(default_factory=TelegramSettings)
    discord: DiscordSettings = field(default_factory=DiscordSettings)
    cooldown: CooldownSettings = field(default_factory=CooldownSettings)
    dashboard: DashboardSettings = field(default_factory=DashboardSettings)


@dataclass(frozen=True, slots=True)
class SettingInfo:
    """One setting as the config file, the environment and the docs know it."""

    key: str  # as in the config file: "telegram.listen"
    env: str  # FACTBOT_TELEGRAM_LISTEN
    alias: str  # an older variable that still works, or ""
    expected: str  # what it takes, in words
    default: str  # as the docs say it
    doc: str
    kind: Any  # the field's type
    field: dataclasses.Field[Any]


def _words(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else str(number)


def _expected(kind: Any, meta: Mapping[str, Any]) -> str:
    """What a field takes, in words: never a Python type."""
    low, high = meta.get("minimum"), meta.get("maximum")
    bounds = (f" from {_words(low)} to {_words(high)}" if low is not None and high is not None
              else f", {_words(low)} or more" if low is not None
              else f", at most {_words(high)}" if high is not None else "")
    of = f" of {meta['unit']}" if meta.get("unit") else ""  # "a number of seconds"
    if meta.get("form"):
        return _FORMS[meta["form"]]
    if meta.get("choices"):
        return "one of " + ", ".join(meta["choices"])
    if kind is bool:
        return "true or false"
    if kind is int:
        return f"a whole number{of}" + bounds
    if kind == tuple[int, ...]:
        return "a list of whole numbers" + bounds
    if kind in (float, float | None):
        return f"a number{of}" + bounds
    if kind in (Path, Path | None):
        return "a path"
    if kind == Path | str | None:
        return "a path, or a postgresql:// URL"
    if kind in (str, Secret):
        return "text"
    if kind == tuple[str, ...]:
        return "a list of names"
    raise TypeError(f"no words for a setting of type {kind}: add them to _expected")


def _default_words(value: Any, meta: Mapping[str, Any]) -> str:
    if meta.get("shown"):
        return str(meta["shown"])
    if isinstance(value, bool):
        return "true" if value else "false"
    if value in ("", (), None):
        return "none"
    return str(value)


@functools.cache
def settings_fields() -> tuple[SettingInfo, ...]:
    """Every setting, in the order of the dataclasses; its variable is
    ``FACTBOT_<SECTION>_<KEY>`` (``FACTBOT_<KEY>`` at the top), upper-cased."""
    infos: list[SettingInfo] = []

    def walk(cls: type, section: str) -> None:
        hints = typing.get_type_hints(cls)
        for f in dataclasses.fields(cls):
            kind = hints[f.name]
            if dataclasses.is_dataclass(kind):
                walk(kind, f"{section}{f.name}.")  # type: ignore[arg-type]  # a class
                continue
            key = f"{section}{f.name}"
            default = f.default if f.default is not dataclasses.MISSING else None
            infos.append(SettingInfo(
                key=key, env=ENV_PREFIX + key.replace(".", "_").upper(),
                alias=f.metadata.get("alias", ""), expected=_expected(kind, f.metadata),
                default=_default_words(default, f.metadata), doc=f.metadata.get("doc", ""),
                kind=kind, field=f))

    walk(Settings, "")
    return tuple(infos)


def settings_table() -> str:
    """The Markdown table of every setting in docs/operating.md, made from the dataclasses."""
    rows = ["| config key | environment variable | default | takes | meaning |",
            "|---|---|---|---|---|"]
    for info in settings_fields():
        env = f"`{info.env}`" + (f" or `{info.alias}`" if info.alias else "")
        rows.append(f"| `{info.key}` | {env} | {info.default} | {info.expected} | {info.doc} |")
    return "\n".join(rows) + "\n"


# --- reading values -----------------------------------------------------------------------


class _Invalid(ValueError):
    """A value a setting does not take."""


def _items(value: Any) -> list[Any]:
    """A list from a YAML list or from a text of items between commas or spaces."""
    if isinstance(value, str):
        return [v for v in value.replace(",", " ").split() if v]
    if isinstance(value, list | tuple):
        return list(value)
    raise _Invalid


def _number(value: Any, meta: Mapping[str, Any], whole: bool) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise _Invalid
    try:
        number: float = int(value) if whole and not isinstance(value, float) else float(value)
    except ValueError:
        raise _Invalid from None
    if whole and isinstance(value, float):
        raise _Invalid
    low, high = meta.get("minimum"), meta.get("maximum")
    # `not (a <= b)` rather than `a > b`: NaN is inside no bounds.
    if (low is not None and not low <= number) or (high is not None and not number <= high):
        raise _Invalid
    return number


def _text(value: Any, meta: Mapping[str, Any]) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise _Invalid
    text = str(value).strip()
    choices: tuple[str, ...] = meta.get("choices", ())
    if choices:
        match = [c for c in choices if c.lower() == text.lower()]
        if not match:
            raise _Invalid
        return match[0]
    form = meta.get("form", "")
    if form == "host:port":
        host, sep, port = text.rpartition(":")
        if not sep or not host or not port.isdigit() or int(port) > 65535:
            raise _Invalid
    elif form.endswith("-url"):
        from urllib.parse import urlsplit

        parts = urlsplit(text)
        schemes = {"http-url": ("http", "https"), "https-url": ("https",),
                   "ws-url": ("ws", "wss")}[form]
        if parts.scheme not in schemes or not parts.netloc:
            raise _Invalid
    elif form == "webhook-secret" and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", text):
        raise _Invalid
    return text


def _parse(value: Any, kind: Any, meta: Mapping[str, Any]) -> Any:
    """``value`` from YAML or the environment as a ``kind``; raises _Invalid."""
    if kind is Secret:
        return Secret(_text(value, meta))
    if kind is bool:
        if isinstance(value, bool):
            return value
        words = {"1": True, "true": True, "yes": True, "on": True,
                 "0": False, "false": False, "no": False, "off": False}
        if isinstance(value, int | str) and str(value).strip().lower() in words:
            return words[str(value).strip().lower()]
        raise _Invalid
    if kind is int:
        return int(_number(value, meta, whole=True))
    if kind == tuple[int, ...]:
        return tuple(int(_number(v, meta, whole=True)) for v in _items(value))
    if kind in (float, float | None):
        return _number(value, meta, whole=False)
    if kind in (Path, Path | None):
        if not isinstance(value, str):
            raise _Invalid
        return Path(value).expanduser()
    if kind == Path | str | None:  # db: a SQLite file, or a PostgreSQL URL as written
        if not isinstance(value, str):
            raise _Invalid
        # Kept as text: a Path would fold the URL's '//'.
        if value[:13].lower().startswith(("postgresql://", "postgres://")):
            return value
        return Path(value).expanduser()
    if kind == tuple[str, ...]:
        names = tuple(_text(v, {}) for v in _items(value))
        if meta.get("form") == "operators" and not all(
                re.fullmatch(r"[a-z]+:\S+", name) for name in names):
            raise _Invalid
        return names
    if kind is str:
        return _text(value, meta)
    raise _Invalid  # pragma: no cover - _expected refused the type already


def _show(value: Any) -> str:
    """A value as the user wrote it, short."""
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, Mapping):
        text = "a mapping"
    elif isinstance(value, list | tuple):
        text = "[" + ", ".join(_show(v) for v in value) + "]"
    else:
        text = repr(redact_url(value)) if isinstance(value, str) else str(value)
    return text if len(text) <= 60 else text[:59] + "…"


def _unknown(key: Any, here: Iterable[str], prefix: str) -> str:
    """Which key is unknown, a likely meant one, and the known ones."""
    import difflib

    name = f"{prefix}{key}"
    known = sorted(here)
    elsewhere = [info.key for info in settings_fields()
                 if info.key.rpartition(".")[2] == str(key) and info.key != name]
    close = difflib.get_close_matches(str(key), known, n=1)
    hint = (f"; did you mean {elsewhere[0]!r}?" if elsewhere
            else f"; did you mean {prefix + close[0]!r}?" if close else "")
    return f"unknown key {name!r}{hint} (known: {', '.join(known)})"


Locate = Callable[[str], str]


def _apply(obj: Any, values: Mapping[Any, Any], locate: Locate, prefix: str = "") -> Any:
    """``obj`` with ``values`` (a mapping from a config file) in it; errors name the key."""
    fields = {f.name: f for f in dataclasses.fields(obj)}
    hints = typing.get_type_hints(type(obj))
    changes: dict[str, Any] = {}
    for key, value in values.items():
        name = f"{prefix}{key}"
        if key not in fields:
            raise ConfigError(f"{locate(name)}: {_unknown(key, fields, prefix)}")
        current = getattr(obj, key)
        if dataclasses.is_dataclass(current):
            if value is None:  # a section with every key commented out
                continue
            if not isinstance(value, Mapping):
                raise ConfigError(f"{locate(name)}: {name} is {_show(value)}: expected a "
                                  f"mapping of its keys ({', '.join(_field_names(current))})")
            changes[key] = _apply(current, value, locate, f"{name}.")
            continue
        f = fields[key]
        if value is None or (isinstance(value, str) and not value.strip()):
            # Empty means the default: `key:` in YAML, or an empty variable.
            default = f.default_factory() if f.default_factory is not dataclasses.MISSING \
                else f.default
            changes[key] = default
            continue
        try:
            changes[key] = _parse(value, hints[key], f.metadata)
        except _Invalid:
            said = "is not valid" if hints[key] is Secret else f"is {_show(value)}"
            raise ConfigError(f"{locate(name)}: {name} {said}: expected "
                              f"{_expected(hints[key], f.metadata)}") from None
    return dataclasses.replace(obj, **changes)


def _field_names(obj: Any) -> list[str]:
    return [f.name for f in dataclasses.fields(obj)]


def _yaml_error(path: str, exc: Exception) -> ConfigError:
    """The parser's reason and line, in one line."""
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    line = f":{mark.line + 1}" if mark is not None else ""
    # As PyYAML says it, on one line: "while parsing a flow sequence, expected ',' or ']'".
    said = [getattr(exc, "context", None), getattr(exc, "problem", None)]
    reason = ", ".join(" ".join(str(s).split()) for s in said if s) or " ".join(str(exc).split())
    return ConfigError(f"{path}{line}: invalid YAML: {reason}")


def _read_config(path: str) -> tuple[Any, dict[str, int]]:
    """The config file's data, and the line of each key (dotted) in it."""
    import yaml  # only with a config file: the packs may come from the cache

    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the config file ({exc.strerror})") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: the config file is not UTF-8 text (byte {exc.start})"
                          ) from None
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        data = None if node is None else loader.construct_document(node)
    except yaml.YAMLError as exc:
        raise _yaml_error(path, exc) from None
    finally:
        loader.dispose()
    lines: dict[str, int] = {}

    def walk(node: Any, prefix: str) -> None:
        if not isinstance(node, yaml.MappingNode):
            return
        for key, value in node.value:
            name = f"{prefix}{key.value}"
            line = key.start_mark.line + 1
            if name in lines:  # PyYAML would quietly keep the last
                raise ConfigError(f"{path}:{line}: {name} is set twice (first on line "
                                  f"{lines[name]})")
            lines[name] = line
            walk(value, f"{name}.")

    walk(node, "")
    return data, lines


def _warn_unknown_variables(env: Mapping[str, str]) -> None:
    """Warn of a FACTBOT_ variable that looks like a misspelt setting's."""
    import difflib

    known = [info.env for info in settings_fields()]
    for name in env:
        if name.startswith(ENV_PREFIX) and name not in known and name != "FACTBOT_CONFIG":
            close = difflib.get_close_matches(name, known, n=1, cutoff=0.85)
            if close:
                log.warning("environment variable %s is not a factbot setting: did you mean "
                            "%s?", name, close[0])


def _variable(name: str) -> Locate:
    return lambda _key: f"environment variable {name}"


def load_settings(config: str | os.PathLike[str] | None = None,
                  environ: Mapping[str, str] | None = None,
                  overrides: Mapping[str, Any] | None = None) -> Settings:
    """Build the settings from defaults, a YAML file, the environment and flags."""
    env = os.environ if environ is None else environ
    settings = Settings()
    path = config or env.get("FACTBOT_CONFIG")
    if path:
        raw, lines = _read_config(str(path))
        if raw is None:
            raw = {}
        if not isinstance(raw, Mapping):
            raise ConfigError(f"{path}: the config file must be a mapping of keys, like "
                              f"factbot.example.yaml")
        settings = _apply(settings, raw,
                          lambda key: f"{path}:{lines[key]}" if key in lines else str(path))
    for info in settings_fields():
        given = [(name, env[name]) for name in (info.env, info.alias)
                 if name and env.get(name, "").strip()]
        if len({value for _, value in given}) > 1:
            raise ConfigError(f"environment variables {given[0][0]} and {given[1][0]} are "
                              f"both set, to different values: they are one setting "
                              f"({info.key}); unset one")
        if given:
            name, value = given[0]
            nested: dict[str, Any] = {}
            inner = nested
            *sections, last = info.key.split(".")
            for section in sections:
                inner = inner.setdefault(section, {})
            inner[last] = value
            settings = _apply(settings, nested, _variable(name))
    _warn_unknown_variables(env)
    if overrides:
        clean = {k: v for k, v in overrides.items() if v is not None}
        settings = _apply(settings, clean, lambda key: f"command line --{key}")
    return settings


def default_db_path() -> Path:
    """The state database when neither --db nor FACTBOT_DB names one.

    Raises a ConfigError naming FACTBOT_DB where it cannot be kept: no home directory (a
    service run as an arbitrary user id, with no HOME and no entry in /etc/passwd), or a
    read-only one (a hardened service), rather than failing later, deep in SQLite.
    """
    path = user_data_dir(os.environ, sys.platform) / "factbot" / "factbot.db"
    try:
        exists = path.exists()
        # The nearest folder that exists must take new files: the database's folders, or
        # SQLite's -wal and -shm files next to it.
        folder = next(p for p in (path.parent, *path.parent.parents) if p.exists())
        usable = (os.access(folder, os.W_OK | os.X_OK)
                  and (not exists or os.access(path, os.R_OK | os.W_OK)))
    except (OSError, StopIteration):
        folder, usable = path.parent, False
    if not usable:
        raise ConfigError(f"{path}: cannot keep the state database in its default place "
                          f"({folder} is not writable): set FACTBOT_DB to a writable file, "
                          f"or pass --db")
    return path


def _home() -> Path:
    try:
        home = Path.home()
    except (RuntimeError, KeyError, OSError):  # no HOME and no password entry for the uid
        home = Path()
    if not home.is_absolute():  # HOME="" would put the database in the working directory
        raise ConfigError("no home directory to keep the state database in (HOME is not set "
                          "and this user has none): set FACTBOT_DB to a writable file, or "
                          "pass --db")
    return home


def user_data_dir(env: Mapping[str, str], platform: str) -> Path:
    """Where a user's application data lives, as platformdirs has it (without its 1 MB)."""
    if platform == "win32":
        return Path(env.get("LOCALAPPDATA") or _home() / "AppData" / "Local")
    if platform == "darwin":
        return _home() / "Library" / "Application Support"
    xdg = env.get("XDG_DATA_HOME", "").strip()
    return Path(xdg) if xdg and Path(xdg).is_absolute() else _home() / ".local" / "share"
