"""Pure RFC 9162 §2.1 Merkle tree hashing, proofs and proof verification.

The leaf data of a points ledger is the entry hash. Nothing here does I/O.

Two families of proof builders share one engine:

* the list-based functions (:func:`root`, :func:`inclusion_proof`,
  :func:`consistency_proof`) take the raw leaf data and are the reference;
* the node-based functions (:func:`root_from_nodes`, :func:`inclusion_proof_from_nodes`,
  :func:`consistency_proof_from_nodes`) take a ``get_node(level, index)`` callable that
  returns the stored hash of the complete subtree covering leaves
  ``[index * 2**level, (index + 1) * 2**level)`` (level 0 is the leaf hash). They need
  O(log n) lookups, because every subtree the RFC recursion asks for is either a complete,
  aligned subtree (one stored node) or the right edge of the tree, which is a fold of at
  most log2(n) complete subtrees.

The verifiers (:func:`verify_inclusion`, :func:`verify_consistency`) implement the
algorithms of RFC 9162 §2.1.3.2 and §2.1.4.2. They raise :class:`~points_ledger.errors.
ProofError` for every malformed or wrong input and never any other exception.

Edge cases, decided here once:

* Sizes and indexes are ``int`` (``bool`` is refused) in ``[0, 2**64 - 1]``, the range of
  RFC 9162's ``uint64`` tree sizes. Hashes are ``bytes`` (not ``bytearray``) of exactly 32
  bytes.
* Inclusion needs ``0 <= index < size``; a tree of size 1 has an empty proof and its root
  equals the leaf hash.
* Consistency from ``size1 == size2`` needs an empty proof and ``root1 == root2``.
* Consistency from ``size1 == 0`` needs an empty proof and ``root1`` equal to the empty
  tree hash ``SHA-256("")`` (the only possible root of an empty tree); any ``size2`` and
  well-formed ``root2`` are then consistent.
* ``size1 > size2`` always fails. For ``0 < size1 < size2`` the RFC algorithm runs; an
  empty proof fails there.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence

from points_ledger.errors import ProofError

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "MAX_PROOF_LENGTH",
    "MAX_TREE_SIZE",
    "RootBuilder",
    "consistency_proof",
    "consistency_proof_from_nodes",
    "inclusion_proof",
    "inclusion_proof_from_nodes",
    "leaf_hash",
    "node_hash",
    "root",
    "root_from_nodes",
    "subtree_nodes_for_range",
    "verify_consistency",
    "verify_inclusion",
]

HASH_SIZE = 32
"""Length in bytes of every hash in the tree (SHA-256)."""

EMPTY_ROOT = hashlib.sha256(b"").digest()
"""Root hash of the empty tree: ``SHA-256("")`` (RFC 9162 §2.1.1)."""

MAX_TREE_SIZE = (1 << 64) - 1
"""Largest tree size or index accepted (tree sizes are ``uint64`` in RFC 9162)."""

MAX_PROOF_LENGTH = 64
"""No valid inclusion or consistency proof for a ``uint64`` tree is longer than this."""

NodeGetter = Callable[[int, int], bytes]
"""``get_node(level, index)``: stored hash of the complete subtree at that position."""

_SubtreeHash = Callable[[int, int], bytes]


def leaf_hash(data: bytes) -> bytes:
    """Return the RFC 9162 leaf hash ``SHA-256(0x00 || data)``."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Return the RFC 9162 interior node hash ``SHA-256(0x01 || left || right)``."""
    return hashlib.sha256(b"\x01" + left + right).digest()


# --------------------------------------------------------------------------- checks


def _check_int(value: object, what: str, *, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ProofError(f"{what} must be an integer, got {type(value).__name__}")
    if value < minimum or value > MAX_TREE_SIZE:
        raise ProofError(f"{what} must be between {minimum} and 2**64 - 1, got {value}")
    return value


def _check_hash(value: object, what: str) -> bytes:
    if not isinstance(value, bytes):
        raise ProofError(f"{what} must be bytes, got {type(value).__name__}")
    if len(value) != HASH_SIZE:
        raise ProofError(f"{what} must be {HASH_SIZE} bytes, got {len(value)}")
    return value


def _check_proof(proof: object) -> list[bytes]:
    if isinstance(proof, str | bytes | bytearray | memoryview) or not isinstance(proof, Sequence):
        raise ProofError("a proof must be a sequence of 32-byte hashes")
    if len(proof) > MAX_PROOF_LENGTH:
        raise ProofError(f"proof has {len(proof)} hashes; no valid proof has more than 64")
    return [_check_hash(element, f"proof element {i}") for i, element in enumerate(proof)]


def _check_leaves(leaves: object, size: int) -> list[bytes]:
    if isinstance(leaves, str | bytes | bytearray | memoryview) or not isinstance(leaves, Sequence):
        raise ProofError("leaves must be a sequence of bytes")
    if size > len(leaves):
        raise ProofError(f"tree size {size} is larger than the {len(leaves)} leaves given")
    hashes = []
    for i in range(size):
        data = leaves[i]
        if not isinstance(data, bytes):
            raise ProofError(f"leaf {i} must be bytes, got {type(data).__name__}")
        hashes.append(leaf_hash(data))
    return hashes


# --------------------------------------------------------------------------- engine


def _split(n: int) -> int:
    """Return the largest power of two strictly smaller than ``n`` (``n >= 2``)."""
    return 1 << ((n - 1).bit_length() - 1)


def subtree_nodes_for_range(start: int, end: int) -> list[tuple[int, int]]:
    """List the complete subtrees whose fold is the RFC 9162 hash of leaves ``[start, end)``.

    The range must be a node of the RFC 9162 tree of some size (``start`` a multiple of a
    power of two at least ``end - start``), which holds for ``[0, size)`` and for every
    subtree the proofs need. The result, left to right, is the binary decomposition of
    ``end - start``: ``MTH(D[start:end])`` is ``node_hash(h0, node_hash(h1, ... hk))`` over
    the listed nodes.

    Args:
        start: First leaf index of the range.
        end: One past the last leaf index; ``end > start``.

    Returns:
        ``(level, index)`` pairs naming the complete subtrees, largest first.

    Raises:
        ProofError: If the range is empty, negative or not a node of an RFC 9162 tree.
    """
    _check_int(start, "start")
    _check_int(end, "end")
    if end <= start:
        raise ProofError(f"range [{start}, {end}) is empty")
    width = end - start
    if start and start & ((1 << (width - 1).bit_length()) - 1):
        raise ProofError(f"range [{start}, {end}) is not a subtree of an RFC 9162 tree")
    nodes = []
    position = start
    for level in range(width.bit_length() - 1, -1, -1):
        if width >> level & 1:
            nodes.append((level, position >> level))
            position += 1 << level
    return nodes


def _path(index: int, size: int, subtree: _SubtreeHash) -> list[bytes]:
    """RFC 9162 §2.1.3.1 PATH(index, D[0:size]), bottom-up order."""
    proof: list[bytes] = []
    start, end = 0, size
    while end - start > 1:
        k = _split(end - start)
        if index < start + k:
            proof.append(subtree(start + k, end))
            end = start + k
        else:
            proof.append(subtree(start, start + k))
            start += k
    proof.reverse()
    return proof


def _subproof(size1: int, size2: int, subtree: _SubtreeHash) -> list[bytes]:
    """RFC 9162 §2.1.4.1 SUBPROOF(size1, D[0:size2], true), bottom-up order."""
    proof: list[bytes] = []
    start, end = 0, size2
    complete = True
    while True:
        m = size1 - start
        if m == end - start:
            if not complete:
                proof.append(subtree(start, end))
            break
        k = _split(end - start)
        if m <= k:
            proof.append(subtree(start + k, end))
            end = start + k
        else:
            proof.append(subtree(start, start + k))
            start += k
            complete = False
    proof.reverse()
    return proof


def _fold(hashes: list[bytes]) -> bytes:
    """Fold subtree hashes (largest first) into the hash of their concatenated range."""
    result = hashes[-1]
    for left in reversed(hashes[:-1]):
        result = node_hash(left, result)
    return result


def _list_subtree(hashes: list[bytes]) -> _SubtreeHash:
    def subtree(start: int, end: int) -> bytes:
        return _mth(hashes, start, end)

    return subtree


def _mth(hashes: list[bytes], start: int, end: int) -> bytes:
    """RFC 9162 MTH over leaf hashes ``hashes[start:end]`` (non-empty), level by level."""
    level = hashes[start:end]
    while len(level) > 1:
        paired = [node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            # An unpaired right-most node is promoted unchanged, which matches the RFC's
            # split at the largest power of two.
            paired.append(level[-1])
        level = paired
    return level[0]


def _node_subtree(get_node: NodeGetter) -> _SubtreeHash:
    def lookup(level: int, index: int) -> bytes:
        value = get_node(level, index)
        if not isinstance(value, bytes) or len(value) != HASH_SIZE:
            raise ProofError(
                f"stored node (level {level}, index {index}) is not a 32-byte hash",
                details={"level": level, "index": index},
            )
        return value

    def subtree(start: int, end: int) -> bytes:
        return _fold([lookup(level, i) for level, i in subtree_nodes_for_range(start, end)])

    return subtree


def _check_inclusion_args(index: object, size: object) -> tuple[int, int]:
    checked_size = _check_int(size, "tree size")
    checked_index = _check_int(index, "leaf index")
    if checked_index >= checked_size:
        raise ProofError(f"leaf index {checked_index} is not in a tree of size {checked_size}")
    return checked_index, checked_size


def _check_consistency_args(size1: object, size2: object) -> tuple[int, int]:
    first = _check_int(size1, "size1")
    second = _check_int(size2, "size2")
    if first > second:
        raise ProofError(f"size1 {first} is larger than size2 {second}: a log never shrinks")
    return first, second


# --------------------------------------------------------------------------- streaming


class RootBuilder:
    """The root of a growing tree from its leaves, one at a time, in O(log n) memory.

    It keeps the hashes of the complete subtrees on the tree's right edge (a compact
    range), so the root at any size is a fold of at most log2(n) hashes: the same value
    as :func:`root` of the whole list, without holding the list.
    """

    def __init__(self) -> None:
        self._edge: list[tuple[int, bytes]] = []  # (height, hash), heights decreasing
        self._size = 0

    @property
    def size(self) -> int:
        """How many leaves were added."""
        return self._size

    def add(self, leaf: bytes) -> None:
        """Add the next leaf's data (an entry hash).

        Raises:
            ProofError: if ``leaf`` is not bytes.
        """
        if not isinstance(leaf, bytes):
            raise ProofError("a leaf is bytes")
        height, node = 0, leaf_hash(leaf)
        while self._edge and self._edge[-1][0] == height:
            _, left = self._edge.pop()
            node = node_hash(left, node)
            height += 1
        self._edge.append((height, node))
        self._size += 1

    def root(self) -> bytes:
        """The RFC 9162 root of the leaves added so far (:data:`EMPTY_ROOT` for none)."""
        if not self._edge:
            return EMPTY_ROOT
        node = self._edge[-1][1]
        for _, left in reversed(self._edge[:-1]):
            node = node_hash(left, node)
        return node


# --------------------------------------------------------------------------- list-based


def root(leaves: Sequence[bytes]) -> bytes:
    """Return the RFC 9162 Merkle tree hash of all ``leaves``.

    Args:
        leaves: Raw leaf data (each item is hashed with :func:`leaf_hash`).

    Returns:
        The 32-byte root; :data:`EMPTY_ROOT` for no leaves.

    Raises:
        ProofError: If ``leaves`` is not a sequence of ``bytes``.
    """
    if isinstance(leaves, str | bytes | bytearray | memoryview) or not isinstance(leaves, Sequence):
        raise ProofError("leaves must be a sequence of bytes")
    hashes = _check_leaves(leaves, len(leaves))
    return _mth(hashes, 0, len(hashes)) if hashes else EMPTY_ROOT


def inclusion_proof(leaves: Sequence[bytes], index: int, size: int) -> list[bytes]:
    """Return the RFC 9162 §2.1.3.1 inclusion proof ``PATH(index, D[0:size])``.

    Args:
        leaves: Raw leaf data; only the first ``size`` items count.
        index: Zero-based index of the leaf to prove.
        size: Size of the tree the proof is for.

    Returns:
        Sibling hashes from the leaf upwards (empty for a tree of size 1).

    Raises:
        ProofError: If ``index`` is not in ``[0, size)``, ``size`` exceeds the number of
            leaves, or an argument has the wrong type.
    """
    checked_index, checked_size = _check_inclusion_args(index, size)
    hashes = _check_leaves(leaves, checked_size)
    return _path(checked_index, checked_size, _list_subtree(hashes))


def consistency_proof(leaves: Sequence[bytes], size1: int, size2: int) -> list[bytes]:
    """Return the RFC 9162 §2.1.4.1 consistency proof between sizes ``size1`` and ``size2``.

    ``PROOF(size1, D[0:size2])`` is ``SUBPROOF(size1, D[0:size2], true)``. It is empty when
    ``size1 == size2`` or ``size1 == 0`` (see the module notes for how those verify).

    Args:
        leaves: Raw leaf data; only the first ``size2`` items count.
        size1: Size of the older tree.
        size2: Size of the newer tree.

    Returns:
        The proof hashes, in the order :func:`verify_consistency` consumes them.

    Raises:
        ProofError: If ``size1 > size2``, ``size2`` exceeds the number of leaves, or an
            argument has the wrong type.
    """
    first, second = _check_consistency_args(size1, size2)
    hashes = _check_leaves(leaves, second)
    if first in (0, second):
        return []
    return _subproof(first, second, _list_subtree(hashes))


# --------------------------------------------------------------------------- node-based


def root_from_nodes(size: int, get_node: NodeGetter) -> bytes:
    """Return the root of the tree of ``size`` leaves from stored complete subtrees.

    Args:
        size: Number of leaves.
        get_node: ``get_node(level, index)`` returns the stored hash of the complete
            subtree covering leaves ``[index * 2**level, (index + 1) * 2**level)``.

    Returns:
        The 32-byte root (:data:`EMPTY_ROOT` for size 0), after at most log2(size) + 1
        lookups.

    Raises:
        ProofError: If ``size`` is invalid or ``get_node`` returns something other than a
            32-byte ``bytes`` value. Exceptions raised by ``get_node`` itself propagate.
    """
    checked = _check_int(size, "tree size")
    if checked == 0:
        return EMPTY_ROOT
    return _node_subtree(get_node)(0, checked)


def inclusion_proof_from_nodes(index: int, size: int, get_node: NodeGetter) -> list[bytes]:
    """Return the same proof as :func:`inclusion_proof`, from stored complete subtrees.

    Args:
        index: Zero-based index of the leaf to prove.
        size: Size of the tree the proof is for.
        get_node: See :func:`root_from_nodes`.

    Returns:
        Sibling hashes from the leaf upwards, using at most 2 * log2(size) + 1 lookups
        (only the first sibling that touches the right edge needs a fold).

    Raises:
        ProofError: If ``index`` is not in ``[0, size)`` or ``get_node`` returns a bad value.
    """
    checked_index, checked_size = _check_inclusion_args(index, size)
    return _path(checked_index, checked_size, _node_subtree(get_node))


def consistency_proof_from_nodes(size1: int, size2: int, get_node: NodeGetter) -> list[bytes]:
    """Return the same proof as :func:`consistency_proof`, from stored complete subtrees.

    Args:
        size1: Size of the older tree.
        size2: Size of the newer tree.
        get_node: See :func:`root_from_nodes`.

    Returns:
        The proof hashes (empty when ``size1`` is 0 or equals ``size2``), using at most
        2 * log2(size2) + 1 lookups.

    Raises:
        ProofError: If ``size1 > size2``, a size is invalid, or ``get_node`` returns a bad
            value.
    """
    first, second = _check_consistency_args(size1, size2)
    if first in (0, second):
        return []
    return _subproof(first, second, _node_subtree(get_node))


# --------------------------------------------------------------------------- verification


def verify_inclusion(
    leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """Check an inclusion proof with the algorithm of RFC 9162 §2.1.3.2.

    Args:
        leaf_hash: The leaf's hash (``leaf_hash(data)``, not the raw data).
        index: Zero-based index of the leaf.
        size: Size of the tree whose root is ``root``.
        proof: The inclusion path, bottom-up.
        root: The expected root of the tree of ``size`` leaves.

    Raises:
        ProofError: If any argument is malformed (wrong type, negative or out-of-range
            integers, hashes that are not 32 ``bytes``), the proof has the wrong length,
            or the recomputed root differs from ``root``. Nothing else is ever raised.
    """
    checked_index, checked_size = _check_inclusion_args(index, size)
    path = _check_proof(proof)
    current = _check_hash(leaf_hash, "leaf hash")
    expected = _check_hash(root, "root")

    fn, sn = checked_index, checked_size - 1
    for p in path:
        if sn == 0:
            raise ProofError("inclusion proof is too long for this tree size")
        if fn & 1 or fn == sn:
            current = node_hash(p, current)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            current = node_hash(current, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("inclusion proof is too short for this tree size")
    if current != expected:
        raise ProofError("inclusion proof does not lead to the expected root")


def verify_consistency(
    size1: int, size2: int, proof: Sequence[bytes], root1: bytes, root2: bytes
) -> None:
    """Check a consistency proof with the algorithm of RFC 9162 §2.1.4.2.

    Args:
        size1: Size of the older tree.
        size2: Size of the newer tree.
        proof: The consistency proof.
        root1: Root of the older tree.
        root2: Root of the newer tree.

    Raises:
        ProofError: If any argument is malformed, ``size1 > size2``, the proof has the
            wrong length, or the recomputed roots differ from ``root1`` / ``root2``. The
            edge cases ``size1 == 0`` and ``size1 == size2`` are described in the module
            docstring. Nothing else is ever raised.
    """
    first, second = _check_consistency_args(size1, size2)
    path = _check_proof(proof)
    first_hash = _check_hash(root1, "root1")
    second_hash = _check_hash(root2, "root2")

    if first == 0:
        if path:
            raise ProofError("a consistency proof from the empty tree must be empty")
        if first_hash != EMPTY_ROOT:
            raise ProofError("root1 is not the root of the empty tree")
        return
    if first == second:
        if path:
            raise ProofError("a consistency proof between equal sizes must be empty")
        if first_hash != second_hash:
            raise ProofError("two trees of the same size have different roots")
        return
    if not path:
        raise ProofError("consistency proof is empty")

    if first & (first - 1) == 0:
        path = [first_hash, *path]
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError("consistency proof is too long for these sizes")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("consistency proof is too short for these sizes")
    if fr != first_hash:
        raise ProofError("consistency proof does not lead to root1")
    if sr != second_hash:
        raise ProofError("consistency proof does not lead to root2")
