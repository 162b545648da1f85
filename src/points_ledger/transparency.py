"""Checkpoints, proofs and receipts over a ledger file; checkpoint checks for the audit.

Everything here reads the stored Merkle nodes (the hash of every complete subtree, written
on append), so a root or a proof at any size costs O(log n) reads through
:mod:`points_ledger.merkle`'s ``*_from_nodes`` builders.

The :class:`~points_ledger.ledger.Ledger` facade calls these functions; the audit calls
:func:`check_trusted_checkpoint` and :func:`check_stored_checkpoints`.

What the audit can name when a trusted checkpoint (size ``n``, root ``R``, held outside
the file) does not match:

* **truncation** (the file has fewer than ``n`` entries): the first missing seq, which is
  the file's current size;
* **rewriting** (the root of the first ``n`` entries is not ``R``): a root alone cannot
  say which leaf changed, so in general only "one of entries ``0 .. n-1`` was changed".
  When the file still holds the very same signed checkpoint, its older stored
  checkpoints are the ledger's own signed history, and a scan over them (stopping at the
  first that no longer matches: matching is monotone) brackets
  the first changed entry between the last checkpoint that still matches and the next
  one (exact when a checkpoint was signed after every entry);
* **equivocation**: a checkpoint in the file signed by the log key for size ``n`` with a
  root other than ``R`` proves the log key signed two histories.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from points_ledger._base64 import encode_b64
from points_ledger.canonical import event_from_bytes, ledger_id_of
from points_ledger.errors import (
    IntegrityError,
    InvalidEventError,
    LedgerError,
    NotFoundError,
    ProofError,
    SignatureError,
)
from points_ledger.keys import Signer, public_key_from_b64
from points_ledger.log_notes import log_verifier, log_vkey, verify_checkpoint_note
from points_ledger.logrecord import LogRecord
from points_ledger.merkle import (
    consistency_proof_from_nodes,
    inclusion_proof_from_nodes,
    root_from_nodes,
    verify_consistency,
)
from points_ledger.models.common import POSITION_MAX, from_microseconds, to_microseconds
from points_ledger.models.events import Genesis
from points_ledger.models.signed_checkpoint import SignedCheckpoint
from points_ledger.notes import CheckpointBody, NoteVerifier, sign_note
from points_ledger.receipts import (
    Receipt,
    receipt_posting,
    receipt_signature,
    verify_receipt,
)
from points_ledger.store import CheckpointRow, Store

__all__ = [
    "AddProblem",
    "check_record_binding",
    "check_stored_checkpoints",
    "check_trusted_checkpoint",
    "list_checkpoints",
    "make_receipt",
    "prove_consistency",
    "prove_inclusion",
    "sign_checkpoint",
    "tree_root",
    "tree_size",
]

AddProblem = Callable[[str, str, "int | None"], None]
"""``add(code, message, seq)``: how the audit collects problems."""


# --------------------------------------------------------------------------- roots and proofs


def tree_size(store: Store) -> int:
    """Number of entries (leaves) in the file."""
    head = store.head()
    return 0 if head is None else head.size


def _require_position(name: str, value: object) -> int:
    # Checked before the value is ever printed: Python refuses to turn an integer of
    # more than 4,300 digits into text, which would surface as a bare ValueError.
    if type(value) is not int or not 0 <= value <= POSITION_MAX:
        raise InvalidEventError(f"{name} must be a whole number from 0 to {POSITION_MAX:,}")
    return value


def _require_size(name: str, value: object, size: int) -> int:
    value = _require_position(name, value)
    if value > size:
        raise NotFoundError(f"{name} {value} is larger than the ledger ({size} entries)")
    return value


def tree_root(store: Store, size: int | None = None) -> bytes:
    """The RFC 9162 root of the first ``size`` entries (default: all of them).

    Raises:
        InvalidEventError: if ``size`` is not a whole number.
        NotFoundError: if ``size`` is larger than the ledger.
        StorageError: if a stored node is missing.
    """
    current = tree_size(store)
    checked = current if size is None else _require_size("size", size, current)
    return root_from_nodes(checked, store.merkle_node)


def prove_inclusion(store: Store, seq: int, size: int | None = None) -> list[bytes]:
    """The inclusion proof of entry ``seq`` in the tree of the first ``size`` entries.

    Raises:
        InvalidEventError: if ``seq`` or ``size`` is not a whole number.
        NotFoundError: if ``size`` is larger than the ledger or ``seq`` is not below it.
    """
    current = tree_size(store)
    checked = current if size is None else _require_size("size", size, current)
    seq = _require_position("seq", seq)
    if seq >= checked:
        raise NotFoundError(f"entry {seq} is not in a tree of {checked} entries", seq=seq)
    return inclusion_proof_from_nodes(seq, checked, store.merkle_node)


def prove_consistency(store: Store, size1: int, size2: int) -> list[bytes]:
    """The consistency proof between the trees of the first ``size1`` and ``size2`` entries.

    Raises:
        InvalidEventError: if a size is not a whole number or ``size1 > size2``.
        NotFoundError: if ``size2`` is larger than the ledger.
    """
    current = tree_size(store)
    first = _require_size("size1", size1, current)
    second = _require_size("size2", size2, current)
    if first > second:
        raise InvalidEventError(f"size1 {first} is larger than size2 {second}")
    return consistency_proof_from_nodes(first, second, store.merkle_node)


# --------------------------------------------------------------------------- checkpoints


def _from_row(row: CheckpointRow, verifier: NoteVerifier) -> SignedCheckpoint:
    """Parse and check a stored checkpoint; IntegrityError when anything is off."""
    if not isinstance(row.recorded_at_us, int) or isinstance(row.recorded_at_us, bool):
        raise IntegrityError(f"stored checkpoint of size {row.size!r} has a bad time")
    try:
        body = verify_checkpoint_note(row.note, verifier)
    except LedgerError as e:
        raise IntegrityError(
            f"stored checkpoint of size {row.size!r} does not verify with the log key: {e}"
        ) from e
    if body.size != row.size or body.root_hash != row.root or body.extensions:
        raise IntegrityError(
            f"stored checkpoint of size {row.size!r}: its columns differ from its signed note"
        )
    try:
        recorded_at = from_microseconds(row.recorded_at_us)
    except OverflowError as e:
        raise IntegrityError(f"stored checkpoint of size {body.size} has a bad time") from e
    return SignedCheckpoint(
        origin=body.origin,
        size=body.size,
        root_hash=body.root_hash,
        note=row.note if isinstance(row.note, str) else "",
        recorded_at=recorded_at,
    )


def list_checkpoints(store: Store, origin: str, log_key: bytes) -> list[SignedCheckpoint]:
    """Every stored checkpoint, smallest first, each signature checked.

    Raises:
        IntegrityError: if a stored checkpoint does not verify.
    """
    verifier = log_verifier(origin, log_key)
    return [_from_row(row, verifier) for row in store.checkpoint_rows()]


def sign_checkpoint(
    store: Store, origin: str, log_public_key: bytes, signer: Signer, now_us: int
) -> SignedCheckpoint:
    """Sign, store and return a checkpoint of the whole ledger (see ``Ledger.checkpoint``).

    Raises:
        SignatureError: if ``signer`` is not the ledger's log key.
        IntegrityError: if the tree no longer agrees with the last stored checkpoint.
    """
    if not isinstance(signer, Signer):
        raise SignatureError(f"checkpoints are signed by a Signer, not {type(signer).__name__}")
    if signer.public_key != log_public_key:
        raise SignatureError(
            "this key is not the ledger's log key; checkpoints must be signed by the key "
            "the genesis entry names",
            hint="Use the log key the ledger was created with (init writes it as keys/log.key); "
            "its verifier key is what points-ledger vkey (Ledger.log_vkey in Python) prints.",
            details={"key_id": signer.key_id},
        )
    verifier = log_verifier(origin, log_public_key)
    with store.write():
        size = tree_size(store)
        root = root_from_nodes(size, store.merkle_node)
        latest_row = store.latest_checkpoint_row()
        latest = None if latest_row is None else _from_row(latest_row, verifier)
        if latest is not None:
            _check_extends(store, latest, size, root)
            if latest.size == size:
                return latest
            now_us = max(now_us, to_microseconds(latest.recorded_at))
        body = CheckpointBody(origin, size, root)
        note = sign_note(body.to_text(), origin, signer.private_key)
        store.insert_checkpoint(CheckpointRow(size, root, note, now_us))
    return SignedCheckpoint(
        origin=origin,
        size=size,
        root_hash=root,
        note=note,
        recorded_at=from_microseconds(now_us),
    )


def _check_extends(store: Store, latest: SignedCheckpoint, size: int, root: bytes) -> None:
    evidence = {"last_checkpoint": latest.note}
    if latest.size > size:
        raise IntegrityError(
            f"the ledger has {size} entries but already signed a checkpoint of "
            f"{latest.size}: entries from {size} on are missing",
            seq=size,
            details=evidence,
        )
    try:
        proof = consistency_proof_from_nodes(latest.size, size, store.merkle_node)
        verify_consistency(latest.size, size, proof, latest.root_hash, root)
    except ProofError as e:
        raise IntegrityError(
            f"refusing to sign: the tree is not consistent with the checkpoint of size "
            f"{latest.size} this ledger already signed ({e})",
            details=evidence,
        ) from e


# --------------------------------------------------------------------------- receipts


def make_receipt(
    store: Store,
    origin: str,
    log_public_key: bytes,
    seq: int,
    checkpoint: SignedCheckpoint | str | None,
) -> Receipt:
    """Build a receipt for entry ``seq`` (see ``Ledger.receipt``); it is verified before return.

    Raises:
        NotFoundError: if there is no such entry (checked first) or no checkpoint covers it.
        NoteError: if a given checkpoint note is not signed by the log key.
        IntegrityError: if the file does not agree with the checkpoint.
    """
    verifier = log_verifier(origin, log_public_key)
    seq = _require_position("seq", seq)
    size = tree_size(store)
    if seq >= size:
        raise NotFoundError(
            f"there is no entry {seq}: the ledger has {size} entries",
            hint=f"Check the entry number: entries are numbered from 0 to {size - 1}.",
            seq=seq,
        )
    if checkpoint is None:
        row = store.latest_checkpoint_row()
        if row is None:
            raise NotFoundError(
                "the ledger has signed no checkpoint yet",
                hint="Sign one first (points-ledger checkpoint, or Ledger.checkpoint in Python), "
                "then ask again.",
            )
        note = _from_row(row, verifier).note
    elif isinstance(checkpoint, SignedCheckpoint):
        note = checkpoint.note
    elif isinstance(checkpoint, str):
        note = checkpoint
    else:
        raise InvalidEventError("checkpoint must be a SignedCheckpoint or a signed note")
    body = verify_checkpoint_note(note, verifier)
    if seq >= body.size:
        raise NotFoundError(
            f"entry {seq} is not covered by the checkpoint of size {body.size}",
            hint="Sign a newer checkpoint (points-ledger checkpoint, or Ledger.checkpoint in "
            "Python) and prove against that.",
            seq=seq,
        )
    if body.size > tree_size(store):
        raise IntegrityError(
            f"the checkpoint covers {body.size} entries but the file has {tree_size(store)}",
            seq=tree_size(store),
        )
    rows = list(store.entry_rows(seq, seq + 1))
    if not rows:  # pragma: no cover - seq < size
        raise NotFoundError(f"there is no entry {seq}", seq=seq)
    entry = rows[0]
    try:
        receipt = Receipt(
            origin=origin,
            seq=entry.seq,
            recorded_at_us=entry.recorded_at_us,
            event=encode_b64(entry.event),
            signatures=tuple(receipt_signature(s) for s in entry.signatures),
            postings=tuple(receipt_posting(p) for p in entry.postings),
            prev_hash=encode_b64(entry.prev_hash),
            entry_hash=encode_b64(entry.hash),
            leaf_index=entry.seq,
            inclusion_proof=tuple(
                encode_b64(h) for h in inclusion_proof_from_nodes(seq, body.size, store.merkle_node)
            ),
            checkpoint=note,
        )
        verify_receipt(receipt, verifier.to_vkey())
    except LedgerError as e:
        raise IntegrityError(
            f"entry {seq} cannot be proven against the checkpoint of size {body.size}: {e}",
            seq=seq,
        ) from e
    return receipt


# --------------------------------------------------------------------------- audit


def genesis_log_key(store: Store) -> tuple[str, bytes] | None:
    """Origin and log public key read from the genesis entry's bytes, or None if unreadable.

    The audit takes them from the log itself, not from the cached configuration.
    """
    identity = _genesis_identity(store)
    return None if identity is None else identity[:2]


def _genesis_identity(store: Store) -> tuple[str, bytes, bytes] | None:
    """Origin, log public key and ledger id from entry 0's bytes, or None if unreadable."""
    try:
        rows = list(store.entry_rows(0, 1))
        if not rows or rows[0].seq != 0:
            return None
        event = event_from_bytes(rows[0].event)
        if not isinstance(event, Genesis):
            return None
        return event.origin, public_key_from_b64(event.log_key), ledger_id_of(rows[0].event)
    except LedgerError:
        return None


def check_record_binding(store: Store, record: LogRecord, add: AddProblem) -> int | None:
    """Check that ``record`` belongs to this file's genesis; return the size it covers.

    The record's ledger id and log key must be those of the file's entry 0, and its latest
    checkpoint must verify with that log key; otherwise the file is not the ledger the
    record's holder signed (or entry 0 was replaced): that is reported, and None returned
    (the record then says nothing about the entries).
    """
    identity = _genesis_identity(store)
    if identity is None:
        add("record_mismatch", "the file has no readable genesis entry", 0)
        return None
    origin, log_public_key, genesis_id = identity
    if record.origin is None:
        return 0  # an unused record covers nothing yet
    ledger_id = genesis_id.hex()
    if (record.origin, record.ledger_id, record.log_vkey) != (
        origin,
        ledger_id,
        log_vkey(origin, log_public_key),
    ):
        add(
            "record_mismatch",
            f"the log record belongs to ledger {record.origin} (id {str(record.ledger_id)[:16]}…"
            f"), but this file's genesis entry is ledger {origin} (id {ledger_id[:16]}…): the "
            "file was replaced, or the record is another ledger's",
            0,
        )
        return None
    latest = record.latest()
    if latest is None:
        return 0
    try:
        body = verify_checkpoint_note(latest.note, log_verifier(origin, log_public_key))
    except LedgerError as e:
        add("record_mismatch", f"the log record's latest checkpoint does not verify: {e}", None)
        return None
    if (body.size, body.root_hash) != (latest.size, latest.root):
        add("record_mismatch", "the log record's latest checkpoint differs from its note", None)
        return None
    return latest.size


def check_trusted_checkpoint(store: Store, note: object, add: AddProblem) -> int:
    """Compare the file with a signed checkpoint held outside it; report what differs.

    See the module docstring for what can be named. Returns the size the checkpoint
    covers when it verifies (0 otherwise).
    """
    genesis = genesis_log_key(store)
    if genesis is None:
        add("trusted_checkpoint_rejected", "the file has no readable genesis entry", 0)
        return 0
    verifier = log_verifier(*genesis)
    try:
        trusted = verify_checkpoint_note(note, verifier)
    except LedgerError as e:
        add(
            "trusted_checkpoint_rejected",
            f"the checkpoint you hold does not verify with this file's log key ({e}); it "
            "belongs to another ledger, or this file's genesis entry was replaced",
            None,
        )
        return 0
    size, n = tree_size(store), trusted.size
    same_size = _verified_at(store, verifier, n)
    if same_size is not None and same_size.root_hash != trusted.root_hash:
        add(
            "equivocation",
            f"the log key signed two different roots for {n} entries: the checkpoint "
            "you hold and one stored in the file",
            None,
        )
    if size < n:
        # A note alone cannot tell entries cut from the end from entries removed in the
        # middle with the rest renumbered: say so, and name no seq it cannot prove.
        add(
            "truncated",
            f"the file has {size} entries but the trusted checkpoint covers {n}: "
            f"{n - size} entries were removed (from the end, or from anywhere with the rest "
            "renumbered; the log key holder's record names the first one)",
            None,
        )
        return n
    try:
        root = root_from_nodes(n, store.merkle_node)
    except LedgerError as e:
        add("unreadable", f"the Merkle nodes of the first {n} entries cannot be read: {e}", None)
        return n
    if root == trusted.root_hash:
        return n
    if same_size is None or same_size.root_hash != trusted.root_hash:
        add(
            "rewritten",
            f"entries 0 to {n - 1} do not match the trusted checkpoint of size {n}: at "
            "least one of them was changed, removed, inserted or moved (the root alone "
            "cannot say which; the log key holder's record names the first one)",
            None,
        )
        return n
    first, last = _bracket(store, verifier, n)
    add(
        "rewritten",
        f"entries 0 to {n - 1} do not match the trusted checkpoint of size {n}; the "
        f"ledger's own signed checkpoints place the first changed entry between {first} "
        f"and {last}",
        first,
    )
    return n


def _verified_rows(store: Store, verifier: NoteVerifier) -> Iterator[SignedCheckpoint]:
    """Stored checkpoints whose signature verifies, smallest first, streamed."""
    try:
        for row in store.checkpoint_rows():
            try:
                yield _from_row(row, verifier)
            except LedgerError:
                continue
    except LedgerError:
        return


def _verified_at(store: Store, verifier: NoteVerifier, size: int) -> SignedCheckpoint | None:
    for checkpoint in _verified_rows(store, verifier):
        if checkpoint.size == size:
            return checkpoint
        if checkpoint.size > size:
            break
    return None


def _bracket(store: Store, verifier: NoteVerifier, size: int) -> tuple[int, int]:
    """Where the first changed entry lies, from the signed checkpoints up to ``size``.

    Matching is monotone (if the first ``s`` entries still match, so do fewer), so the
    scan stops at the first checkpoint that no longer matches: bounded memory, and one
    O(log n) root per checkpoint scanned. The checkpoint at ``size`` does not match.
    """
    first = 0
    for checkpoint in _verified_rows(store, verifier):
        try:
            matches = root_from_nodes(checkpoint.size, store.merkle_node) == checkpoint.root_hash
        except LedgerError:
            matches = False
        if not matches or checkpoint.size >= size:
            return first, checkpoint.size - 1
        first = checkpoint.size
    return first, size - 1  # pragma: no cover - the checkpoint at ``size`` was found


def check_stored_checkpoints(store: Store, add: AddProblem) -> None:
    """Check every stored checkpoint: signature, root at its size, mutual consistency."""
    genesis = genesis_log_key(store)
    if genesis is None:
        return  # the replay reports the missing genesis
    verifier = log_verifier(*genesis)
    size = tree_size(store)
    previous: SignedCheckpoint | None = None
    try:
        for row in store.checkpoint_rows():
            previous = _check_stored(store, verifier, row, previous, size, add)
    except LedgerError as e:
        add("unreadable", f"the checkpoints table cannot be read: {e}", None)


def _check_stored(
    store: Store,
    verifier: NoteVerifier,
    row: CheckpointRow,
    previous: SignedCheckpoint | None,
    size: int,
    add: AddProblem,
) -> SignedCheckpoint | None:
    """Check one stored checkpoint; return the last one that matched the entries."""
    try:
        checkpoint = _from_row(row, verifier)
    except LedgerError as e:
        add("checkpoint_invalid", str(e), None)
        return previous
    if checkpoint.size > size:
        add(
            "truncated",
            f"a stored checkpoint covers {checkpoint.size} entries but the file has "
            f"{size}: entries {size} to {checkpoint.size - 1} are missing",
            size,
        )
        return previous
    try:
        root = root_from_nodes(checkpoint.size, store.merkle_node)
    except LedgerError as e:
        add("unreadable", f"Merkle nodes cannot be read: {e}", None)
        return previous
    if root != checkpoint.root_hash:
        first = 0 if previous is None else previous.size
        add(
            "checkpoint_mismatch",
            f"the stored checkpoint of size {checkpoint.size} does not match the entries; "
            f"the first changed entry is between {first} and {checkpoint.size - 1}",
            first,
        )
        return previous
    if previous is not None:
        if checkpoint.recorded_at < previous.recorded_at:
            add(
                "checkpoint_time_decreased",
                f"the checkpoint of size {checkpoint.size} is dated before the one of "
                f"size {previous.size}",
                None,
            )
        try:
            proof = consistency_proof_from_nodes(previous.size, checkpoint.size, store.merkle_node)
            verify_consistency(
                previous.size, checkpoint.size, proof, previous.root_hash, checkpoint.root_hash
            )
        except LedgerError as e:
            add(
                "checkpoint_inconsistent",
                f"checkpoints of sizes {previous.size} and {checkpoint.size} are not "
                f"consistent: {e}",
                None,
            )
    return checkpoint
