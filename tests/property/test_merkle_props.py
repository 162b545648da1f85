"""Property tests for points_ledger.merkle: proofs verify, any corruption is caught."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from points_ledger.errors import ProofError
from points_ledger.merkle import (
    RootBuilder,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    root,
    verify_consistency,
    verify_inclusion,
)

# Distinct leaves: with two equal leaves a proof for one is, correctly, a proof for the other.
leaf_lists = st.lists(st.binary(max_size=8), min_size=1, max_size=80, unique=True)


def _flip(value: bytes, bit: int) -> bytes:
    bit %= len(value) * 8
    out = bytearray(value)
    out[bit // 8] ^= 1 << (bit % 8)
    return bytes(out)


@st.composite
def tree_and_index(draw: st.DrawFn) -> tuple[list[bytes], int, int]:
    leaves = draw(leaf_lists)
    size = draw(st.integers(1, len(leaves)))
    index = draw(st.integers(0, size - 1))
    return leaves, index, size


@st.composite
def tree_and_sizes(draw: st.DrawFn) -> tuple[list[bytes], int, int]:
    leaves = draw(leaf_lists)
    size2 = draw(st.integers(1, len(leaves)))
    size1 = draw(st.integers(0, size2))
    return leaves, size1, size2


@given(tree_and_index(), st.integers(min_value=0))
def test_inclusion_proofs_verify_and_bit_flips_fail(
    case: tuple[list[bytes], int, int], bit: int
) -> None:
    leaves, index, size = case
    rt = root(leaves[:size])
    lh = leaf_hash(leaves[index])
    proof = inclusion_proof(leaves, index, size)
    verify_inclusion(lh, index, size, proof, rt)

    for i in range(len(proof)):
        bad = list(proof)
        bad[i] = _flip(bad[i], bit)
        with pytest.raises(ProofError):
            verify_inclusion(lh, index, size, bad, rt)
    with pytest.raises(ProofError):
        verify_inclusion(lh, index, size, proof, _flip(rt, bit))
    with pytest.raises(ProofError):
        verify_inclusion(_flip(lh, bit), index, size, proof, rt)


@given(tree_and_index(), st.data())
def test_inclusion_with_other_index_fails(
    case: tuple[list[bytes], int, int], data: st.DataObject
) -> None:
    leaves, index, size = case
    assume(size > 1)
    other = data.draw(st.integers(0, size - 1).filter(lambda j: j != index))
    proof = inclusion_proof(leaves, index, size)
    with pytest.raises(ProofError):
        verify_inclusion(leaf_hash(leaves[index]), other, size, proof, root(leaves[:size]))


@given(tree_and_index(), st.integers(0, 300))
def test_inclusion_with_other_size_fails(case: tuple[list[bytes], int, int], other: int) -> None:
    # The RFC 9162 algorithm binds the size only through the shape of the path (the root
    # binds the rest), so a proof can also "fit" another size whose path has the same shape,
    # e.g. index 0 in sizes 5 and 6. We check every size whose path length differs.
    leaves, index, size = case
    assume(other != size)
    proof = inclusion_proof(leaves, index, size)
    if other > index:
        assume(len(inclusion_proof([b""] * other, index, other)) != len(proof))
    with pytest.raises(ProofError):
        verify_inclusion(leaf_hash(leaves[index]), index, other, proof, root(leaves[:size]))


@given(tree_and_sizes(), st.integers(min_value=0))
def test_consistency_proofs_verify_and_bit_flips_fail(
    case: tuple[list[bytes], int, int], bit: int
) -> None:
    leaves, size1, size2 = case
    r1, r2 = root(leaves[:size1]), root(leaves[:size2])
    proof = consistency_proof(leaves, size1, size2)
    verify_consistency(size1, size2, proof, r1, r2)

    for i in range(len(proof)):
        bad = list(proof)
        bad[i] = _flip(bad[i], bit)
        with pytest.raises(ProofError):
            verify_consistency(size1, size2, bad, r1, r2)
    with pytest.raises(ProofError):
        verify_consistency(size1, size2, proof, _flip(r1, bit), r2)
    if size1 != 0:  # from the empty tree, any well-formed root2 is consistent
        with pytest.raises(ProofError):
            verify_consistency(size1, size2, proof, r1, _flip(r2, bit))


@given(tree_and_sizes(), st.integers(0, 300), st.booleans())
def test_consistency_with_other_sizes_fails(
    case: tuple[list[bytes], int, int], other: int, change_first: bool
) -> None:
    leaves, size1, size2 = case
    assume(0 < size1 < size2)
    proof = consistency_proof(leaves, size1, size2)
    s1, s2 = (other, size2) if change_first else (size1, other)
    assume((s1, s2) != (size1, size2))
    if 0 < s1 < s2:
        # Same caveat as for inclusion: only sizes that change the proof's length.
        assume(len(consistency_proof([b""] * s2, s1, s2)) != len(proof))
    with pytest.raises(ProofError):
        verify_consistency(s1, s2, proof, root(leaves[:size1]), root(leaves[:size2]))


garbage: st.SearchStrategy[Any] = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True),
    st.binary(max_size=40),
    st.text(max_size=5),
    st.lists(st.one_of(st.binary(min_size=31, max_size=33), st.integers()), max_size=4),
    st.lists(st.binary(min_size=32, max_size=32), max_size=70),
    st.dictionaries(st.integers(), st.integers(), max_size=2),
    st.builds(bytearray, st.binary(min_size=32, max_size=32)),
)


@settings(max_examples=300)
@given(garbage, garbage, garbage, garbage, garbage)
def test_garbage_only_raises_proof_error(a: Any, b: Any, c: Any, d: Any, e: Any) -> None:
    for call in (
        lambda: verify_inclusion(a, b, c, d, e),
        lambda: verify_consistency(a, b, c, d, e),
        lambda: inclusion_proof(a, b, c),
        lambda: consistency_proof(a, b, c),
        lambda: root(a),
    ):
        with contextlib.suppress(ProofError):
            call()


@settings(max_examples=300)
@given(
    st.integers(0, 2**64 + 5),
    st.integers(0, 2**64 + 5),
    st.lists(st.binary(min_size=32, max_size=32), max_size=66),
    st.binary(min_size=32, max_size=32),
    st.binary(min_size=32, max_size=32),
)
def test_well_typed_random_inputs_only_raise_proof_error(
    a: int, b: int, proof: list[bytes], h1: bytes, h2: bytes
) -> None:
    calls: tuple[Callable[[], None], ...] = (
        lambda: verify_inclusion(h1, a, b, proof, h2),
        lambda: verify_consistency(a, b, proof, h1, h2),
    )
    for call in calls:
        with contextlib.suppress(ProofError):
            call()


@given(st.lists(st.binary(min_size=32, max_size=32), max_size=70))
def test_root_builder_agrees_with_the_reference_at_every_size(leaves: list[bytes]) -> None:
    builder = RootBuilder()
    assert builder.root() == root([])
    for n, leaf in enumerate(leaves, start=1):
        builder.add(leaf)
        assert builder.size == n
        assert builder.root() == root(leaves[:n])
