"""Pure RFC 9162 §2.1 Merkle tree hashing, proofs and proof verification.

The leaf data of a points ledger is the entry hash. Nothing here does I/O.
"""

from __future__ import annotations

import hashlib

__all__ = ["leaf_hash", "node_hash"]

HASH_SIZE = 32


def leaf_hash(data: bytes) -> bytes:
    """Return the RFC 9162 leaf hash ``SHA-256(0x00 || data)``."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Return the RFC 9162 interior node hash ``SHA-256(0x01 || left || right)``."""
    return hashlib.sha256(b"\x01" + left + right).digest()
