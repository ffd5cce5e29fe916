"""`factbot facts new` and the user's files: it reads only a regular UTF-8 article within the
size limit, replaces nothing without --force, and never writes through a symbolic link.
Every refusal is one line that names the file, with exit status 2.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from factbot.authoring import MAX_ARTICLE_BYTES
from factbot.cli import main

ARTICLE = Path(__file__).resolve().parent / "data" / "articles" / "wikinews_canada_document.txt"


def _new(out: Path, *extra: str, article: Path = ARTICLE, name: str = "canada") -> int:
    return main(["facts", "new", str(article), "--name", name, "--out", str(out), *extra])


def _error(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err  # one line
    return err


def test_an_existing_article_is_not_replaced_without_force(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "canada"
    folder.mkdir()
    (folder / "article.txt").write_text("my own notes\n", encoding="utf-8")
    assert _new(tmp_path) == 2
    assert f"{folder / 'article.txt'} already exists" in _error(capsys)
    assert (folder / "article.txt").read_text(encoding="utf-8") == "my own notes\n"
    assert not (folder / "pack.yaml").exists()
    assert _new(tmp_path, "--force") == 0
    assert (folder / "article.txt").read_bytes() == ARTICLE.read_bytes()


def test_an_existing_pack_is_not_replaced_without_force(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _new(tmp_path) == 0
    pack = tmp_path / "canada" / "pack.yaml"
    pack.write_text("# curated by hand\n", encoding="utf-8")
    capsys.readouterr()
    assert _new(tmp_path) == 2
    assert f"{pack} already exists" in _error(capsys)
    assert pack.read_text(encoding="utf-8") == "# curated by hand\n"
    assert _new(tmp_path, "--force") == 0
    assert pack.read_text(encoding="utf-8").startswith("# Draft pack")


def test_the_article_in_its_own_folder_is_drafted_without_force(tmp_path: Path) -> None:
    """`facts new facts/x/article.txt --name x`: the copy is the article itself."""
    folder = tmp_path / "canada"
    folder.mkdir()
    (folder / "article.txt").write_bytes(ARTICLE.read_bytes())
    assert _new(tmp_path, article=folder / "article.txt") == 0
    assert (folder / "pack.yaml").is_file()


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symbolic links")
def test_a_linked_article_txt_is_never_written_through(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "out" / "canada"
    folder.mkdir(parents=True)
    victim = tmp_path / "victim.txt"
    victim.write_text("do not touch\n", encoding="utf-8")
    (folder / "article.txt").symlink_to(victim)
    assert _new(tmp_path / "out") == 2
    assert "symbolic link" in _error(capsys)
    # With --force the link itself is replaced by a file; what it pointed to is untouched.
    assert _new(tmp_path / "out", "--force") == 0
    assert victim.read_text(encoding="utf-8") == "do not touch\n"
    assert not (folder / "article.txt").is_symlink()
    assert (folder / "article.txt").read_bytes() == ARTICLE.read_bytes()


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symbolic links")
def test_a_dangling_link_in_place_of_pack_yaml_creates_nothing(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "canada"
    folder.mkdir()
    (folder / "pack.yaml").symlink_to(tmp_path / "elsewhere.yaml")
    assert _new(tmp_path) == 2
    assert "pack.yaml" in _error(capsys)
    assert _new(tmp_path, "--force") == 0
    assert not (tmp_path / "elsewhere.yaml").exists()
    assert not (folder / "pack.yaml").is_symlink()


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symbolic links")
def test_a_linked_pack_folder_is_refused(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "canada").symlink_to(real)
    assert _new(tmp_path / "out", "--force") == 2
    assert f"{tmp_path / 'out' / 'canada'} is a symbolic link" in _error(capsys)
    assert list(real.iterdir()) == []


def test_an_article_over_the_limit_is_refused_naming_it(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    big = tmp_path / "big.txt"
    big.write_text("The ferry ran late. " * (MAX_ARTICLE_BYTES // 20 + 1), encoding="utf-8")
    assert big.stat().st_size > MAX_ARTICLE_BYTES
    assert _new(tmp_path / "out", article=big) == 2
    err = _error(capsys)
    assert str(big) in err and f"{MAX_ARTICLE_BYTES:,} bytes" in err
    assert not (tmp_path / "out").exists()


def test_an_article_at_the_limit_is_drafted(tmp_path: Path) -> None:
    text = ARTICLE.read_text(encoding="utf-8")
    assert len(text.encode("utf-8")) <= MAX_ARTICLE_BYTES
    assert _new(tmp_path) == 0


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_fifo_is_refused_without_waiting_for_a_writer(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fifo = tmp_path / "article.fifo"
    os.mkfifo(fifo)
    assert _new(tmp_path / "out", article=fifo) == 2
    assert f"{fifo}: cannot read the article: not a regular file" in _error(capsys)


def test_an_article_that_is_not_utf8_is_refused_naming_it(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "latin1.txt"
    bad.write_bytes("Caf\xe9 opens on the quay.\n".encode("latin-1"))
    assert _new(tmp_path / "out", article=bad) == 2
    assert f"{bad}: cannot read the article: not UTF-8" in _error(capsys)


def test_an_article_with_nothing_to_quote_is_refused_naming_it(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_text("\n\n", encoding="utf-8")
    assert _new(tmp_path / "out", article=empty) == 2
    assert f"{empty}: the article has no sentences to quote" in _error(capsys)
