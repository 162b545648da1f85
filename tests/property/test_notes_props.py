"""Property tests for points_ledger.notes: round trips, and garbage only raises NoteError."""

from __future__ import annotations

import base64
import contextlib

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from points_ledger.errors import NoteError
from points_ledger.notes import (
    ALG_COSIGNATURE_V1,
    CheckpointBody,
    NoteVerifier,
    cosign,
    open_note,
    sign_note,
)

KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
NAME = "example.com/ledger"
VERIFIER = NoteVerifier.from_public_key(NAME, KEY.public_key())
WITNESS_KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(1, 33)))
WITNESS = NoteVerifier.from_public_key("w.example/1", WITNESS_KEY.public_key(), ALG_COSIGNATURE_V1)

# Printable text: no surrogates, no ASCII control characters except newline.
note_chars = st.characters(
    exclude_categories=["Cs"], exclude_characters=[chr(c) for c in range(32) if c != 10]
)
texts = st.text(note_chars, max_size=200).map(lambda t: t + "\n")
names = st.text(
    st.characters(exclude_categories=("Cs", "Zs", "Zl", "Zp", "Cc"), exclude_characters="+"),
    min_size=1,
    max_size=20,
)


@given(texts, names)
def test_sign_open_round_trip(text: str, name: str) -> None:
    verifier = NoteVerifier.from_public_key(name, KEY.public_key())
    signed = sign_note(text, name, KEY)
    note = open_note(signed, [verifier])
    assert note.text == text
    assert [s.to_line() for s in note.signatures] == [signed[len(text) + 1 :]]
    assert open_note(signed.encode(), [verifier]) == note


@st.composite
def mutations(draw: st.DrawFn) -> bytes:
    text = draw(texts)
    data = bytearray(sign_note(text, NAME, KEY).encode())
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["flip", "insert", "delete", "truncate", "dup"]))
        pos = draw(st.integers(0, max(len(data) - 1, 0)))
        if kind == "flip" and data:
            data[pos] ^= 1 << draw(st.integers(0, 7))
        elif kind == "insert":
            data[pos:pos] = draw(st.binary(min_size=1, max_size=3))
        elif kind == "delete" and data:
            del data[pos]
        elif kind == "truncate":
            del data[pos:]
        elif kind == "dup":
            data += data[pos:]
    return bytes(data)


@settings(max_examples=400)
@given(mutations())
def test_mutated_notes_only_raise_note_error(data: bytes) -> None:
    try:
        note = open_note(data, [VERIFIER])
    except NoteError:
        return
    # A mutation that still verifies can only have touched the signature block in a way
    # that keeps a valid signature over the same text (e.g. an added unknown line).
    assert len(note.signatures) == 1
    assert sign_note(note.text, NAME, KEY).endswith(note.signatures[0].to_line())


@settings(max_examples=300)
@given(st.one_of(st.binary(max_size=300), st.text(max_size=300)))
def test_arbitrary_input_only_raises_note_error(data: bytes | str) -> None:
    with contextlib.suppress(NoteError):
        open_note(data, [VERIFIER, WITNESS])
    with contextlib.suppress(NoteError):
        NoteVerifier.from_vkey(data if isinstance(data, str) else data.decode("latin-1"))


@given(st.text(max_size=100))
def test_checkpoint_parsing_is_exact(text: str) -> None:
    try:
        cp = CheckpointBody.from_text(text)
    except NoteError:
        return
    assert cp.to_text() == text


@given(
    st.text(note_chars.filter(lambda c: c != "\n"), min_size=1, max_size=30),
    st.integers(0, 2**64 - 1),
    st.binary(min_size=32, max_size=32),
    st.integers(0, 2**63 - 1),
)
def test_checkpoint_and_cosignature_round_trip(
    origin: str, size: int, root: bytes, timestamp: int
) -> None:
    cp = CheckpointBody(origin, size, root)
    body = cp.to_text()
    assert CheckpointBody.from_text(body) == cp
    signed = sign_note(body, NAME, KEY) + cosign(body, "w.example/1", WITNESS_KEY, timestamp)
    note = open_note(signed, [VERIFIER, WITNESS])
    assert CheckpointBody.from_text(note.text) == cp
    assert [s.timestamp for s in note.signatures] == [None, timestamp]
    raw = base64.b64decode(signed.rsplit(" ", 1)[1])
    assert int.from_bytes(raw[4:12], "big") == timestamp
