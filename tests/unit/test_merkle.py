"""Known-answer and edge-case tests for points_ledger.merkle.

Test vectors: the RFC 6962 reference inputs used by Certificate Transparency
implementations, with roots and proofs copied from transparency-dev/merkle
``proof/verify_test.go`` (commit 02194e9afb6c1d95b5381350007963aa70fff472,
https://github.com/transparency-dev/merkle/blob/main/proof/verify_test.go). That file
lists inclusion proofs with 1-based leaf numbers; they are converted to 0-based indexes.
"""

from __future__ import annotations

import random

import pytest

from points_ledger.errors import LedgerError, ProofError
from points_ledger.merkle import (
    EMPTY_ROOT,
    consistency_proof,
    consistency_proof_from_nodes,
    inclusion_proof,
    inclusion_proof_from_nodes,
    leaf_hash,
    node_hash,
    root,
    root_from_nodes,
    subtree_nodes_for_range,
    verify_consistency,
    verify_inclusion,
)

LEAVES = [
    b"",
    b"\x00",
    b"\x10",
    b"\x20\x21",
    b"\x30\x31",
    b"\x40\x41\x42\x43",
    b"\x50\x51\x52\x53\x54\x55\x56\x57",
    b"\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f",
]

ROOTS = {
    0: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    1: "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    2: "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    3: "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    4: "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    5: "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    6: "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    7: "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    8: "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
}

# (0-based index, size, proof)
INCLUSION = [
    (0, 1, []),
    (
        0,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        5,
        8,
        [
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (
        1,
        5,
        [
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
]

# (size1, size2, proof)
CONSISTENCY = [
    (1, 1, []),
    (
        1,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        5,
        [
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
    (
        6,
        7,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
]

SOME_HASH = bytes.fromhex("abacaba000000000000000000000000000000000000000000060061e00123456")


def _h(values: list[str]) -> list[bytes]:
    return [bytes.fromhex(v) for v in values]


def node_store(leaves: list[bytes]) -> dict[tuple[int, int], bytes]:
    """Every complete subtree hash, as the ledger's store keeps them."""
    nodes = {(0, i): leaf_hash(data) for i, data in enumerate(leaves)}
    level = 0
    while True:
        count = len(leaves) >> (level + 1)
        if count == 0:
            return nodes
        for i in range(count):
            nodes[(level + 1, i)] = node_hash(nodes[(level, 2 * i)], nodes[(level, 2 * i + 1)])
        level += 1


class CountingStore:
    def __init__(self, leaves: list[bytes]) -> None:
        self.nodes = node_store(leaves)
        self.lookups = 0

    def get(self, level: int, index: int) -> bytes:
        self.lookups += 1
        return self.nodes[(level, index)]


# --------------------------------------------------------------------------- known answers


@pytest.mark.parametrize("size", range(9))
def test_roots_match_reference(size: int) -> None:
    assert root(LEAVES[:size]).hex() == ROOTS[size]
    nodes = node_store(LEAVES[:size])
    assert root_from_nodes(size, lambda lv, i: nodes[(lv, i)]).hex() == ROOTS[size]


def test_empty_root_is_sha256_of_nothing() -> None:
    assert EMPTY_ROOT.hex() == ROOTS[0]
    assert root([]) == EMPTY_ROOT


@pytest.mark.parametrize(("index", "size", "proof"), INCLUSION)
def test_inclusion_proofs_match_reference(index: int, size: int, proof: list[str]) -> None:
    expected = _h(proof)
    assert inclusion_proof(LEAVES, index, size) == expected
    nodes = node_store(LEAVES[:size])
    assert inclusion_proof_from_nodes(index, size, lambda lv, i: nodes[(lv, i)]) == expected
    verify_inclusion(leaf_hash(LEAVES[index]), index, size, expected, bytes.fromhex(ROOTS[size]))


@pytest.mark.parametrize(("size1", "size2", "proof"), CONSISTENCY)
def test_consistency_proofs_match_reference(size1: int, size2: int, proof: list[str]) -> None:
    expected = _h(proof)
    assert consistency_proof(LEAVES, size1, size2) == expected
    nodes = node_store(LEAVES[:size2])
    assert consistency_proof_from_nodes(size1, size2, lambda lv, i: nodes[(lv, i)]) == expected
    verify_consistency(
        size1, size2, expected, bytes.fromhex(ROOTS[size1]), bytes.fromhex(ROOTS[size2])
    )


# --------------------------------------------------------------------------- corruption probes
# The same probes as transparency-dev/merkle's corruptInclusionProof/corruptConsistencyProof.


Probe = tuple[int, int, bytes, bytes, list[bytes]]


def _inclusion_probes(
    index: int, size: int, proof: list[bytes], rt: bytes, lh: bytes
) -> list[Probe]:
    probes: list[Probe] = [
        (index - 1, size, rt, lh, proof),
        (index + 1, size, rt, lh, proof),
        (index ^ 2, size, rt, lh, proof),
        (index, size * 2, rt, lh, proof),
        (index, size // 2, rt, lh, proof),
        (index, size, rt, b"WrongLeaf", proof),
        (index, size, rt, leaf_hash(b"WrongLeaf"), proof),
        (index, size, EMPTY_ROOT, lh, proof),
        (index, size, SOME_HASH, lh, proof),
        (index, size, rt, lh, [*proof, b""]),
        (index, size, rt, lh, [*proof, rt]),
        (index, size, rt, lh, [b"", *proof]),
        (index, size, rt, lh, [rt, *proof]),
    ]
    for i in range(len(proof)):
        wrong = list(proof)
        wrong[i] = bytes([wrong[i][0] ^ 8]) + wrong[i][1:]
        probes.append((index, size, rt, lh, wrong))
    if proof:
        probes.append((index, size, rt, lh, proof[:-1]))
    if len(proof) > 1:
        probes.append((index, size, rt, lh, [proof[0], SOME_HASH, *proof[1:]]))
    return probes


@pytest.mark.parametrize(("index", "size", "proof"), INCLUSION)
def test_corrupted_inclusion_proofs_fail(index: int, size: int, proof: list[str]) -> None:
    rt = bytes.fromhex(ROOTS[size])
    lh = leaf_hash(LEAVES[index])
    for i, s, r, leaf, p in _inclusion_probes(index, size, _h(proof), rt, lh):
        with pytest.raises(ProofError):
            verify_inclusion(leaf, i, s, p, r)


@pytest.mark.parametrize(("size1", "size2", "proof"), CONSISTENCY[1:])
def test_corrupted_consistency_proofs_fail(size1: int, size2: int, proof: list[str]) -> None:
    p = _h(proof)
    r1, r2 = bytes.fromhex(ROOTS[size1]), bytes.fromhex(ROOTS[size2])
    probes = [
        (size1 - 1, size2, r1, r2, p),
        (size1 + 1, size2, r1, r2, p),
        (size1 ^ 2, size2, r1, r2, p),
        (size1, size2 * 2, r1, r2, p),
        (size1, size2 // 2, r1, r2, p),
        (size1, size2, b"WrongRoot", r2, p),
        (size1, size2, r1, b"WrongRoot", p),
        (size1, size2, SOME_HASH, r2, p),
        (size1, size2, r1, SOME_HASH, p),
        (size1, size2, r2, r1, p),
        (size1, size2, r1, r2, []),
        (size1, size2, r1, r2, [*p, b""]),
        (size1, size2, r1, r2, [*p, r1]),
        (size1, size2, r1, r2, [*p, r2]),
        (size1, size2, r1, r2, [b"", *p]),
        (size1, size2, r1, r2, [r1, *p]),
        (size1, size2, r1, r2, [r2, *p]),
        (size1, size2, r1, r2, [p[0], *p]),
        (size1, size2, r1, r2, p[:-1]),
    ]
    for i in range(len(p)):
        wrong = list(p)
        wrong[i] = bytes([wrong[i][0] ^ 16]) + wrong[i][1:]
        probes.append((size1, size2, r1, r2, wrong))
    for s1, s2, a, b, proof_ in probes:
        with pytest.raises(ProofError):
            verify_consistency(s1, s2, proof_, a, b)


# --------------------------------------------------------------------------- edge cases


def test_single_leaf_tree() -> None:
    h = leaf_hash(b"data")
    assert root([b"data"]) == h
    assert inclusion_proof([b"data"], 0, 1) == []
    verify_inclusion(h, 0, 1, [], h)
    with pytest.raises(ProofError):
        verify_inclusion(h, 0, 1, [], b"")
    with pytest.raises(ProofError):
        verify_inclusion(b"", 0, 1, [], h)


@pytest.mark.parametrize(("index", "size"), [(0, 0), (1, 0), (1, 1), (2, 1), (-1, 4)])
def test_inclusion_index_out_of_range(index: int, size: int) -> None:
    with pytest.raises(ProofError):
        verify_inclusion(SOME_HASH, index, size, [], EMPTY_ROOT)
    with pytest.raises(ProofError):
        inclusion_proof(LEAVES, index, size)


def test_consistency_equal_sizes() -> None:
    r = bytes.fromhex(ROOTS[5])
    verify_consistency(5, 5, [], r, r)
    assert consistency_proof(LEAVES, 5, 5) == []
    with pytest.raises(ProofError):  # different roots
        verify_consistency(5, 5, [], r, SOME_HASH)
    with pytest.raises(ProofError):  # non-empty proof
        verify_consistency(5, 5, [r], r, r)
    verify_consistency(0, 0, [], EMPTY_ROOT, EMPTY_ROOT)


def test_consistency_from_empty_tree() -> None:
    assert consistency_proof(LEAVES, 0, 8) == []
    verify_consistency(0, 8, [], EMPTY_ROOT, bytes.fromhex(ROOTS[8]))
    verify_consistency(0, 3, [], EMPTY_ROOT, SOME_HASH)  # anything, if well formed
    with pytest.raises(ProofError):  # proof must be empty
        verify_consistency(0, 8, [EMPTY_ROOT], EMPTY_ROOT, bytes.fromhex(ROOTS[8]))
    with pytest.raises(ProofError):  # root1 must be the empty-tree root
        verify_consistency(0, 8, [], SOME_HASH, bytes.fromhex(ROOTS[8]))
    with pytest.raises(ProofError):  # root2 must still be a hash
        verify_consistency(0, 8, [], EMPTY_ROOT, b"short")


def test_consistency_shrinking_or_empty_proof_fails() -> None:
    r = bytes.fromhex(ROOTS[2])
    for s1, s2, proof in [(1, 0, []), (2, 1, []), (1, 2, []), (3, 2, [r])]:
        with pytest.raises(ProofError):
            verify_consistency(s1, s2, proof, r, r)
    with pytest.raises(ProofError):
        consistency_proof(LEAVES, 3, 2)


BAD_INTS: list[object] = [True, False, -1, 1.0, "1", None, 2**64, b"\x01"]
BAD_HASHES: list[object] = [None, "", "a" * 32, bytearray(32), b"\x00" * 31, b"\x00" * 33, 7]


@pytest.mark.parametrize("bad", BAD_INTS)
def test_bad_integers_raise_proof_error(bad: object) -> None:
    r = bytes.fromhex(ROOTS[8])
    lh = leaf_hash(LEAVES[0])
    proof = inclusion_proof(LEAVES, 0, 8)
    with pytest.raises(ProofError):
        verify_inclusion(lh, bad, 8, proof, r)  # type: ignore[arg-type]
    with pytest.raises(ProofError):
        verify_inclusion(lh, 0, bad, proof, r)  # type: ignore[arg-type]
    with pytest.raises(ProofError):
        verify_consistency(bad, 8, [], r, r)  # type: ignore[arg-type]
    with pytest.raises(ProofError):
        verify_consistency(1, bad, [], r, r)  # type: ignore[arg-type]
    with pytest.raises(ProofError):
        inclusion_proof(LEAVES, bad, 8)  # type: ignore[arg-type]
    with pytest.raises(ProofError):
        consistency_proof(LEAVES, 1, bad)  # type: ignore[arg-type]
    with pytest.raises(ProofError):
        root_from_nodes(bad, lambda lv, i: r)  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", BAD_HASHES)
def test_bad_hashes_raise_proof_error(bad: object) -> None:
    r = bytes.fromhex(ROOTS[8])
    lh = leaf_hash(LEAVES[0])
    proof = inclusion_proof(LEAVES, 0, 8)
    with pytest.raises(ProofError):
        verify_inclusion(bad, 0, 8, proof, r)  # type: ignore[arg-type]
    with pytest.raises(ProofError):
        verify_inclusion(lh, 0, 8, proof, bad)  # type: ignore[arg-type]
    with pytest.raises(ProofError):
        verify_inclusion(lh, 0, 8, [*proof[:2], bad], r)  # type: ignore[list-item]
    with pytest.raises(ProofError):
        verify_consistency(0, 8, [], bad, r)  # type: ignore[arg-type]
    with pytest.raises(ProofError):
        verify_consistency(8, 8, [], r, bad)  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", [None, b"\x00" * 32, "abc", 5, {1: 2}, [b"x"] * 65])
def test_bad_proof_containers_raise_proof_error(bad: object) -> None:
    r = bytes.fromhex(ROOTS[8])
    with pytest.raises(ProofError):
        verify_inclusion(leaf_hash(LEAVES[0]), 0, 8, bad, r)  # type: ignore[arg-type]
    with pytest.raises(ProofError):
        verify_consistency(1, 8, bad, r, r)  # type: ignore[arg-type]


def test_overlong_proof_rejected_cheaply() -> None:
    with pytest.raises(ProofError):
        verify_inclusion(SOME_HASH, 0, 2**64 - 1, [SOME_HASH] * 65, SOME_HASH)


@pytest.mark.parametrize("bad", [None, b"abc", "abc", [b"a", "b"], [1]])
def test_bad_leaves_raise_proof_error(bad: object) -> None:
    with pytest.raises(ProofError):
        root(bad)  # type: ignore[arg-type]
    with pytest.raises(ProofError):
        inclusion_proof(bad, 0, 2)  # type: ignore[arg-type]


def test_size_larger_than_leaves() -> None:
    with pytest.raises(ProofError):
        inclusion_proof(LEAVES, 0, 9)
    with pytest.raises(ProofError):
        consistency_proof(LEAVES, 1, 9)


def test_only_first_size_leaves_count() -> None:
    assert inclusion_proof([*LEAVES, b"extra"], 5, 8) == inclusion_proof(LEAVES, 5, 8)
    assert consistency_proof([*LEAVES, b"x"], 6, 8) == consistency_proof(LEAVES, 6, 8)


def test_errors_are_ledger_errors() -> None:
    with pytest.raises(LedgerError) as info:
        verify_inclusion(SOME_HASH, 0, 1, [], EMPTY_ROOT)
    assert info.value.code == "proof_invalid"


# --------------------------------------------------------------------------- node-based


def test_subtree_nodes_for_range() -> None:
    assert subtree_nodes_for_range(0, 1) == [(0, 0)]
    assert subtree_nodes_for_range(0, 7) == [(2, 0), (1, 2), (0, 6)]
    assert subtree_nodes_for_range(8, 13) == [(2, 2), (0, 12)]
    for start, end in [(1, 3), (2, 5), (3, 3), (4, 2), (-1, 2)]:
        with pytest.raises(ProofError):
            subtree_nodes_for_range(start, end)


def test_node_functions_agree_with_lists_for_small_trees() -> None:
    leaves = [i.to_bytes(2, "big") for i in range(70)]
    for size in range(71):
        store = CountingStore(leaves[:size])
        assert root_from_nodes(size, store.get) == root(leaves[:size])
        bound = 2 * size.bit_length() + 1
        for index in range(size):
            store.lookups = 0
            assert inclusion_proof_from_nodes(index, size, store.get) == inclusion_proof(
                leaves, index, size
            )
            assert store.lookups <= bound
        for size1 in range(size + 1):
            store.lookups = 0
            assert consistency_proof_from_nodes(size1, size, store.get) == consistency_proof(
                leaves, size1, size
            )
            assert store.lookups <= bound


def test_node_functions_agree_with_lists_for_random_large_trees() -> None:
    rng = random.Random(6962)
    leaves = [rng.randbytes(32) for _ in range(3000)]
    full = CountingStore(leaves)
    for _ in range(40):
        size = rng.randint(1, len(leaves))
        rt = root(leaves[:size])
        full.lookups = 0
        assert root_from_nodes(size, full.get) == rt
        assert full.lookups <= size.bit_length()
        index = rng.randrange(size)
        proof = inclusion_proof_from_nodes(index, size, full.get)
        assert proof == inclusion_proof(leaves, index, size)
        verify_inclusion(leaf_hash(leaves[index]), index, size, proof, rt)
        size1 = rng.randint(0, size)
        cproof = consistency_proof_from_nodes(size1, size, full.get)
        assert cproof == consistency_proof(leaves, size1, size)
        verify_consistency(size1, size, cproof, root(leaves[:size1]), rt)


def test_node_lookups_are_logarithmic() -> None:
    size = 1_000_003
    calls = 0

    def get(level: int, index: int) -> bytes:
        nonlocal calls
        calls += 1
        return SOME_HASH

    inclusion_proof_from_nodes(size - 1, size, get)
    assert calls <= 2 * size.bit_length() + 1
    calls = 0
    inclusion_proof_from_nodes(12345, size, get)
    assert calls <= 2 * size.bit_length() + 1
    calls = 0
    consistency_proof_from_nodes(777_777, size, get)
    assert calls <= 2 * size.bit_length() + 1


@pytest.mark.parametrize("bad", [None, b"short", "x" * 32, bytearray(32)])
def test_bad_stored_node_raises_proof_error(bad: object) -> None:
    with pytest.raises(ProofError):
        root_from_nodes(5, lambda lv, i: bad)  # type: ignore[arg-type,return-value]
    with pytest.raises(ProofError):
        inclusion_proof_from_nodes(0, 5, lambda lv, i: bad)  # type: ignore[arg-type,return-value]


def test_a_proof_refused_says_why() -> None:
    # A proof one hash too long or too short, or one that leads elsewhere, is refused for
    # that reason: the reason is what tells a resident whether the office sent the wrong
    # tree size or a wrong tree.
    leaves = [bytes([i]) for i in range(7)]
    path = inclusion_proof(leaves, 2, 7)
    top = root(leaves)
    extra = b"\x07" * 32
    with pytest.raises(ProofError, match="inclusion proof is too long"):
        verify_inclusion(leaf_hash(leaves[2]), 2, 7, [*path, extra], top)
    with pytest.raises(ProofError, match="inclusion proof is too short"):
        verify_inclusion(leaf_hash(leaves[2]), 2, 7, path[:-1], top)
    with pytest.raises(ProofError, match="does not lead to the expected root"):
        verify_inclusion(leaf_hash(leaves[3]), 2, 7, path, top)
    proof = consistency_proof(leaves, 3, 7)
    old = root(leaves[:3])
    with pytest.raises(ProofError, match="consistency proof is too long"):
        verify_consistency(3, 7, [*proof, extra], old, top)
    with pytest.raises(ProofError, match="consistency proof is too short"):
        verify_consistency(3, 7, proof[:-1], old, top)
    with pytest.raises(ProofError, match="does not lead to root1"):
        verify_consistency(3, 7, proof, root(leaves[:2]), top)
    with pytest.raises(ProofError, match="does not lead to root2"):
        verify_consistency(3, 7, proof, old, root(leaves[:6]))
    with pytest.raises(ProofError, match="consistency proof is empty"):
        verify_consistency(3, 7, [], old, top)


def test_the_longest_proof_of_a_uint64_tree_is_accepted_and_one_more_hash_is_not() -> None:
    # The first leaf of the largest tree (2**64 - 1 leaves) has a path of 64 hashes, each
    # the right-hand sibling on the way up: the root is their fold, computed here.
    leaf = leaf_hash(b"first")
    path = [bytes([i]) * 32 for i in range(64)]
    top = leaf
    for sibling in path:
        top = node_hash(top, sibling)
    verify_inclusion(leaf, 0, 2**64 - 1, path, top)
    with pytest.raises(ProofError, match="proof has 65 hashes; no valid proof has more than 64"):
        verify_inclusion(leaf, 0, 2**64 - 1, [*path, path[0]], top)


def test_every_proof_between_sizes_up_to_forty_verifies() -> None:
    # Sizes such as 13 -> 14 and 25 -> 28 take the proof's shortcut where both trees
    # share a subtree with more than one set bit; small sizes alone never reach it.
    leaves = [bytes([i]) for i in range(40)]
    roots = [root(leaves[:n]) for n in range(41)]
    for size2 in range(1, 41):
        for size1 in range(1, size2 + 1):
            proof = consistency_proof(leaves, size1, size2)
            verify_consistency(size1, size2, proof, roots[size1], roots[size2])
        for index in range(size2):
            path = inclusion_proof(leaves, index, size2)
            verify_inclusion(leaf_hash(leaves[index]), index, size2, path, roots[size2])
