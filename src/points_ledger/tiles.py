"""The log as C2SP tlog-tiles: paths, hash tiles and entry bundles, written and read back.

The layout follows the tlog-tiles specification (c2sp.org/tlog-tiles):

* ``checkpoint``: the signed checkpoint note (c2sp.org/tlog-checkpoint), with any witness
  cosignatures (c2sp.org/tlog-cosignature);
* ``tile/<L>/<N>[.p/<W>]``: hash tiles. A tile at level ``L`` holds up to 256 hashes of
  tree level ``8 * L``: the hashes of the complete subtrees of ``256 ** L`` leaves, in
  order. ``N`` is written in 3-digit path elements, all but the last prefixed with ``x``
  (1234067 is ``x001/x234/067``); ``.p/<W>`` marks a partial tile of ``W`` hashes;
* ``tile/entries/<N>[.p/<W>]``: entry bundles of up to 256 entries, each a big-endian
  16-bit length followed by the entry's bytes.

Here an entry's bytes are the ledger's Merkle leaf data, the 32-byte entry hash (see
:func:`points_ledger.canonical.entry_hash`), so ``SHA-256(0x00 || bytes)`` is the RFC
9162 leaf hash and the root built from the bundles is the checkpoint's root.

Full tiles never change once written; a partial tile is replaced by a wider file beside
it, never rewritten, so a folder can be served by any static web server or object store.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Final

from points_ledger.errors import IntegrityError
from points_ledger.merkle import leaf_hash, node_hash

__all__ = [
    "TILE_HEIGHT",
    "TILE_WIDTH",
    "entry_bundle",
    "parse_entry_bundle",
    "read_leaf_data",
    "tile_levels",
    "tile_path",
    "write_once",
    "write_tiles",
]

TILE_HEIGHT: Final = 8
"""Tree levels covered by one tile (tiles of ``2 ** 8`` hashes)."""

TILE_WIDTH: Final = 1 << TILE_HEIGHT
"""Hashes in a full tile, and entries in a full bundle (256)."""

_HASH_SIZE: Final = 32
_MAX_ENTRY: Final = 0xFFFF


def tile_path(level: int | str, index: int, width: int = TILE_WIDTH) -> str:
    """Return the tlog-tiles path of a tile, ``tile/<L>/<N>[.p/<W>]``.

    Args:
        level: The tile level (0, 1, ...) or ``"entries"`` for an entry bundle.
        index: The tile's index within its level.
        width: Hashes (or entries) it holds, 1 to 256; below 256 the path is partial.

    Raises:
        ValueError: for a negative index or a width outside 1..256.
    """
    if index < 0 or not 1 <= width <= TILE_WIDTH:
        raise ValueError(f"no tile {index} of width {width}")
    digits = f"{index:d}"
    digits = digits.rjust((len(digits) + 2) // 3 * 3, "0")
    parts = [digits[i : i + 3] for i in range(0, len(digits), 3)]
    encoded = "/".join([*(f"x{p}" for p in parts[:-1]), parts[-1]])
    suffix = "" if width == TILE_WIDTH else f".p/{width}"
    return f"tile/{level}/{encoded}{suffix}"


def entry_bundle(entries: Sequence[bytes]) -> bytes:
    """Encode up to 256 entries as one bundle (16-bit big-endian length before each).

    Raises:
        ValueError: for more than 256 entries or an entry longer than 65,535 bytes.
    """
    if len(entries) > TILE_WIDTH:
        raise ValueError("a bundle holds at most 256 entries")
    out = bytearray()
    for data in entries:
        if len(data) > _MAX_ENTRY:
            raise ValueError("an entry in a bundle is at most 65,535 bytes")
        out += len(data).to_bytes(2, "big") + data
    return bytes(out)


def parse_entry_bundle(data: bytes) -> list[bytes]:
    """Decode an entry bundle into its entries.

    Raises:
        IntegrityError: if the bundle is cut short.
    """
    entries: list[bytes] = []
    position = 0
    while position < len(data):
        if position + 2 > len(data):
            raise IntegrityError("an entry bundle ends inside a length prefix")
        length = int.from_bytes(data[position : position + 2], "big")
        position += 2
        if position + length > len(data):
            raise IntegrityError("an entry bundle ends inside an entry")
        entries.append(data[position : position + length])
        position += length
    return entries


def tile_levels(leaf_data: Sequence[bytes]) -> list[list[bytes]]:
    """Hashes of every complete subtree, by tree level: ``levels[0]`` are the leaf hashes.

    ``levels[h][i]`` is the RFC 9162 hash of leaves ``i * 2**h .. (i + 1) * 2**h - 1``.
    """
    levels = [[leaf_hash(data) for data in leaf_data]]
    while len(levels[-1]) > 1:
        below = levels[-1]
        levels.append([node_hash(below[i], below[i + 1]) for i in range(0, len(below) - 1, 2)])
    return levels


def write_once(root: Path, relative: str, data: bytes) -> bool:
    """Write ``data`` at ``root / relative`` unless the same bytes are already there.

    Returns:
        True if the file was written, False if it was already there.

    Raises:
        IntegrityError: if a file already there holds other bytes.
    """
    path = root / relative
    if path.exists():
        if path.read_bytes() != data:
            raise IntegrityError(
                f"the published file {relative} holds other bytes than this ledger's log",
                hint="The folder was published from another ledger, or a file in it was "
                "changed. Publish into an empty folder, or restore the folder from its copy.",
            )
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_bytes(data)
    temporary.replace(path)
    return True


def write_tiles(root: Path, leaf_data: Sequence[bytes]) -> list[str]:
    """Write the hash tiles and entry bundles of a log of ``len(leaf_data)`` entries.

    Files already present with the same bytes are left alone.

    Returns:
        The paths written (relative to ``root``).

    Raises:
        IntegrityError: if a file already there holds other bytes.
    """
    written: list[str] = []
    size = len(leaf_data)
    for n in range(0, (size + TILE_WIDTH - 1) // TILE_WIDTH):
        chunk = leaf_data[n * TILE_WIDTH : (n + 1) * TILE_WIDTH]
        relative = tile_path("entries", n, len(chunk))
        if write_once(root, relative, entry_bundle(chunk)):
            written.append(relative)
    levels = tile_levels(leaf_data)
    level = 0
    while level * TILE_HEIGHT < len(levels):
        hashes = levels[level * TILE_HEIGHT]
        if not hashes:
            break
        for n in range(0, (len(hashes) + TILE_WIDTH - 1) // TILE_WIDTH):
            chunk = hashes[n * TILE_WIDTH : (n + 1) * TILE_WIDTH]
            relative = tile_path(level, n, len(chunk))
            if write_once(root, relative, b"".join(chunk)):
                written.append(relative)
        level += 1
    return written


def read_leaf_data(root: Path, size: int) -> list[bytes]:
    """Read the first ``size`` entries back from the entry bundles under ``root``.

    Uses the full bundle where there is one, else the partial bundle of exactly the width
    needed, as a client of the specification would.

    Raises:
        IntegrityError: if a bundle is missing or does not hold the entries it should.
    """
    entries: list[bytes] = []
    for n in range(0, (size + TILE_WIDTH - 1) // TILE_WIDTH):
        width = min(TILE_WIDTH, size - n * TILE_WIDTH)
        candidates: Iterable[str] = dict.fromkeys(
            [tile_path("entries", n), tile_path("entries", n, width)]
        )
        path = next((root / c for c in candidates if (root / c).is_file()), None)
        if path is None:
            raise IntegrityError(f"entry bundle {n} of the published log is missing")
        bundle = parse_entry_bundle(path.read_bytes())
        if len(bundle) < width:
            raise IntegrityError(f"entry bundle {n} holds {len(bundle)} entries, not {width}")
        entries.extend(bundle[:width])
    return entries
