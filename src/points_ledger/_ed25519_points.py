"""Refusing weak Ed25519 point encodings: a fixed blocklist and one comparison. Pure.

Ed25519 verification as RFC 8032 and OpenSSL do it accepts public keys of small order.
With the neutral point as a public key, ``[S]B = R + [k]A`` holds for ``S = 0`` and ``R``
the neutral point whatever the message, so one fixed signature verifies for every message;
the other small-order keys let a fixed signature verify for one message in eight. Whoever
registers such a key (or chooses it as a log or witness key) can later deny having signed
anything. So every place a public key enters refuses:

* the 8 points of small order, in every encoding (8 canonical plus 6 non-canonical ones).
  The list is the one published with the C2SP test vectors for Ed25519 edge cases
  (github.com/C2SP/CCTV, ``ed25519/``: "eight plus six alternative encodings" of the
  low-order points) and used by libsodium's ``ge25519_has_small_order``: the encodings
  below with the sign bit (bit 255) cleared; and
* non-canonical encodings, whose 255-bit little-endian y coordinate is not below
  ``p = 2**255 - 19`` (two spellings of one point make key ids and signatures malleable).

Signatures whose ``R`` (first 32 bytes) is such an encoding are refused too. No curve
arithmetic happens here: the checks are byte comparisons; the arithmetic stays in
``cryptography``.
"""

from __future__ import annotations

from typing import Final

__all__ = ["point_problem", "signature_problem"]

_P: Final = 2**255 - 19
_SIGN_BIT: Final = 1 << 255

# y coordinates (sign bit cleared) of the small-order points, as little-endian integers:
# 0 (order 4, x = ±sqrt(-1)), 1 (the neutral point), the two order-8 y values, p - 1
# (order 2), and the non-canonical twins p (= 0) and p + 1 (= 1).
_SMALL_ORDER_Y: Final = frozenset(
    {
        0,
        1,
        int.from_bytes(
            bytes.fromhex("26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05"),
            "little",
        ),
        int.from_bytes(
            bytes.fromhex("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a"),
            "little",
        ),
        _P - 1,
        _P,
        _P + 1,
    }
)


def point_problem(encoded: bytes) -> str | None:
    """Say what is wrong with an encoded Ed25519 point, or return None if nothing is.

    Args:
        encoded: 32 bytes, a public key or the ``R`` half of a signature.

    Returns:
        ``None`` for an acceptable point; otherwise a short reason in plain words
        ("is a small-order point ...", "is not a canonical encoding ...").
    """
    if not isinstance(encoded, bytes) or len(encoded) != 32:
        return "is not 32 bytes"
    y = int.from_bytes(encoded, "little") & ~_SIGN_BIT
    if y in _SMALL_ORDER_Y:
        return "is a small-order point, a weak key for which one signature can verify many messages"
    if y >= _P:
        return "is not a canonical encoding (its y coordinate is not below 2**255 - 19)"
    return None


def signature_problem(signature: bytes) -> str | None:
    """Say what is wrong with the ``R`` half of a 64-byte signature, or return None."""
    if not isinstance(signature, bytes) or len(signature) != 64:
        return "is not 64 bytes"
    problem = point_problem(signature[:32])
    return None if problem is None else f"has an R that {problem}"
