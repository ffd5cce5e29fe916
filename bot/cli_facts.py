"""``factbot facts new ARTICLE --name NAME``: read the article, draft, write the pack folder."""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import stat
from pathlib import Path

from factbot.authoring import MAX_ARTICLE_BYTES, draft, render_yaml
from factbot.errors import ConfigError, PackError
from factbot.packs import alias_key
from factbot.settings import Settings
from factbot.text import words


def _taken_commands(root: Path, skip: Path) -> set[str]:
    """Commands and aliases of the packs already in the facts directory, to avoid them."""
    from factbot.packs import load_pack, pack_folders

    taken: set[str] = set()
    if not root.is_dir():
        return taken
    for folder in pack_folders(root):
        if folder.resolve() == skip.resolve():
            continue
        try:
            pack = load_pack(folder)
        except PackError:
            continue  # a broken neighbour is `facts check`'s business, not ours
        for topic in pack.topics:
            taken.add(topic.command)
            taken.update(alias_key(a) for a in topic.aliases)
    return taken


def _read_article(source: Path) -> tuple[bytes, str]:
    """The article's bytes and text, refused when it is no regular file, is over
    MAX_ARTICLE_BYTES or is not UTF-8. Opened without blocking and checked before it is
    read: a FIFO would wait for a writer forever, /dev/zero never ends."""
    try:
        fd = os.open(source, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise ConfigError(f"{source}: cannot read the article: not a regular file")
            with open(fd, "rb", closefd=False) as file:
                data = file.read(MAX_ARTICLE_BYTES + 1)
        finally:
            os.close(fd)
    except OSError as exc:
        raise ConfigError(f"{source}: cannot read the article ({exc.strerror})") from None
    if len(data) > MAX_ARTICLE_BYTES:
        raise ConfigError(f"{source}: the article is over {MAX_ARTICLE_BYTES:,} bytes, the "
                          f"limit for a pack; split it into several articles")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{source}: cannot read the article: not UTF-8 ({exc.reason} at "
                          f"byte {exc.start})") from None
    return data, text.replace("\r\n", "\n").replace("\r", "\n")  # as the loader reads it


def _kept(path: Path, data: bytes, force: bool) -> bool:
    """Whether ``path`` already holds ``data`` (the article drafted from its own folder),
    so that nothing needs writing; an error when something else is there, unless
    ``force``. A symbolic link is never written through, nor taken as the same file."""
    if not os.path.lexists(path):
        return False
    if path.is_symlink():
        if force:
            return False
        raise ConfigError(f"{path} is a symbolic link; factbot does not write through one "
                          f"(pass --force to replace the link with a file)")
    try:
        same = path.is_file() and path.stat().st_size == len(data) and path.read_bytes() == data
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read it ({exc.strerror})") from None
    if same or force:
        return same
    raise ConfigError(f"{path} already exists; pass --force to replace it, or choose "
                      f"another --name or --out")


def _write_new(folder_fd: int, folder: Path, name: str, data: bytes, force: bool) -> None:
    """Create ``folder/name`` with ``data``, never through a symbolic link: with
    ``force`` whatever is there (a file or a link, not what it points to) is removed
    first, and the file is created only if nothing stands in its place."""
    at = {"dir_fd": folder_fd} if os.open in os.supports_dir_fd else {}
    target = name if at else str(folder / name)
    if force:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(target, **at)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(target, flags, 0o644, **at)
    with open(fd, "wb") as file:
        file.write(data)


def new_main(args: argparse.Namespace, settings: Settings) -> int:
    """Write ``OUT/NAME/pack.yaml`` and a copy of the article; print what was drafted.

    Nothing in the pack folder is replaced without ``--force``, and nothing is written
    through a symbolic link (a linked pack folder, ``article.txt`` or ``pack.yaml``)."""
    source = Path(args.article)
    name = str(args.name)
    force = bool(getattr(args, "force", False))
    if not re.fullmatch(r"[a-z0-9][a-z0-9_\-]{0,63}", name):
        raise ConfigError(f"--name {name!r}: use lower-case letters, digits, '-' and '_'")
    data, article = _read_article(source)
    # Never into the live packs (an uncurated draft would answer at once), nor into an
    # installed package: the current directory unless --out says where.
    root = Path(args.out) if args.out else Path.cwd()
    folder = root / name
    if folder.is_symlink():
        raise ConfigError(f"{folder} is a symbolic link; factbot does not write through one")
    if os.path.lexists(folder / "pack.yaml") and not force:
        raise ConfigError(f"{folder / 'pack.yaml'} already exists; pass --force to replace "
                          f"it, or choose another --name or --out")
    keep_article = _kept(folder / "article.txt", data, force)
    if not words(article):
        raise ConfigError(f"{source}: the article has no sentences to quote")
    try:
        taken = _taken_commands(settings.facts, folder)
        if args.out:
            taken |= _taken_commands(root, folder)
        d = draft(article, name, taken)
    except ConfigError as exc:
        raise ConfigError(f"{source}: {exc}") from None
    try:
        folder.mkdir(parents=True, exist_ok=True)
        folder_fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0)
                            | getattr(os, "O_NOFOLLOW", 0))
    except OSError as exc:
        raise ConfigError(f"{folder}: cannot write the draft there ({exc.strerror})") from None
    files = [("pack.yaml", render_yaml(d).encode("utf-8"))]
    if not keep_article:
        files.insert(0, ("article.txt", data))
    try:
        for file_name, content in files:
            try:
                _write_new(folder_fd, folder, file_name, content, force)
            except OSError as exc:
                raise ConfigError(f"{folder / file_name}: cannot write it ({exc.strerror})") \
                    from None
    finally:
        os.close(folder_fd)
    facts = sum(len(t.sentences) for t in d.topics)
    print(f"wrote {folder / 'pack.yaml'}: {len(d.topics)} topics, {facts} facts, "
          f"{len(d.speakers)} speakers")
    for topic in d.topics:
        print(f"  /{topic.command:<16} {len(topic.sentences):>2} facts  {topic.description}")
    missing = [k for k in ("outlet", "dateline", "date") if getattr(d.header, k) is None]
    missing += [f"role of {s}" for s, r in d.speakers.items() if r is None]
    if missing:
        print(f"TODO: {', '.join(missing)} (not in the article; fill them in pack.yaml)")
    print(f"next: edit the draft, run `factbot facts check {folder}`, then try it with "
          f"`factbot --facts {folder} chat`")
    return 0
