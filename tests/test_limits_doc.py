"""docs/limits.md lists every configurable limit: each IDSTORE_* number variable has a row that
names its `idstore serve` flag (or a dash where there is none) and its default."""

from __future__ import annotations

import re
from pathlib import Path

from idstore.cli.server import serve
from idstore.config import _NUMBER_VARIABLES, Config

DOC = Path(__file__).resolve().parent.parent / "docs" / "limits.md"


def test_every_limit_variable_has_a_row_with_its_flag_and_default() -> None:
    rows = [line for line in DOC.read_text().splitlines() if line.startswith("| ")]
    flags = {opt for param in serve.params for opt in getattr(param, "opts", [])}
    defaults = Config()
    for variable, (field, _) in _NUMBER_VARIABLES.items():
        row = next((r for r in rows if f"`{variable}`" in r), None)
        assert row is not None, f"docs/limits.md has no row for {variable}"
        cells = [c.strip() for c in row.strip("|").split("|")]
        named = re.findall(r"`(--[a-z-]+)`", cells[1])
        assert named or cells[1] == "—", f"{variable}: no flag, nor a dash for none"
        assert set(named) <= flags, f"{variable}: {cells[1]} is not a serve flag"
        default = getattr(defaults, field)
        if default:  # 0 means "off", which the row says in words
            shown = f"{default:g}" if isinstance(default, float) else str(default)
            assert shown in cells[3].replace(",", ""), f"{variable}: default {shown} not shown"
