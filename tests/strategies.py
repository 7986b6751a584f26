"""Hypothesis strategies the fuzz suites share: odd text and JSON values of every type.

`odd_text` is what breaks storage and encodings rather than validation: NUL and other control
characters, lone surrogates (which no UTF-8 database holds), a BOM, bidirectional controls,
non-characters, combining marks, and text of plausible letters mixed with them.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

ODD_CHARACTERS = [
    "\x00",
    "\x01",
    "\x1f",
    "\x7f",
    "\t",
    "\n",
    "\r",
    "\x85",
    "\ud800",
    "\udfff",
    "\ud83d",
    "\ufeff",
    "\u202e",
    "\u2028",
    "\ufffe",
    "\uffff",
    "\u0301",
    "\U0010ffff",
    "\\",
    '"',
    "%",
    "/",
]

plausible_text = st.text(st.characters(categories=("L", "N")), min_size=1, max_size=12)
odd_text = st.text(
    st.sampled_from(ODD_CHARACTERS) | st.characters(codec="utf-8") | st.sampled_from("ab"),
    min_size=1,
    max_size=12,
)
# Any Python text, lone surrogates included (Hypothesis' default alphabet excludes them).
any_text = plausible_text | odd_text | st.text(max_size=12) | st.just("")

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | any_text
)
json_values: st.SearchStrategy[Any] = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(any_text, inner, max_size=3),
    max_leaves=8,
)


def case_variants(name: str) -> st.SearchStrategy[str]:
    """`name` as given, upper-first, upper-case and lower-case."""
    return st.sampled_from(sorted({name, name[:1].upper() + name[1:], name.upper(), name.lower()}))
