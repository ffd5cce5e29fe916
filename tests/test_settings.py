"""Settings: every key has its variable, the example and the docs list them all, errors speak.

The settings dataclasses (bot/settings.py) are the one list: the environment variables,
factbot.example.yaml and docs/operating.md's table are checked against them both ways.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from factbot.errors import ConfigError
from factbot.settings import (
    Secret,
    SettingInfo,
    Settings,
    default_db_path,
    load_settings,
    settings_fields,
    settings_table,
)

from .conftest import ROOT

EXAMPLE = ROOT / "factbot.example.yaml"
OPERATING = ROOT / "docs" / "operating.md"
KEYS = [info.key for info in settings_fields()]
# The names that worked before the FACTBOT_<SECTION>_<KEY> rule, and must keep working.
LEGACY = {
    "TELEGRAM_BOT_TOKEN": "telegram.token", "TELEGRAM_API_BASE_URL": "telegram.api_base_url",
    "DISCORD_BOT_TOKEN": "discord.token", "DISCORD_API_BASE_URL": "discord.api_base_url",
    "DISCORD_GATEWAY_URL": "discord.gateway_url", "FACTBOT_FACTS": "facts", "FACTBOT_DB": "db",
    "FACTBOT_LOG_LEVEL": "log_level", "FACTBOT_LOG_FORMAT": "log_format",
    "FACTBOT_METRICS": "metrics", "FACTBOT_SALT": "salt", "FACTBOT_OPERATORS": "operators",
}
# Words an error must never show: the settings' Python types.
PYTHON_TYPES = re.compile(r"\b(float|int|str|bool|tuple|None|NoneType|Path|Secret)\b|\|")


def value_of(settings: Any, key: str) -> Any:
    for part in key.split("."):
        settings = getattr(settings, part)
    return settings


def info_of(key: str) -> SettingInfo:
    return next(info for info in settings_fields() if info.key == key)


def sample(info: SettingInfo, tmp_path: Path) -> str:
    """A valid value for the setting, as an environment variable, unlike its default."""
    meta = info.field.metadata
    default = value_of(Settings(), info.key)
    forms = {"host:port": "127.0.0.1:9100", "http-url": "http://127.0.0.1:8081/bot",
             "https-url": "https://bot.example.org/telegram",
             "ws-url": "ws://127.0.0.1:8080/gateway/", "webhook-secret": "s3cret_TOKEN-1",
             "operators": "telegram:1, discord:2"}
    if meta["form"]:
        return forms[meta["form"]]
    if meta["choices"]:
        return next(c for c in meta["choices"] if c != default)
    if info.kind is bool:
        return "false" if default else "true"
    if info.kind is int:
        return str(default + 1)
    if info.kind == tuple[int, ...]:
        return "0, 1"
    if info.kind == float | None:
        return "0.5"
    if info.kind in (Path, Path | None, Path | str | None):  # db: a path, or a URL
        return str(tmp_path / "somewhere")
    assert info.kind in (str, Secret), f"{info.key}: no sample for its type"
    return "some-text"


# --- every setting has its variable --------------------------------------------------------


def test_each_variable_is_factbot_section_key_upper_cased() -> None:
    for info in settings_fields():
        assert info.env == "FACTBOT_" + info.key.replace(".", "_").upper()
    names = [info.env for info in settings_fields()] + [i.alias for i in settings_fields()
                                                        if i.alias]
    assert len(names) == len(set(names)), "two settings share a variable"
    for name in ("FACTBOT_TELEGRAM_WEBHOOK_URL", "FACTBOT_TELEGRAM_LISTEN",
                 "FACTBOT_TELEGRAM_WEBHOOK_SECRET", "FACTBOT_TELEGRAM_CONCURRENT_UPDATES",
                 "FACTBOT_DISCORD_MESSAGE_CONTENT", "FACTBOT_DISCORD_SHARD_COUNT",
                 "FACTBOT_DISCORD_SHARD_IDS", "FACTBOT_DISCORD_GUILD_ID",
                 "FACTBOT_COOLDOWN_ENABLED", "FACTBOT_COOLDOWN_USER_PER_MINUTE",
                 "FACTBOT_THRESHOLD"):
        assert name in names


@pytest.mark.parametrize("key", KEYS)
def test_every_setting_is_set_by_its_environment_variable(key: str, tmp_path: Path) -> None:
    info = info_of(key)
    value = sample(info, tmp_path)
    settings = load_settings(environ={info.env: value})
    assert value_of(settings, key) != value_of(Settings(), key)
    if info.alias:
        assert load_settings(environ={info.alias: value}) == settings


@pytest.mark.parametrize(("name", "key"), LEGACY.items())
def test_the_old_variable_names_still_work(name: str, key: str, tmp_path: Path) -> None:
    value = sample(info_of(key), tmp_path)
    assert value_of(load_settings(environ={name: value}), key) != value_of(Settings(), key)


def test_variables_win_over_the_file_and_flags_over_both(tmp_path: Path) -> None:
    config = tmp_path / "factbot.yaml"
    config.write_text("threshold: 0.2\nfacts: ./from-file\ncooldown:\n  user_per_minute: 3\n")
    settings = load_settings(config, environ={"FACTBOT_THRESHOLD": "0.3",
                                              "FACTBOT_FACTS": "./from-env"},
                             overrides={"facts": "./from-flag"})
    assert settings.threshold == 0.3
    assert settings.facts == Path("./from-flag")
    assert settings.cooldown.user_per_minute == 3


def test_variables_take_lists_and_words_as_a_shell_writes_them() -> None:
    settings = load_settings(environ={"FACTBOT_DISCORD_SHARD_IDS": "0,2 3",
                                      "FACTBOT_OPERATORS": "telegram:1, discord:2",
                                      "FACTBOT_COOLDOWN_ENABLED": "off",
                                      "FACTBOT_LOG_LEVEL": "debug",
                                      "FACTBOT_DISCORD_MESSAGE_CONTENT": "1"})
    assert settings.discord.shard_ids == (0, 2, 3)
    assert settings.operators == ("telegram:1", "discord:2")
    assert settings.cooldown.enabled is False
    assert settings.log_level == "DEBUG"
    assert settings.discord.message_content is True


def test_an_empty_variable_or_key_means_the_default(tmp_path: Path) -> None:
    config = tmp_path / "factbot.yaml"
    config.write_text("threshold:\nlog_format: ''\ntelegram:\ncooldown:\n  enabled:\n")
    assert load_settings(config, environ={"FACTBOT_THRESHOLD": "",
                                          "TELEGRAM_BOT_TOKEN": " "}) == Settings()


def test_an_old_and_a_new_name_set_differently_is_an_error_without_the_values() -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(environ={"TELEGRAM_BOT_TOKEN": "111:first-secret-value",
                               "FACTBOT_TELEGRAM_TOKEN": "222:second-secret-value"})
    message = str(info.value)
    assert "FACTBOT_TELEGRAM_TOKEN" in message and "TELEGRAM_BOT_TOKEN" in message
    assert "secret-value" not in message
    same = load_settings(environ={"TELEGRAM_BOT_TOKEN": "1:x", "FACTBOT_TELEGRAM_TOKEN": "1:x"})
    assert same.telegram.token.reveal() == "1:x"


def test_a_misspelt_variable_is_warned_about(caplog: pytest.LogCaptureFixture) -> None:
    load_settings(environ={"FACTBOT_TELEGRAM_WEBHOK_URL": "https://x.org/t",
                           "FACTBOT_HYPOTHESIS": "long"})
    [record] = caplog.records
    assert record.getMessage() == ("environment variable FACTBOT_TELEGRAM_WEBHOK_URL is not "
                                   "a factbot setting: did you mean "
                                   "FACTBOT_TELEGRAM_WEBHOOK_URL?")


# --- the example file and the docs list every setting ---------------------------------------


def _keys(data: Any, prefix: str = "") -> set[str]:
    keys: set[str] = set()
    for key, value in data.items():
        if isinstance(value, dict) or (value is None and f"{prefix}{key}" not in KEYS):
            keys |= _keys(value or {}, f"{prefix}{key}.")
        else:
            keys.add(f"{prefix}{key}")
    return keys


def _uncommented(text: str) -> str:
    """The example with every commented-out ``# key: value`` line made live."""
    return re.sub(r"^(\s*)# ([a-z_]+:(?: .*)?)$", r"\1\2", text, flags=re.MULTILINE)


def test_the_example_config_documents_every_setting_and_only_settings() -> None:
    documented = _keys(yaml.safe_load(_uncommented(EXAMPLE.read_text(encoding="utf-8"))))
    assert sorted(set(KEYS) - documented) == [], "settings missing from factbot.example.yaml"
    assert sorted(documented - set(KEYS)) == [], "keys in factbot.example.yaml no setting has"


def test_the_example_loads_with_its_examples_and_its_live_keys_are_the_defaults(
        tmp_path: Path) -> None:
    assert load_settings(EXAMPLE, environ={}) == Settings()
    copy = tmp_path / "factbot.yaml"
    copy.write_text(_uncommented(EXAMPLE.read_text(encoding="utf-8")), encoding="utf-8")
    settings = load_settings(copy, environ={})
    assert settings.telegram.listen == "0.0.0.0:8443"
    assert settings.discord.shard_ids == (0, 1)


def test_the_docs_table_is_the_one_the_settings_make() -> None:
    text = OPERATING.read_text(encoding="utf-8")
    assert settings_table() in text, (
        "docs/operating.md's settings table is out of date; print the new one with\n"
        "  .venv/bin/python -c 'from factbot.settings import settings_table as t; "
        "print(t(), end=\"\")'")


def test_the_documented_threshold_default_is_the_routers() -> None:
    from factbot.router import THRESHOLD

    assert f"{THRESHOLD:.2f}" in info_of("threshold").default


# --- errors say what was expected, in words -------------------------------------------------


def _error(tmp_path: Path, text: str, environ: dict[str, str] | None = None) -> str:
    config = tmp_path / "factbot.yaml"
    config.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_settings(config, environ=environ or {})
    message = str(info.value)
    assert len(message.splitlines()) == 1
    return message.replace(str(config), "factbot.yaml")


@pytest.mark.parametrize(("text", "message"), [
    ("cooldown:\n  user_per_minute: lots\n",
     "factbot.yaml:2: cooldown.user_per_minute is 'lots': expected a whole number, 0 or more"),
    ("cooldown:\n  user_per_minute: 6.5\n",
     "factbot.yaml:2: cooldown.user_per_minute is 6.5: expected a whole number, 0 or more"),
    ("threshold: 2\n", "factbot.yaml:1: threshold is 2: expected a number from 0 to 1"),
    ("cooldown:\n  enabled: maybe\n",
     "factbot.yaml:2: cooldown.enabled is 'maybe': expected true or false"),
    ("# a comment\ntelegram:\n  listen: 8443\n",
     "factbot.yaml:3: telegram.listen is 8443: expected HOST:PORT, like 127.0.0.1:9100"),
    ("discord:\n  shard_ids: [0, x]\n",
     "factbot.yaml:2: discord.shard_ids is [0, 'x']: expected a list of whole numbers, 0 or "
     "more"),
    ("operators: 12345\n", "factbot.yaml:1: operators is 12345: expected a list of "
     "platform:user-id names, like [telegram:12345, discord:6789]"),
    ("log_level: loud\n",
     "factbot.yaml:1: log_level is 'loud': expected one of DEBUG, INFO, WARNING, ERROR"),
    ("telegram:\n  webhook_url: http://bot.example.org/tg\n",
     "factbot.yaml:2: telegram.webhook_url is 'http://bot.example.org/tg': expected a URL "
     "starting with https://"),
    ("telegram: yes\n", "factbot.yaml:1: telegram is true: expected a mapping of its keys "
     "(token, api_base_url, webhook_url, listen, webhook_secret, register_webhook, "
     "concurrent_updates)"),
    ("colour: blue\n", "factbot.yaml:1: unknown key 'colour' (known: cooldown, dashboard, db, "
     "discord, facts, log_format, log_level, metrics, operators, salt, telegram, threshold)"),
    ("telegram:\n  webhok_url: https://x.org/t\n",
     "factbot.yaml:2: unknown key 'telegram.webhok_url'; did you mean 'telegram.webhook_url'? "
     "(known: api_base_url, concurrent_updates, listen, register_webhook, token, "
     "webhook_secret, webhook_url)"),
    ("token: abc\n", "factbot.yaml:1: unknown key 'token'; did you mean 'telegram.token'? "
     "(known: cooldown, dashboard, db, discord, facts, log_format, log_level, metrics, "
     "operators, salt, telegram, threshold)"),
    ("telegram:\n  listen: 1.2.3.4:5\ntelegram:\n  token: x\n",
     "factbot.yaml:3: telegram is set twice (first on line 1)"),
    ("facts: [1, 2\n", "factbot.yaml:2: invalid YAML: while parsing a flow sequence, expected "
     "',' or ']', but got '<stream end>'"),
    ("\tfacts: x\n", "factbot.yaml:1: invalid YAML: while scanning for the next token, found "
     "character '\\t' that cannot start any token"),
    ("- a list\n", "factbot.yaml: the config file must be a mapping of keys, like "
     "factbot.example.yaml"),
])
def test_a_config_error_names_the_file_line_key_and_what_was_expected(
        tmp_path: Path, text: str, message: str) -> None:
    assert _error(tmp_path, text) == message


@pytest.mark.parametrize("key", KEYS)
def test_no_error_shows_a_python_type(key: str, tmp_path: Path) -> None:
    *sections, last = key.split(".")
    indent = "  " * len(sections)
    text = "".join(f"{'  ' * i}{s}:\n" for i, s in enumerate(sections))
    message = _error(tmp_path, f"{text}{indent}{last}: {{a: 1}}\n")
    expected = info_of(key).expected
    assert message.startswith(f"factbot.yaml:{len(sections) + 1}: {key} ")
    assert message.endswith(f": expected {expected}")
    assert not PYTHON_TYPES.search(expected), expected


def test_an_environment_error_names_the_variable() -> None:
    with pytest.raises(ConfigError, match=r"^environment variable FACTBOT_DISCORD_GUILD_ID: "
                       r"discord.guild_id is 'abc': expected a whole number, 0 or more$"):
        load_settings(environ={"FACTBOT_DISCORD_GUILD_ID": "abc"})
    with pytest.raises(ConfigError, match=r"^environment variable DISCORD_GATEWAY_URL: "):
        load_settings(environ={"DISCORD_GATEWAY_URL": "http://127.0.0.1:1/gateway"})


def test_a_secret_is_never_shown_in_an_error(tmp_path: Path) -> None:
    message = _error(tmp_path, "telegram:\n  webhook_secret: 'not a valid secret!'\n")
    assert message == ("factbot.yaml:2: telegram.webhook_secret is not valid: expected 1 to "
                       "256 letters, digits, _ or -")
    assert "not a valid" not in _error(tmp_path, "discord:\n  token: [not, a, valid, one]\n")


# --- the default database ------------------------------------------------------------------


def test_with_no_home_the_default_database_says_to_set_factbot_db(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """An arbitrary user id with no HOME: Path.home() fails; before, a 40-line traceback."""
    def no_home() -> Path:
        raise RuntimeError("Could not determine home directory.")

    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    monkeypatch.delenv("HOME", raising=False)
    monkeypatch.setattr(Path, "home", staticmethod(no_home))
    with pytest.raises(ConfigError, match="set FACTBOT_DB to a writable file, or pass --db"):
        default_db_path()
    monkeypatch.setenv("HOME", "")  # relative: it would land in the working directory
    monkeypatch.setattr(Path, "home", staticmethod(lambda: Path("")))
    with pytest.raises(ConfigError, match="no home directory"):
        default_db_path()


def test_the_default_database_needs_a_writable_folder(monkeypatch: pytest.MonkeyPatch,
                                                      tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert default_db_path() == tmp_path / "factbot" / "factbot.db"
    import os

    monkeypatch.setattr(os, "access", lambda path, mode: Path(path) != tmp_path)
    with pytest.raises(ConfigError) as info:
        default_db_path()
    assert str(info.value) == (
        f"{tmp_path / 'factbot' / 'factbot.db'}: cannot keep the state database in its "
        f"default place ({tmp_path} is not writable): set FACTBOT_DB to a writable file, "
        f"or pass --db")


def test_a_number_with_a_unit_says_so() -> None:
    """For the settings to come: a timeout is "a number of seconds", never "float"."""
    from factbot.settings import _expected

    assert _expected(float, {"unit": "seconds", "minimum": 0}) == \
        "a number of seconds, 0 or more"
    assert _expected(int, {"unit": "days", "minimum": 1, "maximum": 365}) == \
        "a whole number of days from 1 to 365"
