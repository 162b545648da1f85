"""Canonical bytes: RFC 8785, refusal of non-canonical input, signing input layout."""

from __future__ import annotations

import datetime as dt
import hashlib
import json

import pytest

from points_ledger import Asset, InvalidEventError, Posting, Transfer
from points_ledger.canonical import (
    EVENT_BYTES_MAX,
    EVENT_DOMAIN,
    canonical_json,
    event_from_bytes,
    event_to_bytes,
    genesis_signing_input,
    ledger_id_of,
    signing_input,
)

DAY = dt.date(2024, 5, 1)


def sample() -> Transfer:
    return Transfer(
        id="t-1",
        effective_at=DAY,
        memo="志强社区 ✓",
        postings=(
            Posting(account="issuer", asset=Asset.PTS, amount=-7),
            Posting(account="m1", asset=Asset.PTS, amount=7),
        ),
    )


def test_event_bytes_are_exact_rfc8785() -> None:
    expected = (
        '{"effective_at":"2024-05-01","id":"t-1","memo":"志强社区 ✓","postings":['
        '{"account":"issuer","amount":-7,"asset":"PTS"},'
        '{"account":"m1","amount":7,"asset":"PTS"}],"type":"transfer"}'
    ).encode()
    assert event_to_bytes(sample()) == expected


def test_canonical_json_sorts_keys_and_drops_whitespace() -> None:
    assert canonical_json({"b": 1, "a": [1, {"d": True, "c": None}]}) == (
        b'{"a":[1,{"c":null,"d":true}],"b":1}'
    )
    # RFC 8785 sorts by UTF-16 code units, not by code points.
    assert canonical_json({"\U0001f600": 1, "\ufb01": 2}) == (
        '{"\U0001f600":1,"\ufb01":2}'.encode()
    )
    with pytest.raises(InvalidEventError):
        canonical_json({"n": 2**60})


def test_round_trip_returns_an_equal_event() -> None:
    data = event_to_bytes(sample())
    event = event_from_bytes(data)
    assert event == sample()
    assert isinstance(event, Transfer)
    assert event_to_bytes(event) == data


def _variants(data: bytes) -> dict[str, bytes]:
    text = data.decode()
    parsed = json.loads(text)
    reordered = json.dumps(dict(reversed(list(parsed.items()))), ensure_ascii=False)
    return {
        "space-after-colon": text.replace('":', '": ', 1).encode(),
        "space-after-comma": text.replace(",", ", ", 1).encode(),
        "leading-space": b" " + data,
        "trailing-newline": data + b"\n",
        "reordered-keys": reordered.replace(", ", ",").replace(": ", ":").encode(),
        "pretty": json.dumps(parsed, ensure_ascii=False, indent=2, sort_keys=True).encode(),
        "ascii-escaped": json.dumps(parsed, sort_keys=True, separators=(",", ":")).encode(),
        "duplicate-key": text.replace('"id":"t-1"', '"id":"t-1","id":"t-1"').encode(),
        "duplicate-key-other-value": text.replace('"id":"t-1"', '"id":"t-0","id":"t-1"').encode(),
        "number-with-exponent": text.replace('"amount":7', '"amount":7e0').encode(),
        "number-with-plus-zero": text.replace('"amount":7', '"amount":7.0').encode(),
        "escaped-slash": text.replace('"t-1"', '"t\\u002d1"').encode(),
        "bom": b"\xef\xbb\xbf" + data,
    }


@pytest.mark.parametrize("name", list(_variants(event_to_bytes(sample()))))
def test_non_canonical_bytes_are_refused(name: str) -> None:
    data = _variants(event_to_bytes(sample()))[name]
    assert data != event_to_bytes(sample())
    with pytest.raises(InvalidEventError):
        event_from_bytes(data)


@pytest.mark.parametrize(
    "data",
    [b"", b"null", b"[]", b"{}", b"\xff\xfe", b'{"type":"nope"}', b"{" * 10_000],
)
def test_garbage_is_refused(data: bytes) -> None:
    with pytest.raises(InvalidEventError):
        event_from_bytes(data)


def test_oversize_and_non_bytes_input_is_refused() -> None:
    with pytest.raises(InvalidEventError):
        event_from_bytes(b" " * (EVENT_BYTES_MAX + 1))
    with pytest.raises(InvalidEventError):
        event_from_bytes(bytearray(event_to_bytes(sample())))  # type: ignore[arg-type]
    with pytest.raises(InvalidEventError):
        event_from_bytes(event_to_bytes(sample()).decode())  # type: ignore[arg-type]


def test_signing_input_binds_domain_origin_and_ledger_id() -> None:
    data = event_to_bytes(sample())
    ledger_id = bytes(range(32))
    message = signing_input("a.example/x", ledger_id, data)
    assert EVENT_DOMAIN == b"points-ledger/v2/event\n"
    assert message == (
        b"points-ledger/v2/event\na.example/x\n" + ledger_id.hex().encode() + b"\n" + data
    )
    assert signing_input("b.example/x", ledger_id, data) != message
    assert signing_input("a.example/x", bytes(32), data) != message
    assert not data.startswith(EVENT_DOMAIN)
    with pytest.raises(InvalidEventError):
        signing_input("a.example/x", b"short", data)


def test_genesis_signing_input_and_ledger_id_are_separate_domains() -> None:
    data = event_to_bytes(sample())
    genesis_message = genesis_signing_input("a.example/x", data)
    assert genesis_message == b"points-ledger/v2/genesis\na.example/x\n" + data
    assert ledger_id_of(data) == hashlib.sha256(b"points-ledger/v2/ledger-id\n" + data).digest()
    assert genesis_message != signing_input("a.example/x", ledger_id_of(data), data)


def test_an_unset_validity_bound_is_left_out_of_the_bytes() -> None:
    plain = sample()
    assert b"not_after" not in event_to_bytes(plain)
    bounded = plain.model_copy(update={"not_after": dt.date(2026, 12, 31)})
    data = event_to_bytes(bounded)
    assert b'"not_after":"2026-12-31"' in data
    assert event_from_bytes(data) == bounded
    # A stored explicit null is another encoding of the same event: not canonical.
    with_null = data.replace(b'"not_after":"2026-12-31"', b'"not_after":null')
    with pytest.raises(InvalidEventError, match="canonical"):
        event_from_bytes(with_null)
