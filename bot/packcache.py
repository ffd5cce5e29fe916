"""A cache of loaded packs and their index, so that `factbot ask` starts fast.

Loading the default pack (YAML, the verbatim checks) and building its index take about
40 ms of a 190 ms start; read back from here they take 2 ms (bench/matcher.py, start-up).
The cache is keyed by everything the result depends on: the bytes of every pack file, and
the size and time of every module of factbot, so an edit to a pack or to the code is a
miss, never a stale answer. It lives in the user's cache directory, in a folder only they
may write, and a file anyone else could have written is never read (pickle runs code).
Any fault is a miss: the packs are loaded as if there were no cache.
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
import stat
import sys
from pathlib import Path

from factbot import __version__
from factbot.matching.index import Index, build_index
from factbot.packs import (
    MAX_ARTICLE_BYTES,
    MAX_PACK_BYTES,
    FactPack,
    load_packs,
    pack_folders,
    read_limited,
)

log = logging.getLogger(__name__)
_PACKAGE = Path(__file__).parent
_FILES = (("pack.yaml", MAX_PACK_BYTES), ("article.txt", MAX_ARTICLE_BYTES))


def cache_dir() -> Path | None:
    """``$XDG_CACHE_HOME/factbot`` (or the platform's cache folder); None without a home."""
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA")
        return Path(base) / "factbot" / "cache" if base else None
    xdg = os.environ.get("XDG_CACHE_HOME", "").strip()
    if xdg and Path(xdg).is_absolute():
        return Path(xdg) / "factbot"
    try:
        home = Path.home()
    except RuntimeError:  # no HOME and no passwd entry (a container's arbitrary UID)
        return None
    return home / ("Library/Caches" if sys.platform == "darwin" else ".cache") / "factbot"


def _key(root: Path) -> str | None:
    digest = hashlib.sha256(f"{__version__} {sys.version}".encode())
    for module in sorted(_PACKAGE.rglob("*.py")):
        info = module.stat()
        digest.update(f"{module.relative_to(_PACKAGE)} {info.st_size} {info.st_mtime_ns}"
                      .encode())
    folders = sorted(pack_folders(root))
    if not folders:
        return None
    for folder in folders:
        digest.update(str(folder.resolve()).encode())
        for name, limit in _FILES:
            # Read as the loader reads: a FIFO, a device or an oversized file is refused at
            # once (PackError: a miss, and the loader says what is wrong), never waited on.
            text = read_limited(folder / name, limit, name)
            digest.update(name.encode() + b"\0" + text.encode() + b"\0")
    return digest.hexdigest()


def _ours(info: os.stat_result) -> bool:
    """Owned by this user, and no one else may write it."""
    if not hasattr(os, "getuid"):
        return True  # Windows: the per-user LOCALAPPDATA folder
    return info.st_uid == os.getuid() and not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def _read_trusted(path: Path) -> bytes | None:
    """The file's bytes if it and its folder are ours alone; checked on the open descriptor,
    not the name, so the file read is the file checked."""
    folder = path.parent.lstat()
    if stat.S_ISLNK(folder.st_mode) or not _ours(folder):
        return None
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0)
                     | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        return None
    with open(fd, "rb") as file:
        info = os.fstat(file.fileno())
        if not stat.S_ISREG(info.st_mode) or not _ours(info):
            return None
        return file.read()


def load_cached(root: Path) -> tuple[tuple[FactPack, ...], Index]:
    """The packs under ``root`` and their index: from the cache when it holds exactly them."""
    folder = cache_dir()
    key: str | None = None
    if folder is not None:
        try:
            key = _key(root)
            data = _read_trusted(folder / f"packs-{key}.pickle") if key is not None else None
            if data is not None:
                packs, index = pickle.loads(data)
                if isinstance(index, Index) and all(isinstance(p, FactPack) for p in packs):
                    return packs, index
        except Exception as exc:  # unreadable, truncated, from another version: a miss
            log.debug("pack cache not used: %r", exc)
    packs = load_packs(root)
    index = build_index(packs)
    if folder is not None and key is not None:
        _store(folder, key, packs, index)
    return packs, index


def _store(folder: Path, key: str, packs: tuple[FactPack, ...], index: Index) -> None:
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        for old in folder.glob("packs-*.pickle"):  # one entry per set of packs is enough
            old.unlink(missing_ok=True)
        temp = folder / f".packs-{key}.{os.getpid()}"
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with open(fd, "wb") as file:
            pickle.dump((packs, index), file, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(temp, folder / f"packs-{key}.pickle")
    except Exception as exc:  # a read-only home, a full disk: start without the cache
        log.debug("pack cache not written: %r", exc)
