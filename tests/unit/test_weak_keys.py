"""Weak Ed25519 keys: the small-order points, tried as an attacker would, at every entry.

With the neutral point as a public key, ``[S]B = R + [k]A`` holds for ``S = 0`` and ``R``
the neutral point whatever the message ``k`` comes from: one fixed signature verifies
everything. ``cryptography`` (OpenSSL) accepts such keys, as the first test shows, so the
library must refuse them wherever a public key enters.
"""

from __future__ import annotations

import base64
import datetime as dt
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from points_ledger import Ledger
from points_ledger._ed25519_points import point_problem
from points_ledger.errors import InvalidEventError, LedgerError, NoteError
from points_ledger.keys import Signer, public_key_from_b64, verify_signature
from points_ledger.log_notes import log_vkey
from points_ledger.models import KeySpec, Role
from points_ledger.models.community import JoinAlliance
from points_ledger.notes import (
    ALG_COSIGNATURE_V1,
    ALG_ED25519,
    CheckpointBody,
    NoteVerifier,
    key_id,
    open_note,
)
from points_ledger.witness import Witness

P = 2**255 - 19
_Y8 = int.from_bytes(
    bytes.fromhex("26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05"), "little"
)


def _encode(y: int, sign: int = 0) -> bytes:
    return (y | (sign << 255)).to_bytes(32, "little")


NEUTRAL = _encode(1)
# The 8 points of small order, canonically encoded: the neutral point, the point of order
# 2, the two of order 4 and the four of order 8 (C2SP/CCTV ed25519 low-order points).
SMALL_ORDER = (
    NEUTRAL,
    _encode(P - 1),
    _encode(0),
    _encode(0, 1),
    _encode(_Y8),
    _encode(_Y8, 1),
    _encode(P - _Y8),
    _encode(P - _Y8, 1),
)
# Their non-canonical twins: x = 0 with the sign bit set, and y = p, p + 1.
NON_CANONICAL = (_encode(1, 1), _encode(P - 1, 1), _encode(P), _encode(P, 1), _encode(P + 1))
# One signature for every message under the neutral key: R = neutral point, S = 0.
FORGED = NEUTRAL + bytes(32)
B64 = [base64.b64encode(k).decode("ascii") for k in SMALL_ORDER + NON_CANONICAL]


def _forgeries(key: bytes, messages: int = 64) -> int:
    """How many of ``messages`` different messages the fixed signature verifies under key."""
    public = Ed25519PublicKey.from_public_bytes(key)
    count = 0
    for i in range(messages):
        try:
            public.verify(FORGED, b"message %d" % i)
        except InvalidSignature:
            continue
        count += 1
    return count


def test_the_attack_works_with_cryptography_alone() -> None:
    # The library's defence is needed: OpenSSL verifies the forged signature.
    assert _forgeries(NEUTRAL) == 64
    for key in SMALL_ORDER:
        assert _forgeries(key) > 0, key.hex()  # each is a real small-order point
    assert _forgeries(Signer.generate().public_key) == 0


@pytest.mark.parametrize("key", SMALL_ORDER + NON_CANONICAL, ids=lambda k: k.hex()[:12])
def test_point_problem_names_the_reason(key: bytes) -> None:
    problem = point_problem(key)
    assert problem is not None
    assert "small-order" in problem or "canonical" in problem


def test_ordinary_keys_pass_and_a_high_y_is_refused() -> None:
    for _ in range(50):
        assert point_problem(Signer.generate().public_key) is None
    assert "not a canonical" in str(point_problem(_encode(P + 5)))


def test_verify_signature_refuses_the_forgery() -> None:
    assert not verify_signature(NEUTRAL, b"pay 1000 points to me", FORGED)
    assert not verify_signature(NEUTRAL, b"another message", FORGED)


def test_verify_signature_refuses_small_order_r() -> None:
    signer = Signer.generate()
    for r in SMALL_ORDER:
        assert not verify_signature(signer.public_key, b"m", r + bytes(32))


@pytest.mark.parametrize("b64", B64)
def test_keyspec_refuses(b64: str) -> None:
    with pytest.raises(InvalidEventError, match=r"small-order|canonical"):
        KeySpec(public_key=b64, roles=(Role.MEMBER,), owner="vol:0001")


@pytest.mark.parametrize("b64", B64)
def test_join_alliance_refuses(b64: str) -> None:
    with pytest.raises(InvalidEventError, match=r"small-order|canonical"):
        JoinAlliance(
            id="join-1",
            effective_at=dt.date(2026, 1, 5),
            partner="partner:barber",
            name="Barber",
            public_key=b64,
        )


@pytest.mark.parametrize("b64", B64)
def test_public_key_from_b64_refuses(b64: str) -> None:
    with pytest.raises(InvalidEventError, match=r"small-order|canonical"):
        public_key_from_b64(b64)


@pytest.mark.parametrize("key", SMALL_ORDER, ids=lambda k: k.hex()[:12])
def test_genesis_log_key_refuses(tmp_path: Path, key: bytes) -> None:
    path = tmp_path / "ledger.db"
    with pytest.raises(InvalidEventError, match=r"log_key.*small-order"):
        Ledger.create(
            path,
            origin="example.org/weak",
            log_key=key,
            admins=[Signer.generate()],
            threshold=1,
            effective_at=dt.date(2026, 1, 5),
        )
    assert not path.exists()


def _vkey(name: str, algorithm: int, key: bytes) -> str:
    material = base64.b64encode(bytes([algorithm]) + key).decode("ascii")
    return f"{name}+{key_id(name, algorithm, key).hex()}+{material}"


@pytest.mark.parametrize("key", SMALL_ORDER + NON_CANONICAL, ids=lambda k: k.hex()[:12])
@pytest.mark.parametrize("algorithm", [ALG_ED25519, ALG_COSIGNATURE_V1])
def test_note_verifier_refuses(key: bytes, algorithm: int) -> None:
    with pytest.raises(NoteError, match=r"small-order|canonical"):
        NoteVerifier.from_vkey(_vkey("example.org/log", algorithm, key))
    with pytest.raises(NoteError, match=r"small-order|canonical"):
        NoteVerifier.from_public_key(
            "example.org/log", Ed25519PublicKey.from_public_bytes(key), algorithm
        )


def test_log_vkey_refuses_the_neutral_point() -> None:
    with pytest.raises(NoteError, match="small-order"):
        log_vkey("example.org/log", NEUTRAL)


def test_forged_checkpoint_under_the_neutral_key_is_refused() -> None:
    # The forged note: any text, signed with the fixed signature.
    text = CheckpointBody("example.org/log", 10, bytes(32)).to_text()
    name = "example.org/log"
    kid = key_id(name, ALG_ED25519, NEUTRAL)
    note = text + "\n\u2014 " + name + " " + base64.b64encode(kid + FORGED).decode() + "\n"
    with pytest.raises(NoteError, match="small-order"):
        open_note(note, [NoteVerifier.from_vkey(_vkey(name, ALG_ED25519, NEUTRAL))])


def test_witness_refuses_a_small_order_log_key(tmp_path: Path) -> None:
    with pytest.raises(NoteError, match="small-order"):
        Witness(
            tmp_path / "w.db",
            name="example.org/witness",
            key=Signer.generate(),
            logs={"example.org/log": _vkey("example.org/log", ALG_ED25519, NEUTRAL)},
        )


def test_note_signature_with_small_order_r_does_not_verify() -> None:
    signer = Signer.generate()
    verifier = NoteVerifier.from_public_key("example.org/log", signer.private_key.public_key())
    for r in SMALL_ORDER:
        assert not verifier.verify(b"example.org/log\n1\n", r + bytes(32))
        stamped = (5).to_bytes(8, "big") + r + bytes(32)
        cosigner = NoteVerifier.from_public_key(
            "example.org/w", signer.private_key.public_key(), ALG_COSIGNATURE_V1
        )
        assert not cosigner.verify(b"example.org/log\n1\n" + bytes(0), stamped)


def test_errors_are_ledger_errors() -> None:
    with pytest.raises(LedgerError):
        KeySpec(public_key=B64[0], roles=(Role.ADMIN,))


def test_signature_checker_never_accepts_the_forgery() -> None:
    from points_ledger._sigcheck import SignatureChecker, check_one

    assert not check_one(NEUTRAL, b"m", FORGED)
    checker = SignatureChecker()
    try:
        items = [(NEUTRAL, b"message %d" % i, FORGED) for i in range(8)]
        results = [ok for _, oks in checker.check_each(items, lambda item: [item]) for ok in oks]
    finally:
        checker.close()
    assert results == [False] * 8


def test_a_note_signature_with_small_order_r_is_refused_naming_the_reason() -> None:
    signer = Signer.generate()
    name = "example.org/log"
    verifier = NoteVerifier.from_public_key(name, signer.private_key.public_key())
    text = CheckpointBody(name, 1, bytes(32)).to_text()
    line = base64.b64encode(verifier.key_id + NEUTRAL + bytes(32)).decode()
    with pytest.raises(NoteError, match="has an R that is a small-order point"):
        open_note(text + "\n\u2014 " + name + " " + line + "\n", [verifier])
