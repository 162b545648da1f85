"""The fast canonical encoder must give exactly the rfc8785 package's bytes."""

from __future__ import annotations

from typing import Any

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from points_ledger import InvalidEventError
from points_ledger.canonical import canonical_json_float_free

keys = st.text(max_size=8)
scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**60), max_value=2**60)
    | st.text(max_size=20)
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(keys, inner, max_size=5),
    max_leaves=25,
)


def reference(value: Any) -> bytes | None:
    try:
        return rfc8785.dumps(value)
    except (rfc8785.CanonicalizationError, ValueError, TypeError):
        return None


@settings(max_examples=400, deadline=None)
@given(values)
def test_fast_path_equals_rfc8785(value: Any) -> None:
    expected = reference(value)
    if expected is None:
        with pytest.raises(InvalidEventError):
            canonical_json_float_free(value)
    else:
        assert canonical_json_float_free(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        {"\U0001f600": 1, "\ue000": 2},  # UTF-16 order differs from code-point order
        {"n": 2**53},  # beyond RFC 8785's integer range
        {"s": '\x00\x1f\u2028"\\/'},  # escaping rules
        {"b": "\ud800"},  # a lone surrogate
        {"z": 1, "a": [True, None, -0]},
        {"n": 2**53 - 1, "m": -(2**53 - 1)},  # the largest integers RFC 8785 accepts
        {"n": -(2**53)},  # just beyond them, negative
        {"s": "12345678901234567890"},  # a long digit run inside text is fine
        {"s": "tasks 0000000000000001-9999999999999999", "n": 10**15},
        {"\u00e9t\u00e9": "\u4e2d\u6587", "a": 1},  # non-ASCII text within the BMP
    ],
)
def test_edge_cases_match_reference(value: Any) -> None:
    expected = reference(value)
    if expected is None:
        with pytest.raises(InvalidEventError):
            canonical_json_float_free(value)
    else:
        assert canonical_json_float_free(value) == expected
