"""Citations of the documentation in the code point at pages and anchors that exist, and no
file of the repository refers to anything outside it.

Code and tests cite decisions as `docs/behaviour.md#pagination` (several anchors of one page:
`docs/behaviour.md#wire-protocol, #identifiers`). An anchor exists when the page has it as an
explicit `{#anchor}` attribute or as the slug mkdocs gives a heading.
"""

from __future__ import annotations

import re
import subprocess
from functools import cache

from tests.docs.examples import ROOT

CITATION = re.compile(r"\bdocs/([\w./-]+\.md)((?:#[\w-]+)?(?:,\s*#[\w-]+)*)")
HEADING = re.compile(r"^#{1,6}\s+(.*?)\s*(?:\{#([\w-]+)\})?\s*$", re.MULTILINE)
EXPLICIT = re.compile(r"\{#([\w-]+)\}")
# What no file may mention (spelled in pieces so that this file does not).
OUTSIDE = "|".join([r"\.\./shared", "shared " + "folder", "SPEC" + r"\.md", "SPEC" + " \u00a7"])


@cache
def anchors(page: str) -> set[str]:
    text = (ROOT / "docs" / page).read_text()
    found = set(EXPLICIT.findall(text))
    for title, explicit in HEADING.findall(text):
        if not explicit:
            found.add(re.sub(r"[\s]+", "-", re.sub(r"[^\w\s-]", "", title).strip().lower()))
    return found


def _citations() -> list[tuple[str, str, str]]:
    listed = subprocess.run(
        [
            "git",
            "ls-files",
            "--cached",
            "--others",
            "--exclude-standard",
            "idstore",
            "tests",
            "benchmarks",
            "scripts",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout.split()
    found = []
    for name in listed:
        path = ROOT / name
        if not path.is_file() or path.suffix not in ("", ".py", ".toml", ".cfg", ".md"):
            continue
        for match in CITATION.finditer(path.read_text(errors="ignore")):
            found.append((name, match.group(1), match.group(2)))
    return found


def test_cited_pages_and_anchors_exist() -> None:
    cited = _citations()
    assert any(page == "behaviour.md" for _, page, _ in cited), "the code cites behaviour.md"
    broken = []
    for name, page, fragment in cited:
        if not (ROOT / "docs" / page).is_file():
            broken.append(f"{name}: docs/{page} does not exist")
            continue
        for anchor in re.findall(r"#([\w-]+)", fragment):
            if anchor not in anchors(page):
                broken.append(f"{name}: docs/{page} has no anchor #{anchor}")
    assert broken == []


def test_no_file_refers_to_anything_outside_the_repository() -> None:
    result = subprocess.run(
        ["git", "grep", "-n", "-i", "-E", OUTSIDE, "--", ".", ":!CHANGELOG.md"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.stdout == "", "cite docs/ pages instead (scripts/cite-behaviour)"
