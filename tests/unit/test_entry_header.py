"""The entry header written by hand is byte for byte the general RFC 8785 encoding."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from points_ledger import Asset, InvalidEventError, Posting, Signature
from points_ledger._base64 import encode_b64
from points_ledger.canonical import _entry_header_fast, canonical_json_float_free, entry_header

# Values of the types a valid entry has, and of the types a damaged file may hold instead.
WHOLE = st.integers(min_value=-(2**63), max_value=2**63)
TEXT = st.text(max_size=12)
ODD = st.one_of(st.none(), st.booleans(), st.floats(allow_nan=False), TEXT, st.binary(max_size=4))


def _general(
    seq: Any, recorded_at_us: Any, prev_hash: Any, event: bytes, sigs: Any, posts: Any
) -> bytes:
    """The header as the general path encodes it (the dict through the JSON encoder)."""
    header = {
        "v": 1,
        "seq": seq,
        "recorded_at_us": recorded_at_us,
        "prev_hash": prev_hash.hex(),
        "event_sha256": hashlib.sha256(event).hexdigest(),
        "signatures": [{"key_id": s.key_id, "sig": encode_b64(s.signature)} for s in sigs],
        "postings": [
            {"account": p.account, "asset": str(p.asset), "amount": p.amount} for p in posts
        ],
    }
    return canonical_json_float_free(header)


def _outcome(func: Any, *args: Any) -> bytes | str:
    try:
        return bytes(func(*args))
    except (InvalidEventError, TypeError, ValueError, AttributeError) as e:
        return type(e).__name__


@settings(max_examples=400, deadline=None)
@given(
    seq=st.one_of(WHOLE, ODD),
    recorded_at_us=st.one_of(WHOLE, ODD),
    prev_hash=st.binary(max_size=40),
    event=st.binary(max_size=40),
    signatures=st.lists(
        st.tuples(st.one_of(TEXT, ODD), st.one_of(st.binary(max_size=70), ODD)), max_size=3
    ),
    postings=st.lists(
        st.tuples(
            st.one_of(TEXT, ODD),
            st.one_of(st.sampled_from(list(Asset)), TEXT),
            st.one_of(WHOLE, ODD),
        ),
        max_size=3,
    ),
)
def test_the_hand_written_header_equals_the_general_encoding(
    seq: Any,
    recorded_at_us: Any,
    prev_hash: bytes,
    event: bytes,
    signatures: list[tuple[Any, Any]],
    postings: list[tuple[Any, Any, Any]],
) -> None:
    # Rows read from a damaged file are built without validation: any type may appear.
    sigs = [Signature.model_construct(key_id=k, signature=s) for k, s in signatures]
    posts = [Posting.model_construct(account=a, asset=t, amount=m) for a, t, m in postings]

    def header(*args: Any) -> bytes:
        seq, recorded, prev, data, sig_list, post_list = args
        return entry_header(
            seq=seq,
            recorded_at_us=recorded,
            prev_hash=prev,
            event_bytes=data,
            signatures=sig_list,
            postings=post_list,
        )

    args = (seq, recorded_at_us, prev_hash, event, sigs, posts)
    assert _outcome(header, *args) == _outcome(_general, *args)


@settings(max_examples=200, deadline=None)
@given(
    seq=st.integers(min_value=0, max_value=2**53 - 1),
    recorded_at_us=st.integers(min_value=0, max_value=2**53 - 1),
    accounts=st.lists(st.text(max_size=10), max_size=3),
    key_ids=st.lists(st.text(max_size=10), max_size=3),
)
def test_a_well_formed_header_is_rfc8785_and_takes_the_fast_path(
    seq: int, recorded_at_us: int, accounts: list[str], key_ids: list[str]
) -> None:
    sigs = [Signature.model_construct(key_id=k, signature=bytes(64)) for k in key_ids]
    posts = [Posting.model_construct(account=a, asset=Asset.PTS, amount=-5) for a in accounts]
    reference: dict[str, Any] = {
        "v": 1,
        "seq": seq,
        "recorded_at_us": recorded_at_us,
        "prev_hash": bytes(32).hex(),
        "event_sha256": hashlib.sha256(b"{}").hexdigest(),
        "signatures": [{"key_id": k, "sig": encode_b64(bytes(64))} for k in key_ids],
        "postings": [{"account": a, "asset": "PTS", "amount": -5} for a in accounts],
    }
    try:
        expected = rfc8785.dumps(reference)
    except rfc8785.CanonicalizationError:  # a lone surrogate cannot be written as UTF-8
        assert _entry_header_fast(seq, recorded_at_us, bytes(32), b"{}", sigs, posts) is None
        return
    got = entry_header(
        seq=seq,
        recorded_at_us=recorded_at_us,
        prev_hash=bytes(32),
        event_bytes=b"{}",
        signatures=sigs,
        postings=posts,
    )
    assert got == expected
    fast = _entry_header_fast(seq, recorded_at_us, bytes(32), b"{}", sigs, posts)
    plain = all(ord(c) < 0x10000 for c in "".join(accounts + key_ids))
    assert (fast == expected) if plain else (fast is None)


@pytest.mark.parametrize("seq", [2**53, -(2**53), True])
def test_numbers_rfc8785_cannot_carry_leave_the_fast_path(seq: int) -> None:
    assert _entry_header_fast(seq, 0, bytes(32), b"", [], []) is None
