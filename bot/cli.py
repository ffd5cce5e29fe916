"""The ``factbot`` command line: wire settings, packs, store and adapters in one place."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import signal
import sys
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from factbot import __version__
from factbot.errors import EXIT_INTERRUPTED, ConfigError, FactbotError
from factbot.settings import Settings, load_settings, mask_log_records, mask_secrets, secret_forms

if TYPE_CHECKING:  # each command imports what it needs, when it runs: start-up stays fast
    from factbot.core import FactBot
    from factbot.messages import Reply
    from factbot.storage import BaseStore

log = logging.getLogger(__name__)
EXIT_USAGE = 2
PACK_QUESTIONS = "questions.jsonl"  # a pack's own labelled questions, for `factbot eval`
LANG_HELP = ("the language you read factbot's own words in: en, ms or ko (default: the "
             "terminal's, from LC_ALL, LC_MESSAGES or LANG; else that of each question)")


def _language(value: str) -> str:
    from factbot.i18n import LANGUAGES

    if value not in LANGUAGES:
        raise argparse.ArgumentTypeError(f"{value!r}: one of {', '.join(LANGUAGES)}")
    return value


def _terminal_language() -> str | None:
    """The terminal's language as a platform would give a member's ("ko_KR.UTF-8": ko)."""
    from factbot.i18n import supported

    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(name)
        if value:
            return supported(value.split(".")[0])
    return None


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:  # one line and status 2, like every other error
        self.exit(EXIT_USAGE, f"factbot: error: {message} (see factbot --help)\n")


def build_parser() -> argparse.ArgumentParser:
    # SUPPRESS: a flag given before the subcommand is not reset by the subcommand's default.
    common = _Parser(add_help=False, argument_default=argparse.SUPPRESS)
    common.add_argument("--config", help="YAML settings file (or FACTBOT_CONFIG)")
    common.add_argument("--facts", help="facts directory with the packs (or FACTBOT_FACTS)")

    parser = _Parser(prog="factbot", description="Answer with verbatim, cited quotes.",
                     parents=[common])
    parser.add_argument("--version", action="version", version=f"factbot {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    chat = sub.add_parser("chat", parents=[common], help="talk to the bot in this terminal")
    chat.add_argument("--db", help="state database (or FACTBOT_DB)")
    chat.add_argument("--lang", type=_language, default=_terminal_language(),
                      help=LANG_HELP)

    ask = sub.add_parser("ask", parents=[common], help="print the reply to one message")
    ask.add_argument("text", nargs="*", help="the message")
    ask.add_argument("--chat", help="keep this chat's rotation and settings in the database "
                                    "(FACTBOT_DB or the default, unless --db)")
    ask.add_argument("--db", help="keep rotation and usage in this database (default: none, "
                                  "each run starts afresh)")
    ask.add_argument("--lang", type=_language, default=_terminal_language(), help=LANG_HELP)
    mode = ask.add_mutually_exclusive_group()
    mode.add_argument("--json", action="store_true", help="print one JSON object")
    mode.add_argument("--jsonl", action="store_true",
                      help="read one message per line on stdin, write one JSON object per line")

    facts = sub.add_parser("facts", parents=[common], help="work with fact packs")
    facts_sub = facts.add_subparsers(dest="facts_command", required=True, parser_class=_Parser)
    check = facts_sub.add_parser("check", parents=[common], help="validate packs")
    check.add_argument("dir", nargs="?", help="a pack or a directory of packs")
    check.add_argument("--json", action="store_true",
                       help="print the report as JSON (for CI); exit 2 only on errors")

    new = facts_sub.add_parser("new", parents=[common], help="draft a pack from an article")
    new.add_argument("article", help="the article, as a UTF-8 text file")
    new.add_argument("--name", required=True, help="the pack's name")
    new.add_argument("--out", help="where to write the pack folder (default: the current "
                                    "directory)")
    new.add_argument("--force", action="store_true",
                     help="replace the folder's pack.yaml and article.txt if they exist")

    run = sub.add_parser("run", parents=[common],
                         help="run the platform bots (every one with a token by default)")
    run.add_argument("platform", nargs="?", choices=["telegram", "discord"])
    run.add_argument("--db", help="state database (or FACTBOT_DB)")
    run.add_argument("--webhook-url", help="Telegram: serve a webhook at this public URL")
    run.add_argument("--listen", help="Telegram webhook: HOST:PORT to listen on")

    discord = sub.add_parser("discord", parents=[common], help="Discord administration")
    discord_sub = discord.add_subparsers(dest="discord_command", required=True,
                                         parser_class=_Parser)
    sync = discord_sub.add_parser("sync", parents=[common], help="register the slash commands")
    sync.add_argument("--guild", type=int, help="only in this guild (instant, for testing)")
    sync.add_argument("--clear", action="store_true",
                      help="remove the commands instead: the guild's with --guild, else the "
                           "global set")

    telegram = sub.add_parser("telegram", parents=[common], help="Telegram administration")
    telegram_sub = telegram.add_subparsers(dest="telegram_command", required=True,
                                           parser_class=_Parser)
    hook = telegram_sub.add_parser(
        "set-webhook", parents=[common],
        help="register the webhook URL and secret once, for workers with register_webhook: "
             "false")
    hook.add_argument("--webhook-url", help="the public https:// URL (default: "
                                            "telegram.webhook_url)")

    stats = sub.add_parser("stats", parents=[common],
                           help="top topics, unanswered and wrongly answered questions")
    stats.add_argument("--json", action="store_true", help="print JSON")
    stats.add_argument("--db", help="state database (or FACTBOT_DB)")

    dash = sub.add_parser("dashboard", parents=[common],
                          help="the curator's web dashboard (stats, misses, accuracy)")
    dash.add_argument("--listen", help="HOST:PORT (default 127.0.0.1:8080); any other host "
                                       "than a loopback one needs FACTBOT_DASHBOARD_TOKEN")
    dash.add_argument("--db", help="state database (or FACTBOT_DB), read beside the bot")

    db = sub.add_parser("db", parents=[common], help="state database tools")
    db_sub = db.add_subparsers(dest="db_command", required=True, parser_class=_Parser)
    backup = db_sub.add_parser("backup", parents=[common], help="consistent online copy")
    backup.add_argument("path", help="where to write the copy")
    backup.add_argument("--db", help="state database (or FACTBOT_DB)")
    migrate = db_sub.add_parser("migrate", parents=[common],
                                help="copy the SQLite state file into PostgreSQL")
    migrate.add_argument("--to", required=True, metavar="URL",
                         help="the PostgreSQL database, postgresql://USER@HOST/DATABASE")
    migrate.add_argument("--db", help="the SQLite file to copy (or FACTBOT_DB; default: the "
                                      "usual one)")
    migrate.add_argument("--force", action="store_true",
                         help="replace what the target database already holds")

    ev = sub.add_parser("eval", parents=[common], help="measure matching on an evaluation set")
    ev.add_argument("files", nargs="*",
                    help="JSONL files of {text, topic} (default: each pack's questions.jsonl)")
    ev.add_argument("--errors", action="store_true", help="list every miss")
    return parser


def _settings(args: argparse.Namespace) -> Settings:
    return load_settings(getattr(args, "config", None),
                         overrides={"facts": getattr(args, "facts", None)})


def _bot(settings: Settings, store: BaseStore | None = None, *, cooldown: bool = False,
         console: bool = False) -> FactBot:
    from factbot.app import build_bot

    return build_bot(settings, store, cooldown=cooldown, console=console)


def _store(args: argparse.Namespace, settings: Settings) -> BaseStore:
    """The state database from --db, FACTBOT_DB, the config's ``db`` or the default path:
    PostgreSQL for a postgresql:// URL, else a SQLite file. For chat and ask, which write:
    a SQLite file another factbot process uses is refused (stats and db backup only read)."""
    from factbot.storage import make_store

    return make_store(getattr(args, "db", None), settings, exclusive=True)


def _db_secrets(args: argparse.Namespace, settings: Settings) -> tuple[str, ...]:
    """The passwords of the database URLs given (--db, --to, FACTBOT_DB, ``db:``), to mask."""
    from factbot.storage import is_postgres_url

    urls = [str(u) for u in (getattr(args, "db", None), getattr(args, "to", None),
                             settings.db) if is_postgres_url(u)]
    if not urls:
        return ()
    from factbot.storage.postgres import url_password

    # A password of a few letters would mask those letters in every line; factbot's own
    # messages show URLs with the password masked anyway.
    return tuple(p for url in urls for p in url_password(url) if len(p) >= 4)


async def _until_signal(work: Awaitable[int]) -> int:
    """Run ``work``; on SIGTERM or SIGINT cancel it so its ``async with`` blocks flush and close.

    The status: 0 after SIGTERM (a clean stop), 130 after SIGINT (Ctrl-C), as a shell has it.
    """
    loop = asyncio.get_running_loop()
    task = asyncio.ensure_future(work)
    stop = asyncio.Event()
    received: list[int] = []

    def on_signal(sig: int) -> None:
        received.append(sig)
        stop.set()

    signals = (signal.SIGTERM, signal.SIGINT)
    for sig in signals:
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, on_signal, sig)
    stopper = asyncio.create_task(stop.wait())
    try:
        await asyncio.wait({task, stopper}, return_when=asyncio.FIRST_COMPLETED)
        if not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            return EXIT_INTERRUPTED if signal.SIGINT in received else 0
        return task.result()
    finally:
        stopper.cancel()
        for sig in signals:
            with contextlib.suppress(NotImplementedError):
                loop.remove_signal_handler(sig)


def _ask_record(text: str, reply: Reply | None) -> dict[str, Any]:
    if reply is None:  # the bot stays quiet (a command for another bot)
        return {"text": text, "matched": False, "topic": None, "reply": None, "quote": None,
                "score": 0.0}
    return {"text": text, "matched": reply.matched, "topic": reply.topic if reply.matched else None,
            "reply": reply.text, "quote": reply.quote, "score": round(reply.score, 4)}


async def _ask(args: argparse.Namespace, settings: Settings) -> int:
    # The running bot's database is not for a one-off question: its usage, unanswered
    # questions and rotation stay out of it (and two runs answer alike) unless --db says.
    db = getattr(args, "db", None)
    if db == ":memory:" or (not db and args.chat is None):
        from factbot.storage import MemoryStore

        return await _ask_with(args, _bot(settings, MemoryStore()))
    async with _store(args, settings) as store:
        return await _ask_with(args, _bot(settings, store))


async def _ask_with(args: argparse.Namespace, bot: FactBot) -> int:
    from factbot.adapters.console import read_lines
    from factbot.messages import IncomingMessage

    if args.jsonl:
        out = sys.stdout
        async for line in read_lines(sys.stdin):
            text = line.rstrip("\r\n")
            reply = await bot.handle(IncomingMessage(text=text, chat_id=args.chat or "cli",
                                                     language=args.lang))
            out.write(json.dumps(_ask_record(text, reply), ensure_ascii=False) + "\n")
        return 0
    text = " ".join(args.text)
    reply = await bot.handle(IncomingMessage(text=text, chat_id=args.chat or "cli",
                                             language=args.lang))
    if args.json:
        print(json.dumps(_ask_record(text, reply), ensure_ascii=False))
    elif reply is not None:
        print(reply.text)
    return 0


async def _chat(args: argparse.Namespace, settings: Settings) -> int:
    from factbot.adapters.console import ConsoleAdapter

    async with _store(args, settings) as store:
        await ConsoleAdapter(_bot(settings, store, cooldown=True, console=True),
                             language=args.lang).run()
    return 0


def _facts_check(args: argparse.Namespace, settings: Settings) -> int:
    """Print the report; 0 without errors (warnings allowed), 2 with errors."""
    from factbot.checks import check_dir
    from factbot.text import escape_invisible

    report = check_dir(Path(args.dir) if args.dir else settings.facts)
    # A pack's text reaches the terminal: its control and bidi characters are shown escaped.
    if args.json:
        print(escape_invisible(json.dumps(report.as_json(), ensure_ascii=False, indent=2)))
    else:
        print(escape_invisible(report.text()))
    return 2 if report.errors else 0


def _eval(args: argparse.Namespace, settings: Settings) -> int:
    from factbot.evaluate import evaluate, load_cases

    bot = _bot(settings)
    # By default, the labelled questions each loaded pack carries beside its pack.yaml.
    files = [Path(f) for f in args.files] or [
        p.path.parent / PACK_QUESTIONS for p in bot.packs
        if (p.path.parent / PACK_QUESTIONS).is_file()]
    if not files:
        raise ConfigError(f"no questions to evaluate: none of the packs in {settings.facts} "
                          f"has a {PACK_QUESTIONS}; name JSONL files of {{text, topic}}")
    for file in files:
        report = evaluate(bot, load_cases(file))
        print(report.summary(file.name if args.files else f"{file.parent.name}/{file.name}"))
        if args.errors:
            for line in [*report.category_lines(), *report.error_lines()]:
                print(line)
    return 0


async def _stats(args: argparse.Namespace, settings: Settings) -> int:
    """Print the top topics and the most frequent recent unanswered questions."""
    from factbot.stats import as_json, as_text, collect
    from factbot.storage import make_store
    from factbot.text import escape_invisible

    async with make_store(getattr(args, "db", None), settings, create=False) as store:
        report = await collect(store)
    if args.json:
        print(escape_invisible(json.dumps(as_json(report), ensure_ascii=False, indent=2)))
    else:
        print(as_text(report))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    hidden: tuple[str, ...] = ()  # every form of every token, masked in all we show
    unmask: Callable[[], None] | None = None
    json_logs = False  # log_format: json, whose errors are log lines too

    def report(line: str) -> None:
        if json_logs:  # shown whatever log_level says, as the text line is
            from factbot.logs import json_line

            line = json_line(logging.ERROR, "factbot", line)
        print(line, file=sys.stderr)

    try:
        settings = _settings(args)
        hidden = (*secret_forms(settings), *_db_secrets(args, settings))
        level = settings.log_level.upper() or ("INFO" if args.command == "run" else "WARNING")
        if level not in logging.getLevelNamesMapping():
            raise ConfigError(f"log_level {settings.log_level!r} is not a logging level "
                              f"(DEBUG, INFO, WARNING, ERROR)")
        log_format = settings.log_format.strip().lower() or "text"
        if log_format not in ("text", "json"):
            raise ConfigError(f"log_format {settings.log_format!r} is not a log format "
                              f"(text or json)")
        if log_format == "json":
            from factbot.logs import json_handler

            logging.basicConfig(level=level, handlers=[json_handler()])
            logging.captureWarnings(True)  # a library's warning is a JSON line too
            json_logs = True
        else:
            logging.basicConfig(level=level,
                                format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        # At INFO httpx prints every request URL, and Bot API URLs hold the token.
        logging.getLogger("httpx").setLevel(logging.WARNING)
        unmask = mask_log_records(hidden)
        if args.command == "chat":
            return asyncio.run(_until_signal(_chat(args, settings)))
        if args.command == "ask":
            return asyncio.run(_until_signal(_ask(args, settings)))
        if args.command == "facts" and args.facts_command == "check":
            return _facts_check(args, settings)
        if args.command == "facts" and args.facts_command == "new":
            from factbot.cli_facts import new_main

            return new_main(args, settings)
        if args.command == "run":
            from factbot.adapters.launch import run_main

            return run_main(args, settings)
        if args.command == "discord":
            from factbot.adapters.discord import sync_main

            return sync_main(args, settings)
        if args.command == "telegram":
            from factbot.adapters.telegram import set_webhook_main

            return set_webhook_main(args, settings)
        if args.command == "stats":
            return asyncio.run(_stats(args, settings))
        if args.command == "dashboard":
            from factbot.dashboard.app import dashboard_main

            return dashboard_main(args, settings)
        if args.command == "db" and args.db_command == "migrate":
            from factbot.storage.postgres import migrate_main

            return migrate_main(args, settings)
        if args.command == "db":
            from factbot.storage import db_location

            if isinstance(db_location(getattr(args, "db", None), settings), str):
                raise ConfigError("db backup copies a SQLite file; back up a PostgreSQL "
                                  "database with pg_dump")
            from factbot.storage.sqlite import backup_main

            return backup_main(args, settings)
        if args.command == "eval":
            return _eval(args, settings)
    except FactbotError as exc:
        # A server's answer quoted in an error may repeat a token, in any letter case.
        report(f"factbot: error: {mask_secrets(str(exc), hidden)}")
        return exc.exit_status  # 2; 75 (try again later) for an unreachable platform
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # `factbot ask --jsonl | head`: the reader left, nothing is wrong
        with contextlib.suppress(OSError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as exc:
        # Not ours to explain (a platform outage, a bug): the traceback goes to the log,
        # whose records are masked, never straight to stderr where a token would show.
        if unmask is None:
            unmask = mask_log_records(hidden)
        log.critical("factbot %s failed", args.command, exc_info=True)
        line = " ".join(mask_secrets(f"{type(exc).__name__}: {exc}", hidden).split())
        report(f"factbot: error: {line}")
        return 1
    finally:
        if unmask is not None:
            unmask()
    parser.error(f"unknown command {args.command!r}")
    return EXIT_USAGE


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
