"""What :func:`verify_receipt` checks, one rule at a time, on a ledger in memory.

Each test pins a check of ``receipts.py`` that a single changed line could otherwise
weaken unnoticed: the document's size and format, the hash encodings of both formats,
the witnesses and their quorum, the trusted checkpoint, the entry's fields against its
hash, the leaf index and the checkpoint's size, canonical base64. They are quick enough
for a mutation run to repeat them for every mutant of the module.
"""

from __future__ import annotations

import base64
import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import ORIGIN, seeded_signer
from memory_world import memory_world
from points_ledger import (
    IntegrityError,
    Ledger,
    NoteError,
    ProofError,
    Receipt,
    VerifiedReceipt,
    Witness,
    verify_receipt,
)
from points_ledger.canonical import entry_hash
from points_ledger.models.entries import Signature
from points_ledger.notes import ALG_COSIGNATURE_V1, vkey_for
from points_ledger.receipts import RECEIPT_FORMAT_V1, RECEIPT_JSON_MAX, ReceiptSignature

STREET = "street.example/witness"
LIBRARY = "library.example/witness"
TWIN = "twin.example/witness"


@dataclass
class Logs:
    """A ledger in memory with two checkpoints and two witnesses."""

    ledger: Ledger
    vkey: str
    first: str
    """The checkpoint note of the first ``first_size`` entries (not cosigned)."""
    first_size: int
    latest: str
    """The checkpoint note of every entry, cosigned by both witnesses."""
    latest_size: int
    street: Witness
    library: Witness
    street_only: str
    """The latest checkpoint note cosigned by the street witness alone."""


@pytest.fixture(scope="module")
def logs(tmp_path_factory: pytest.TempPathFactory) -> Logs:
    folder = tmp_path_factory.mktemp("receipts")
    world = memory_world()
    for _ in range(3):
        world.issue("m1", 5)
    record = folder / "record"
    first = world.ledger.checkpoint(world.log_key, record)
    for _ in range(4):
        world.issue("m2", 3)
    latest = world.ledger.checkpoint(world.log_key, record)
    log_vkey = world.ledger.log_vkey()
    street, library = (
        Witness(folder / f"w{i}.db", name=name, key=seeded_signer(name), logs={ORIGIN: log_vkey})
        for i, name in enumerate((STREET, LIBRARY))
    )
    street_line = street.cosign(latest.note, world.ledger.prove_consistency(0, latest.size))
    library_line = library.cosign(latest.note, world.ledger.prove_consistency(0, latest.size))
    return Logs(
        ledger=world.ledger,
        vkey=log_vkey,
        first=first.note,
        first_size=first.size,
        latest=latest.note + street_line + library_line,
        latest_size=latest.size,
        street=street,
        library=library,
        street_only=latest.note + street_line,
    )


def _receipt(logs: Logs, seq: int | None = None, note: str | None = None) -> Receipt:
    return logs.ledger.receipt(logs.latest_size - 2 if seq is None else seq, note or logs.latest)


def _edited(receipt: Receipt, **fields: object) -> str:
    """The receipt's JSON with ``fields`` replaced (parsed again, so checked again)."""
    document = json.loads(receipt.to_json())
    document.update(fields)
    return json.dumps(document)


# --- what a good receipt gives -------------------------------------------------------------


def test_a_receipt_verifies_with_every_fact_it_checked(logs: Logs) -> None:
    seq = logs.latest_size - 2
    entry = logs.ledger.entry(seq)
    checked = verify_receipt(
        _receipt(logs), logs.vkey, witnesses=[logs.street.vkey(), logs.library.vkey()]
    )
    assert (checked.origin, checked.seq, checked.checkpoint_body.size) == (
        ORIGIN,
        seq,
        logs.latest_size,
    )
    assert checked.witnessed_by == (STREET, LIBRARY)
    assert checked.witness_quorum == 2
    assert checked.trusted_size is None
    assert checked.entry_hash == entry.hash
    assert checked.postings == entry.postings
    assert checked.signatures == entry.signatures
    assert checked.recorded_at == entry.recorded_at
    assert checked.event.id == entry.event_id
    assert checked.checkpoint_note == logs.latest


def test_the_first_and_the_last_entry_of_a_checkpoint_verify(logs: Logs) -> None:
    for seq in (0, logs.first_size - 1):
        assert verify_receipt(_receipt(logs, seq, logs.first), logs.vkey).seq == seq
    last = logs.latest_size - 1
    assert verify_receipt(_receipt(logs, last), logs.vkey).seq == last


# --- the document --------------------------------------------------------------------------


def test_a_document_of_the_largest_size_is_read_and_one_byte_more_is_not(logs: Logs) -> None:
    text = _receipt(logs).to_json().encode()
    largest = text + b" " * (RECEIPT_JSON_MAX - len(text))
    assert Receipt.from_json(largest) == _receipt(logs)
    assert verify_receipt(largest, logs.vkey).seq == logs.latest_size - 2
    with pytest.raises(ProofError, match="larger than"):
        Receipt.from_json(largest + b" ")


def test_only_json_text_of_a_known_format_is_a_receipt(logs: Logs) -> None:
    receipt = _receipt(logs)
    with pytest.raises(ProofError, match="JSON text"):
        Receipt.from_json(receipt)  # type: ignore[arg-type]
    with pytest.raises(ProofError, match="expected a Receipt"):
        verify_receipt(42, logs.vkey)  # type: ignore[arg-type]
    with pytest.raises(ProofError, match="not one this version reads"):
        Receipt.from_json(_edited(receipt, format="points-ledger-receipt/v9"))
    with pytest.raises(ProofError, match="not a valid receipt"):
        Receipt.from_json(json.dumps([receipt.model_dump()]))
    with pytest.raises(ProofError, match=r"not a valid receipt: .*Invalid JSON"):
        Receipt.from_json(receipt.to_json()[:-1])
    with pytest.raises(NoteError, match="must be a string"):
        verify_receipt(receipt, None)  # type: ignore[arg-type]


def test_format_1_writes_hashes_in_hex_and_format_2_in_base64(logs: Logs) -> None:
    receipt = _receipt(logs)
    hexed = {name: receipt.hash_bytes(name).hex() for name in ("prev_hash", "entry_hash")}
    old = Receipt.from_json(_edited(receipt, format=RECEIPT_FORMAT_V1, **hexed))
    assert old.hash_bytes("entry_hash") == receipt.hash_bytes("entry_hash")
    assert verify_receipt(old, logs.vkey).entry_hash == receipt.hash_bytes("entry_hash")
    with pytest.raises(ProofError, match="64 hex digits"):
        Receipt.from_json(_edited(receipt, format=RECEIPT_FORMAT_V1))
    with pytest.raises(ProofError, match="base64"):
        Receipt.from_json(_edited(receipt, **hexed))
    with pytest.raises(ProofError, match="entry_hash must be 64 hex digits"):
        Receipt.from_json(_edited(receipt, format=RECEIPT_FORMAT_V1, prev_hash=hexed["prev_hash"]))


# --- witnesses -----------------------------------------------------------------------------


def test_witnesses_are_a_list_of_cosignature_keys_other_than_the_log_key(logs: Logs) -> None:
    receipt = _receipt(logs)
    with pytest.raises(NoteError, match="sequence"):
        verify_receipt(receipt, logs.vkey, witnesses=logs.street.vkey())
    with pytest.raises(NoteError, match="must be a string"):
        verify_receipt(receipt, logs.vkey, witnesses=[42])  # type: ignore[list-item]
    with pytest.raises(NoteError, match="not a cosignature key"):
        verify_receipt(receipt, logs.vkey, witnesses=[logs.vkey])
    log_public = logs.ledger.config.log_key
    own = vkey_for(
        "log.example/witness",
        seeded_signer("log").private_key.public_key(),
        ALG_COSIGNATURE_V1,
    )
    assert log_public == seeded_signer("log").public_key
    with pytest.raises(NoteError, match="log's own key"):
        verify_receipt(receipt, logs.vkey, witnesses=[own])


@pytest.mark.parametrize("quorum", [True, -1, 3, "2"])
def test_an_impossible_quorum_is_refused(logs: Logs, quorum: object) -> None:
    witnesses = [logs.street.vkey(), logs.library.vkey()]
    with pytest.raises(NoteError, match="impossible"):
        verify_receipt(_receipt(logs), logs.vkey, witnesses=witnesses, quorum=quorum)  # type: ignore[arg-type]


def test_quorum_counts_the_witnesses_that_cosigned(logs: Logs) -> None:
    both = [logs.street.vkey(), logs.library.vkey()]
    receipt = _receipt(logs, note=logs.street_only)
    with pytest.raises(NoteError, match="cosigned by 1 of the witnesses given") as info:
        verify_receipt(receipt, logs.vkey, witnesses=both)
    assert info.value.details == {"witnessed_by": [STREET], "quorum": 2}
    assert f"given ({STREET}), but 2 are required" in str(info.value)
    with pytest.raises(NoteError, match=r"given \(none\), but 1 are required"):
        verify_receipt(_receipt(logs, 0, logs.first), logs.vkey, witnesses=both[:1])
    checked = verify_receipt(receipt, logs.vkey, witnesses=both, quorum=1)
    assert (checked.witnessed_by, checked.witness_quorum) == ((STREET,), 1)
    none = verify_receipt(receipt, logs.vkey, witnesses=both, quorum=0)
    assert (none.witnessed_by, none.witness_quorum) == ((STREET,), 0)
    full = verify_receipt(_receipt(logs), logs.vkey, witnesses=both, quorum=2)
    assert full.witnessed_by == (STREET, LIBRARY)
    assert verify_receipt(receipt, logs.vkey).witnessed_by == ()


def test_one_witness_under_two_names_counts_once(logs: Logs, tmp_path: Path) -> None:
    twin = Witness(
        tmp_path / "twin.db", name=TWIN, key=seeded_signer(STREET), logs={ORIGIN: logs.vkey}
    )
    size = logs.latest_size
    note = logs.street_only + twin.cosign(logs.street_only, logs.ledger.prove_consistency(0, size))
    both = [logs.street.vkey(), twin.vkey()]
    checked = verify_receipt(_receipt(logs, note=note), logs.vkey, witnesses=both)
    assert (checked.witnessed_by, checked.witness_quorum) == ((STREET,), 1)
    with pytest.raises(NoteError, match="quorum of 2 is impossible with 1 different"):
        verify_receipt(_receipt(logs, note=note), logs.vkey, witnesses=both, quorum=2)


def test_one_witness_key_given_twice_counts_once(logs: Logs) -> None:
    street = logs.street.vkey()
    receipt = _receipt(logs, note=logs.street_only)
    checked = verify_receipt(receipt, logs.vkey, witnesses=[street, street])
    assert (checked.witnessed_by, checked.witness_quorum) == ((STREET,), 1)
    with pytest.raises(NoteError, match="quorum of 2 is impossible with 1 different"):
        verify_receipt(receipt, logs.vkey, witnesses=[street, street], quorum=2)


# --- the checkpoint ------------------------------------------------------------------------


def test_the_receipt_and_its_checkpoint_name_the_same_ledger(logs: Logs) -> None:
    other = _receipt(logs).model_copy(update={"origin": "other.example/log"})
    with pytest.raises(NoteError, match=r"receipt is for 'other\.example/log'"):
        verify_receipt(other, logs.vkey)


def test_a_trusted_checkpoint_is_the_same_tree_or_proven_to_be_extended(logs: Logs) -> None:
    receipt = _receipt(logs)
    assert verify_receipt(receipt, logs.vkey, trusted=logs.latest).trusted_size == (
        logs.latest_size
    )
    proof = logs.ledger.prove_consistency(logs.first_size, logs.latest_size)
    grown = verify_receipt(receipt, logs.vkey, trusted=logs.first, consistency_proof=proof)
    assert grown.trusted_size == logs.first_size
    with pytest.raises(ProofError):
        verify_receipt(receipt, logs.vkey, trusted=logs.first)
    with pytest.raises(NoteError, match="signed note"):
        verify_receipt(receipt, logs.vkey, trusted=b"note")  # type: ignore[arg-type]


def test_an_entry_after_the_checkpoint_is_not_covered_by_it(logs: Logs) -> None:
    after = _receipt(logs, logs.first_size).model_copy(update={"checkpoint": logs.first})
    with pytest.raises(ProofError, match=f"not covered by a checkpoint of size {logs.first_size}"):
        verify_receipt(after, logs.vkey)


def test_the_leaf_index_is_the_seq(logs: Logs) -> None:
    receipt = _receipt(logs)
    moved = receipt.model_copy(update={"leaf_index": receipt.seq + 1})
    with pytest.raises(ProofError, match="leaf index"):
        verify_receipt(moved, logs.vkey)


def test_a_shortened_inclusion_proof_does_not_verify(logs: Logs) -> None:
    receipt = _receipt(logs)
    short = receipt.model_copy(update={"inclusion_proof": receipt.inclusion_proof[:-1]})
    with pytest.raises(ProofError):
        verify_receipt(short, logs.vkey)


# --- the entry's fields --------------------------------------------------------------------


def test_every_field_of_the_entry_is_bound_by_its_hash(logs: Logs) -> None:
    receipt = _receipt(logs)
    posting = receipt.postings[0].model_copy(update={"amount": receipt.postings[0].amount - 1})
    other = _receipt(logs, 1)
    for update in (
        {"postings": (posting, *receipt.postings[1:])},
        {"seq": receipt.seq - 1, "leaf_index": receipt.seq - 1},
        {"recorded_at_us": receipt.recorded_at_us + 1},
        {"prev_hash": other.prev_hash},
        {"event": other.event},
        {"signatures": other.signatures},
    ):
        with pytest.raises(IntegrityError, match="do not match its hash") as info:
            verify_receipt(receipt.model_copy(update=update), logs.vkey)
        assert info.value.seq == update.get("seq", receipt.seq)


def test_malformed_signatures_and_postings_are_reported_as_altered(logs: Logs) -> None:
    receipt = _receipt(logs)
    short = ReceiptSignature(key_id=receipt.signatures[0].key_id, signature="AAAA")
    with pytest.raises(IntegrityError, match="receipt signature 0 is malformed"):
        verify_receipt(receipt.model_copy(update={"signatures": (short,)}), logs.vkey)
    zero = receipt.postings[1].model_copy(update={"amount": 0})
    with pytest.raises(IntegrityError, match="receipt posting 1 is malformed"):
        verify_receipt(
            receipt.model_copy(update={"postings": (receipt.postings[0], zero)}), logs.vkey
        )


def test_event_bytes_that_hash_correctly_must_still_be_an_event(logs: Logs) -> None:
    receipt = _receipt(logs)
    event = b'{"not":"an event"}'
    forged = entry_hash(
        seq=receipt.seq,
        recorded_at_us=receipt.recorded_at_us,
        prev_hash=receipt.hash_bytes("prev_hash"),
        event_bytes=event,
        signatures=tuple(
            Signature(key_id=s.key_id, signature=base64.b64decode(s.signature))
            for s in receipt.signatures
        ),
        postings=verify_receipt(receipt, logs.vkey).postings,
    )
    edited = receipt.model_copy(
        update={
            "event": base64.b64encode(event).decode(),
            "entry_hash": base64.b64encode(forged).decode(),
        }
    )
    with pytest.raises(IntegrityError, match="not a valid event"):
        verify_receipt(edited, logs.vkey)


def test_base64_must_be_valid_and_canonical(logs: Logs) -> None:
    receipt = _receipt(logs)
    step = receipt.inclusion_proof[0]
    # 32 bytes leave two unused bits in the last digit before "=": set one of them.
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    loose = step[:-2] + alphabet[alphabet.index(step[-2]) ^ 1] + "="
    assert base64.b64decode(loose) == base64.b64decode(step)
    proof = (loose, *receipt.inclusion_proof[1:])
    with pytest.raises(ProofError, match="inclusion proof is not canonical base64"):
        verify_receipt(receipt.model_copy(update={"inclusion_proof": proof}), logs.vkey)
    with pytest.raises(ProofError, match="event is not valid base64"):
        verify_receipt(receipt.model_copy(update={"event": "A"}), logs.vkey)
    # A receipt object built in code skips the document's checks: a stray character is
    # still invalid, not silently dropped.
    with pytest.raises(ProofError, match="event is not valid base64"):
        verify_receipt(receipt.model_copy(update={"event": receipt.event + "!"}), logs.vkey)


def _sized(receipt: Receipt, field: str, size: int) -> str:
    """The receipt's JSON with ``field`` holding ``size`` characters or items."""
    document = json.loads(receipt.to_json())
    signature, posting = document["signatures"][0], document["postings"][0]
    values: dict[str, object] = {
        "origin": "o" * size,
        "event": "A" * size,
        "checkpoint": "c" * size,
        "signatures": [signature] * size,
        "postings": [posting] * size,
        "inclusion_proof": [document["inclusion_proof"][0]] * size,
        "signature.key_id": [{**signature, "key_id": "k" * size}],
        "signature.signature": [{**signature, "signature": "A" * size}],
        "posting.account": [{**posting, "account": "a" * size}],
        "posting.asset": [{**posting, "asset": "P" * size}],
    }
    name = field.split(".")[0] + ("s" if "." in field else "")
    document[name] = values[field]
    return json.dumps(document)


@pytest.mark.parametrize(
    ("field", "largest"),
    [
        ("origin", 1024),
        ("event", 200_000),
        ("checkpoint", 1 << 16),
        ("signatures", 64),
        ("postings", 1024),
        ("inclusion_proof", 64),
        ("signature.key_id", 64),
        ("signature.signature", 200_000),
        ("posting.account", 64),
        ("posting.asset", 16),
    ],
)
def test_each_field_of_a_receipt_has_a_largest_size(logs: Logs, field: str, largest: int) -> None:
    receipt = _receipt(logs)
    Receipt.from_json(_sized(receipt, field, largest))
    with pytest.raises(ProofError, match="not a valid receipt"):
        Receipt.from_json(_sized(receipt, field, largest + 1))


def test_a_receipt_is_written_as_indented_json_of_at_most_one_mebibyte(logs: Logs) -> None:
    assert RECEIPT_JSON_MAX == 1 << 20  # documented as 1 MiB
    text = _receipt(logs).to_json()
    assert text.startswith('{\n  "format": "points-ledger-receipt/v2",\n  "origin": ')
    assert text == json.dumps(json.loads(text), indent=2, ensure_ascii=False)


def test_seq_and_leaf_index_are_never_negative(logs: Logs) -> None:
    first = _receipt(logs, 0, logs.first)
    assert Receipt.from_json(first.to_json()) == first
    for field in ("seq", "leaf_index"):
        with pytest.raises(ProofError, match="not a valid receipt"):
            Receipt.from_json(_edited(first, **{field: -1}))


def test_an_unknown_format_is_quoted_to_eighty_characters(logs: Logs) -> None:
    with pytest.raises(ProofError) as info:
        Receipt.from_json(_edited(_receipt(logs), format="v" * 100))
    assert f"the receipt's format {'v' * 80!r} is not one this version reads" in str(info.value)


def test_verified_facts_made_by_hand_default_to_no_witnesses_and_no_trusted_tree(
    logs: Logs,
) -> None:
    checked = verify_receipt(_receipt(logs), logs.vkey)
    by_hand = VerifiedReceipt(
        origin=checked.origin,
        seq=checked.seq,
        recorded_at=checked.recorded_at,
        event=checked.event,
        signatures=checked.signatures,
        postings=checked.postings,
        entry_hash=checked.entry_hash,
        checkpoint_body=checked.checkpoint_body,
    )
    assert (by_hand.checkpoint_note, by_hand.witnessed_by) == ("", ())
    assert (by_hand.witness_quorum, by_hand.trusted_size) == (0, None)
    assert (checked.witness_quorum, checked.trusted_size) == (0, None)
    with pytest.raises(dataclasses.FrozenInstanceError):
        checked.seq = 0  # type: ignore[misc]
