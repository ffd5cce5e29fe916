"""factbot as a user gets it: a wheel built from the sources, installed into a fresh venv,
run from a directory that is not the checkout."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.slow
SHIPPED = ("pyproject.toml", "README.md", "LICENSE", "bot", "adapters", "facts")


def _run(cmd: list[str], cwd: Path, env: dict[str, str] | None = None,
         timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The wheel and the sdist, built from a copy of the files the project ships."""
    src = tmp_path_factory.mktemp("src")
    for name in SHIPPED:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, src / name,
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy(path, src / name)
    dist = tmp_path_factory.mktemp("dist")
    done = _run([sys.executable, "-m", "build", "--outdir", str(dist), str(src)], cwd=src)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr
    return next(dist.glob("factbot-*.whl")), next(dist.glob("factbot-*.tar.gz"))


@pytest.fixture(scope="module")
def installed(built: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with the wheel and its dependencies; returns its bin directory."""
    venv = tmp_path_factory.mktemp("venv")
    done = _run([sys.executable, "-m", "venv", str(venv)], cwd=venv)
    assert done.returncode == 0, done.stderr
    done = _run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", str(built[0])],
                cwd=venv, timeout=900)
    assert done.returncode == 0, done.stderr
    return venv / "bin"


@pytest.fixture
def outside(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A working directory away from the checkout, and an environment without factbot's."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("FACTBOT_", "TELEGRAM_", "DISCORD_", "PYTHON"))}
    env["HOME"] = str(tmp_path)
    return tmp_path, env


def test_the_wheel_installs_one_package_and_ships_the_pack(built: tuple[Path, Path]) -> None:
    with zipfile.ZipFile(built[0]) as wheel:
        names = wheel.namelist()
    tops = {n.split("/")[0] for n in names}
    assert tops == {"factbot", "factbot-0.1.0.dist-info"}, tops
    assert "factbot/facts/korea-malaysia/pack.yaml" in names
    assert "factbot/facts/korea-malaysia/article.txt" in names
    assert "factbot/facts/korea-malaysia/questions.jsonl" in names
    assert "factbot/adapters/telegram.py" in names
    # factbot dashboard's pages and its one script and style sheet.
    assert {"factbot/dashboard/templates/base.html", "factbot/dashboard/static/dashboard.js",
            "factbot/dashboard/static/dashboard.css"} <= set(names)
    assert any(n.endswith("dist-info/licenses/LICENSE") for n in names)
    with tarfile.open(built[1]) as archive:
        sdist = archive.getnames()
    assert any(n.endswith("/facts/korea-malaysia/pack.yaml") for n in sdist), sdist
    assert any(n.endswith("/LICENSE") for n in sdist)


def test_the_installed_bot_answers_from_its_own_pack(
        installed: Path, outside: tuple[Path, dict[str, str]]) -> None:
    cwd, env = outside
    factbot = str(installed / "factbot")
    version = _run([factbot, "--version"], cwd, env)
    assert version.returncode == 0 and version.stdout.startswith("factbot 0.1.0")

    asked = _run([factbot, "ask", "/hallyu"], cwd, env)
    assert asked.returncode == 0, asked.stderr
    assert "Korean Wave" in asked.stdout and "Bernama" in asked.stdout

    checked = _run([factbot, "facts", "check"], cwd, env)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "korea-malaysia" in checked.stdout

    evaluated = _run([factbot, "eval"], cwd, env)
    assert evaluated.returncode == 0, evaluated.stderr
    assert "korea-malaysia/questions.jsonl: on-topic top-1" in evaluated.stdout

    run = _run([factbot, "run", "telegram"], cwd, env, timeout=60)
    assert run.returncode == 2
    assert len(run.stderr.strip().splitlines()) == 1, run.stderr
    assert "TELEGRAM_BOT_TOKEN" in run.stderr

    # A draft goes where the curator stands, never into the installed package.
    (cwd / "story.txt").write_text(
        "KUALA LUMPUR, Oct 2 (Bernama) -- Malaysia and South Korea signed a trade pact on "
        "Thursday, officials said.\n", encoding="utf-8")
    drafted = _run([factbot, "facts", "new", "story.txt", "--name", "story"], cwd, env)
    assert drafted.returncode == 0, drafted.stderr
    assert (cwd / "story" / "pack.yaml").is_file()
    site = _run([str(installed / "python"), "-c",
                 "import factbot, os; print(os.path.dirname(factbot.__file__))"], cwd, env)
    assert not (Path(site.stdout.strip()) / "facts" / "story").exists()
    assert (Path(site.stdout.strip()) / "facts" / "korea-malaysia" / "pack.yaml").is_file()


def test_the_installed_bot_takes_another_pack(
        installed: Path, outside: tuple[Path, dict[str, str]]) -> None:
    cwd, env = outside
    shutil.copytree(ROOT / "facts" / "korea-malaysia", cwd / "packs" / "korea-malaysia")
    env["FACTBOT_FACTS"] = str(cwd / "packs")
    asked = _run([str(installed / "factbot"), "ask", "--json", "/trade"], cwd, env)
    assert asked.returncode == 0, asked.stderr
    missing = _run([str(installed / "factbot"), "--facts", str(cwd / "nowhere"), "ask", "hi"],
                   cwd, env)
    assert missing.returncode == 2
    assert "nowhere: no such facts directory" in missing.stderr
