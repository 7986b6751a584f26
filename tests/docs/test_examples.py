"""The documentation's runnable examples run (see tests/docs/examples.py for the convention).

Each page with marked blocks runs them in order in a fresh copy of the repository, with HOME an
empty directory and no AWS configuration, so a broken example fails the suite. The README and
Getting started are the newcomer's path: every python and sh block there is marked, and after
them `git status` in the copy shows nothing new (the databases and server keys they create are
ignored).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.databases import private_database
from tests.docs.examples import KINDS, ROOT, Block, Session, blocks, pages

pytestmark = pytest.mark.slow

NEWCOMER_PAGES = ("README.md", "docs/getting-started.md")


def _runnable(path: Path) -> list[Block]:
    return [b for b in blocks(path) if b.kind is not None and b.kind != "not run"]


PAGES = [p for p in pages() if _runnable(p)]


@pytest.fixture
def database(db_url: str) -> Iterator[str | None]:
    """None on SQLite (the examples use files); on PostgreSQL a private database, because the
    examples create identity stores that other tests must not see."""
    if not db_url.startswith("postgresql"):
        yield None
        return
    with private_database(db_url, "idstore_docs") as url:
        yield url


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_examples_run(page: Path, tmp_path: Path, database: str | None) -> None:
    session = Session(tmp_path, database)
    try:
        for block in _runnable(page):
            session.run(block)
    finally:
        session.stop()
    assert session.untracked() == [], "files the examples made that .gitignore does not cover"


def test_markers_are_known_and_on_runnable_languages() -> None:
    for page in pages():
        for block in blocks(page):
            if block.kind is None or block.kind == "not run":
                assert block.kind is None or block.reason, f"{block.where}: say why not"
                continue
            assert block.kind in KINDS, f"{block.where}: unknown marker run: {block.kind}"
            assert block.language in ("python", "sh", "bash", "shell"), block.where


@pytest.mark.parametrize("name", NEWCOMER_PAGES)
def test_every_newcomer_example_is_marked(name: str) -> None:
    found = [b for b in blocks(ROOT / name) if b.language in ("python", "sh", "bash", "shell")]
    assert found, f"{name} has no examples"
    unmarked = [b.where for b in found if b.kind is None]
    assert unmarked == [], "mark them <!-- run --> (or <!-- not run: why -->)"
    assert any(b.kind == "serve" for b in found), f"{name} must start its server as it says"


def test_the_readme_is_one_screen_and_sets_what_clients_need() -> None:
    """Region and dummy credentials are in the examples themselves (the runner's empty HOME
    and cleared AWS_* variables make a missing one fail in test_examples_run too)."""
    readme = (ROOT / "README.md").read_text()
    assert len(readme.encode()) <= 8 * 1024, "the README is one screen: at most 8 KB"
    assert "AWS_DEFAULT_REGION=us-east-1" in readme
    assert 'aws_access_key_id="test"' in readme


def test_the_session_has_no_aws_configuration(tmp_path: Path) -> None:
    os.environ.setdefault("AWS_PROFILE", "leak-check")
    try:
        env = Session(tmp_path, None).env()
    finally:
        if os.environ.get("AWS_PROFILE") == "leak-check":
            del os.environ["AWS_PROFILE"]
    assert not [k for k in env if k.startswith(("AWS_", "IDSTORE_"))]
    assert env["HOME"] == str(tmp_path / "home") and not any((tmp_path / "home").iterdir())
