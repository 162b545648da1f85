"""The one base64 helper: standard alphabet, strict, canonical unless told otherwise."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from points_ledger._base64 import Base64Error, decode_b64, encode_b64


@given(st.binary(max_size=100))
def test_bytes_round_trip(data: bytes) -> None:
    assert decode_b64(encode_b64(data)) == data


def test_encoding_is_standard_base64_with_padding() -> None:
    assert encode_b64(b"\xfb\xff") == "+/8="


@pytest.mark.parametrize("text", ["+/8", "-_8=", "AAA=\n", "A A=", "!!!!"])
def test_text_outside_the_alphabet_or_unpadded_is_refused(text: str) -> None:
    with pytest.raises(Base64Error, match="not valid base64"):
        decode_b64(text)


def test_a_second_spelling_of_the_same_bytes_is_refused_unless_allowed() -> None:
    # "AB==" sets bits the one byte does not use; "AA==" is how b"\x00" is written.
    with pytest.raises(Base64Error, match="not canonical base64"):
        decode_b64("AB==")
    assert decode_b64("AB==", canonical=False) == b"\x00"
    assert decode_b64(b"AA==") == b"\x00"
