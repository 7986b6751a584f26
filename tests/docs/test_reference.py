"""The reference pages against the code: docs/reference/configuration.md lists exactly the
variables idstore and its scripts read, with the flags and defaults they really have; the
hand-written pages name every command (docs/reference/cli.md itself is generated from the
click commands by mkdocs-click, and `mkdocs build --strict` runs in scripts/check)."""

from __future__ import annotations

import re
from pathlib import Path

import click

from idstore.cli import main, server
from idstore.config import _NUMBER_VARIABLES, DEFAULT_DB_FILE, Config
from tests.docs.examples import ROOT

PAGE = ROOT / "docs" / "reference" / "configuration.md"
VARIABLE = re.compile(r"\bIDSTORE_[A-Z0-9_]+\b")
# Set by the server for its own worker processes, not by users.
INTERNAL = {"IDSTORE_WORKER_CONFIG"}


def _table(section: str) -> dict[str, list[str]]:
    """The rows of the table under `## section`, by variable name."""
    text = PAGE.read_text().split(f"## {section}", 1)[1].split("\n## ", 1)[0]
    rows: dict[str, list[str]] = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("| `IDSTORE_"):
            rows[cells[0].strip("`")] = cells[1:]
    return rows


def _read_in(*parts: str) -> set[str]:
    found: set[str] = set()
    for part in parts:
        for path in (ROOT / part).rglob("*") if (ROOT / part).is_dir() else [ROOT / part]:
            if path.is_file() and path.suffix in ("", ".py") and "__pycache__" not in path.parts:
                found |= set(VARIABLE.findall(path.read_text(errors="ignore")))
    return found


def test_every_variable_idstore_reads_is_documented_and_no_other() -> None:
    read = {v for v in _read_in("idstore") if v not in INTERNAL}
    assert set(_table("Server and commands")) == read


def test_every_development_variable_is_documented_and_no_other() -> None:
    read = _read_in("scripts", "tests", ".ci") - _read_in("idstore") - {"IDSTORE_"}
    assert set(_table("Development")) == read


def _serve_flags() -> dict[str, click.Parameter]:
    return {opt: p for p in server.serve.params for opt in getattr(p, "opts", [])}


def test_flags_exist_and_defaults_are_the_code_s() -> None:
    rows = _table("Server and commands")
    flags = _serve_flags()
    for name, (flag, _default, _) in rows.items():
        for given in re.findall(r"`(--[a-z-]+)`", flag):
            assert given in flags, f"{name}: idstore serve has no {given}"
    config = Config()
    for name, (key, _kind) in _NUMBER_VARIABLES.items():
        value = getattr(config, key)
        shown = str(int(value)) if float(value).is_integer() else str(value)
        assert rows[name][1].startswith(f"`{shown}`"), f"{name}: the code's default is {value}"
    for name, field in {
        "IDSTORE_MAX_USERS": config.max_users_per_store,
        "IDSTORE_MAX_GROUPS": config.max_groups_per_store,
        "IDSTORE_MAX_BODY_BYTES": config.max_body_bytes,
        "IDSTORE_ACCOUNT_ID": config.account_id,
    }.items():
        assert rows[name][1] == f"`{field}`", name
    assert rows["IDSTORE_DB"][1] == f"`./{DEFAULT_DB_FILE}`"


def _commands(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found: list[tuple[str, ...]] = []
    for name, command in group.commands.items():
        found.append((*prefix, name))
        if isinstance(command, click.Group):
            found += _commands(command, (*prefix, name))
    return found


def test_every_command_is_named_in_the_hand_written_pages() -> None:
    text = "\n".join(p.read_text() for p in (ROOT / "docs").rglob("*.md"))
    missing = [c for c in _commands(main) if f"idstore {' '.join(c)}" not in text]
    assert missing == [], "name them in docs/commands.md (or the page of their feature)"


def test_the_cli_page_is_generated_from_the_commands() -> None:
    page = (ROOT / "docs" / "reference" / "cli.md").read_text()
    assert "::: mkdocs-click" in page and ":module: idstore.cli" in page
    assert "mkdocs-click" in (ROOT / "mkdocs.yml").read_text()
    assert Path(ROOT / "scripts" / "check").read_text().count("mkdocs build --strict") == 1
