"""The validator compiles the model's patterns with the stdlib `re` where it can (it is faster)
and with `regex` otherwise; for every pattern given to `re`, the two engines must agree."""

from __future__ import annotations

import re

import botocore.session
import pytest
import regex
from hypothesis import given
from hypothesis import strategies as st

from idstore.aws.validate import compile_pattern
from tests.conftest import fuzz_settings

_MODEL = botocore.session.get_session().get_service_model("identitystore")
_PATTERNS = sorted(
    {
        pattern
        for name in _MODEL.shape_names
        if (pattern := _MODEL.shape_for(name).metadata.get("pattern"))
    }
)
_PLAIN = [p for p in _PATTERNS if isinstance(compile_pattern(p), re.Pattern)]


def test_the_id_patterns_run_on_re_and_the_unicode_classes_on_regex() -> None:
    resource_id = _MODEL.shape_for("ResourceId").metadata["pattern"]
    user_name = _MODEL.shape_for("UserName").metadata["pattern"]
    store_id = _MODEL.shape_for("IdentityStoreId").metadata["pattern"]
    assert resource_id in _PLAIN
    assert isinstance(compile_pattern(user_name), regex.Pattern)
    # \d follows Unicode tables that re and regex do not share: U+10D40 is a digit to one.
    odd_digits = "arn:aws:identitystore::" + "\U00010d40" * 12 + ":identitystore/d-0123456789"
    expected = regex.fullmatch(store_id, odd_digits) is not None
    assert (compile_pattern(store_id).fullmatch(odd_digits) is not None) == expected


@pytest.mark.parametrize("pattern", _PLAIN)
def test_patterns_on_re_use_only_explicit_classes(pattern: str) -> None:
    # What re and regex could read differently: class escapes, inline flags.
    assert not re.search(r"\\[pPdDwWsSbB]|\(\?", pattern)


@pytest.mark.parametrize("pattern", _PLAIN)
@fuzz_settings(150)
@given(data=st.data())
def test_re_and_regex_agree(pattern: str, data: st.DataObject) -> None:
    matching = data.draw(st.from_regex(pattern, fullmatch=True))
    # Near misses: a matching value with one character changed, inserted or dropped.
    at = data.draw(st.integers(0, len(matching)))
    other = data.draw(st.characters())
    variants = [
        matching,
        matching[:at] + other + matching[at + 1 :],
        matching[:at] + other + matching[at:],
        matching[:at] + matching[at + 1 :],
        data.draw(st.text(max_size=40)),
    ]
    for value in variants:
        expected = regex.fullmatch(pattern, value) is not None
        assert (compile_pattern(pattern).fullmatch(value) is not None) == expected, value
