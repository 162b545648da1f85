"""Checkpoints, proofs, receipts, the witness and verification against outside state."""

from __future__ import annotations

import base64
import datetime as dt
import json
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from conftest import COMMITTEE_PEOPLE, committee_signer, seat_committee
from points_ledger import (
    AccountKind,
    Asset,
    EquivocationError,
    IntegrityError,
    InvalidEventError,
    Ledger,
    LedgerError,
    NoteError,
    NotFoundError,
    OpenAccount,
    Posting,
    ProofError,
    Receipt,
    RollbackError,
    Signature,
    SignatureError,
    SignedCheckpoint,
    Signer,
    StorageError,
    Transfer,
    UnknownKeyError,
    Witness,
    merkle,
    verify_receipt,
)
from points_ledger.canonical import signing_input
from points_ledger.keys import verify_signature
from points_ledger.notes import (
    ALG_ED25519,
    NoteVerifier,
    key_id,
    open_note,
    sign_note,
)
from points_ledger.receipts import RECEIPT_FORMAT

ORIGIN = "chengdu.example/chenghua/zhiqiang"
NONCE = "5eed" * 8
DAY = dt.date(2026, 11, 25)
LOG = Signer.from_seed(bytes([1]) * 32)
ADMIN = Signer.from_seed(bytes([2]) * 32)
WITNESS_KEY = Signer.from_seed(bytes([3]) * 32)
MOMENT = dt.datetime(2026, 11, 25, 9, 30, tzinfo=dt.UTC)
AWARD_SIGNERS = [ADMIN, *(committee_signer(person) for person in COMMITTEE_PEOPLE)]
"""New points need the admin and the committee quorum."""
SETUP = 2 + 2 * len(COMMITTEE_PEOPLE)
"""Entries before the first award: genesis, the committee (account and key each), one account."""


def fixed_clock() -> dt.datetime:
    return MOMENT


def award(i: int, points: int = 5) -> Transfer:
    return Transfer(
        id=f"award-{i}",
        effective_at=DAY,
        memo=f"visit {i}",
        postings=(
            Posting(account="issuer", asset=Asset.PTS, amount=-points),
            Posting(account="vol:0001", asset=Asset.PTS, amount=points),
        ),
    )


def build(path: Path, awards: int, *, altered: int | None = None) -> Ledger:
    """A ledger with genesis, the committee, one account, ``awards`` awards; same keys and clock.

    With ``altered`` the award with that number gives 500 points instead of 5, so two
    ledgers built this way agree on every entry before it and differ from it on.
    """
    ledger = Ledger.create(
        path,
        origin=ORIGIN,
        log_key=LOG,
        admins=[ADMIN],
        threshold=1,
        effective_at=DAY,
        clock=fixed_clock,
        nonce=NONCE,  # every file built here is the same ledger, up to the altered award
    )
    seat_committee(ledger, [ADMIN], effective_at=DAY)
    ledger.append(
        OpenAccount(
            id="open-vol", effective_at=DAY, account="vol:0001", account_kind=AccountKind.MEMBER
        ),
        [ADMIN],
    )
    assert ledger.size() == SETUP
    for i in range(awards):
        ledger.append(award(i, 500 if i == altered else 5), AWARD_SIGNERS)
    return ledger


def sign(ledger: Ledger, key: Signer = LOG) -> SignedCheckpoint:
    """Checkpoint ``ledger`` with ``key``; each file's log key holder keeps its own record."""
    return ledger.checkpoint(key, ledger.path.with_suffix(".record"))


def seq_of_award(i: int) -> int:
    return SETUP + i


def size_with(awards: int) -> int:
    """The size of a ledger built with ``awards`` awards."""
    return SETUP + awards


@pytest.fixture
def ledger(tmp_path: Path) -> Ledger:
    return build(tmp_path / "ledger.db", 20)


# --------------------------------------------------------------------------- checkpoints


def test_checkpoint_signs_stores_and_lists(ledger: Ledger) -> None:
    first = sign(ledger)
    assert first.size == ledger.size() == size_with(20)
    assert first.root_hash == ledger.root()
    assert first.note.startswith(
        f"{ORIGIN}\n{size_with(20)}\n{base64.b64encode(first.root_hash).decode()}\n\n"
    )
    verifier = NoteVerifier.from_vkey(ledger.log_vkey())
    assert verifier.name == ORIGIN
    assert open_note(first.note, [verifier]).text == first.text
    # Same size: the stored checkpoint comes back, nothing new is stored.
    assert sign(ledger) == first
    for i in range(20, 25):
        ledger.append(award(i), AWARD_SIGNERS)
    second = sign(ledger)
    assert second.size == size_with(25)
    assert ledger.checkpoints() == [first, second]
    assert ledger.audit().ok


def test_checkpoint_refuses_another_key(ledger: Ledger) -> None:
    with pytest.raises(SignatureError, match="not the ledger's log key"):
        sign(ledger, ADMIN)
    assert ledger.checkpoints() == []


def test_checkpoints_table_is_append_only(ledger: Ledger) -> None:
    sign(ledger)
    conn = sqlite3.connect(ledger.path)
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        conn.execute("UPDATE checkpoints SET size = 3")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        conn.execute("DELETE FROM checkpoints")
    conn.close()


def test_vkey_is_origin_keyid_and_key(ledger: Ledger) -> None:
    name, hex_id, material = ledger.log_vkey().split("+")
    assert name == ORIGIN
    assert bytes.fromhex(hex_id) == key_id(ORIGIN, ALG_ED25519, LOG.public_key)
    assert base64.b64decode(material) == b"\x01" + LOG.public_key


# --------------------------------------------------------------------------- proofs


def test_store_proofs_equal_list_based_proofs(ledger: Ledger) -> None:
    leaves = [entry.hash for entry in ledger.entries()]
    n = len(leaves)
    for size in range(0, n + 1):
        assert ledger.root(size) == merkle.root(leaves[:size])
        for seq in range(size):
            assert ledger.prove_inclusion(seq, size) == merkle.inclusion_proof(leaves, seq, size)
        for size1 in range(0, size + 1):
            expected = merkle.consistency_proof(leaves, size1, size)
            assert ledger.prove_consistency(size1, size) == expected
    assert ledger.prove_inclusion(3) == merkle.inclusion_proof(leaves, 3, n)


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda lg: lg.root(lg.size() + 1), NotFoundError),
        (lambda lg: lg.root(-1), InvalidEventError),
        (lambda lg: lg.root(True), InvalidEventError),
        (lambda lg: lg.prove_inclusion(lg.size()), NotFoundError),
        (lambda lg: lg.prove_inclusion(5, 5), NotFoundError),
        (lambda lg: lg.prove_inclusion(0, 99), NotFoundError),
        (lambda lg: lg.prove_inclusion("1"), InvalidEventError),
        (lambda lg: lg.prove_consistency(5, 3), InvalidEventError),
        (lambda lg: lg.prove_consistency(3, lg.size() + 1), NotFoundError),
        (lambda lg: lg.prove_consistency(1.0, 3), InvalidEventError),
        (lambda lg: lg.receipt(1), NotFoundError),  # no checkpoint yet
    ],
)
def test_bad_sizes_raise_ledger_errors(
    ledger: Ledger, call: Callable[[Ledger], object], error: type[LedgerError]
) -> None:
    with pytest.raises(error):
        call(ledger)


# --------------------------------------------------------------------------- receipts


def test_receipt_for_early_entry_verifies_offline_against_later_checkpoint(
    ledger: Ledger,
) -> None:
    sign(ledger)
    for i in range(20, 30):
        ledger.append(award(i), AWARD_SIGNERS)
    later = sign(ledger)
    receipt = ledger.receipt(seq_of_award(0))
    text = receipt.to_json()
    vkey = ledger.log_vkey()
    ledger.close()

    # Offline: only the JSON document and the vkey string.
    document = json.loads(text)
    assert document["format"] == "points-ledger-receipt/v2"
    assert document["checkpoint"] == later.note
    verified = verify_receipt(Receipt.from_json(text), vkey)
    assert verified.seq == seq_of_award(0)
    assert verified.checkpoint_body.size == later.size == size_with(30)
    assert verified.event.id == "award-0"
    assert [(p.account, p.amount) for p in verified.postings] == [("issuer", -5), ("vol:0001", 5)]
    assert verified.recorded_at == MOMENT
    assert verify_receipt(text, vkey) == verified


def test_receipt_against_an_older_or_cosigned_checkpoint(ledger: Ledger, tmp_path: Path) -> None:
    early = sign(ledger)
    ledger.append(award(20), AWARD_SIGNERS)
    sign(ledger)
    receipt = ledger.receipt(seq_of_award(3), early)
    assert verify_receipt(receipt, ledger.log_vkey()).checkpoint_body.size == early.size
    with pytest.raises(NotFoundError):
        ledger.receipt(ledger.size() - 1, early)

    with Witness(
        tmp_path / "w.db",
        name="witness.example/w",
        key=WITNESS_KEY,
        logs={ORIGIN: ledger.log_vkey()},
    ) as witness:
        cosigned = early.note + witness.cosign(early.note, [])
    receipt = ledger.receipt(seq_of_award(3), cosigned)
    assert receipt.checkpoint == cosigned
    assert verify_receipt(receipt, ledger.log_vkey()).seq == seq_of_award(3)


def test_receipt_for_an_entry_that_does_not_exist_is_not_found(ledger: Ledger) -> None:
    size = ledger.size()
    for _ in range(2):  # before any checkpoint, then after one
        with pytest.raises(NotFoundError) as caught:
            ledger.receipt(9999)
        assert caught.value.message == f"there is no entry 9999: the ledger has {size} entries"
        assert "checkpoint" not in caught.value.hint
        sign(ledger)
    ledger.append(award(20), AWARD_SIGNERS)
    with pytest.raises(NotFoundError, match="not covered by the checkpoint"):
        ledger.receipt(size)


def _mutations() -> list[tuple[str, Callable[[dict[str, object]], object]]]:
    def flip_b64(value: str) -> str:
        raw = bytearray(base64.b64decode(value))
        raw[len(raw) // 2] ^= 0x01
        return base64.b64encode(bytes(raw)).decode()

    def flip_hex(value: str) -> str:
        return ("0" if value[0] != "0" else "1") + value[1:]

    def set_(key: str, value: object) -> Callable[[dict[str, object]], None]:
        return lambda d: d.__setitem__(key, value)

    def edit(key: str, fn: Callable[[object], object]) -> Callable[[dict[str, object]], None]:
        return lambda d: d.__setitem__(key, fn(d[key]))

    def first_posting(field: str, value: object) -> Callable[[dict[str, object]], None]:
        def apply(d: dict[str, object]) -> None:
            postings = d["postings"]
            assert isinstance(postings, list)
            postings[0][field] = value

        return apply

    def checkpoint_root(d: dict[str, object]) -> None:
        note = d["checkpoint"]
        assert isinstance(note, str)
        lines = note.split("\n")
        lines[2] = base64.b64encode(bytes(32)).decode()
        d["checkpoint"] = "\n".join(lines)

    def resigned_by_other_key(d: dict[str, object]) -> None:
        note = d["checkpoint"]
        assert isinstance(note, str)
        text = note[: note.index("\n\n") + 1]
        d["checkpoint"] = sign_note(text, ORIGIN, ADMIN.private_key)

    return [
        ("format", set_("format", "points-ledger-receipt/v3")),
        ("origin", set_("origin", "other.example/x")),
        ("seq", edit("seq", lambda v: v + 1)),  # type: ignore[operator]
        ("recorded_at_us", edit("recorded_at_us", lambda v: v + 1)),  # type: ignore[operator]
        ("event byte", edit("event", flip_b64)),  # type: ignore[arg-type]
        ("event garbage", set_("event", "!!!")),
        (
            "signature byte",
            lambda d: d["signatures"][0].__setitem__(  # type: ignore[index]
                "signature",
                flip_b64(d["signatures"][0]["signature"]),  # type: ignore[index]
            ),
        ),
        ("signature dropped", set_("signatures", [])),
        ("posting amount", first_posting("amount", -6)),
        ("posting account", first_posting("account", "vol:0002")),
        ("posting asset", first_posting("asset", "CNY")),
        ("posting garbage", first_posting("asset", "GOLD")),
        ("postings swapped", edit("postings", lambda v: list(reversed(v)))),  # type: ignore[call-overload]
        ("prev_hash", edit("prev_hash", flip_hex)),  # type: ignore[arg-type]
        ("entry_hash", edit("entry_hash", flip_hex)),  # type: ignore[arg-type]
        ("leaf_index", edit("leaf_index", lambda v: v + 1)),  # type: ignore[operator]
        ("proof element", edit("inclusion_proof", lambda v: [flip_b64(v[0]), *v[1:]])),  # type: ignore[index]
        ("proof short", edit("inclusion_proof", lambda v: v[:-1])),  # type: ignore[index]
        ("proof long", edit("inclusion_proof", lambda v: [*v, v[0]])),  # type: ignore[index, misc]
        ("checkpoint root", checkpoint_root),
        ("checkpoint signer", resigned_by_other_key),
        ("checkpoint garbage", set_("checkpoint", "hello\n")),
        ("extra field", set_("extra", 1)),
        ("missing field", lambda d: d.pop("entry_hash")),
        ("wrong type", set_("seq", "2")),
        ("bool seq", set_("seq", True)),
    ]


@pytest.mark.parametrize(("name", "mutate"), _mutations(), ids=[m[0] for m in _mutations()])
def test_tampered_receipts_fail_with_ledger_errors(
    ledger: Ledger, name: str, mutate: Callable[[dict[str, object]], object]
) -> None:
    sign(ledger)
    document = json.loads(ledger.receipt(seq_of_award(2)).to_json())
    mutate(document)
    with pytest.raises((ProofError, NoteError, IntegrityError)) as caught:
        verify_receipt(json.dumps(document), ledger.log_vkey())
    # The hint speaks to whoever holds the receipt, not to the keeper of a ledger file.
    assert "backup" not in caught.value.hint
    if isinstance(caught.value, IntegrityError):
        assert "receipt" in caught.value.hint


@pytest.mark.parametrize(
    "garbage",
    [b"", "", "[]", "null", "{", b"\xff\xfe", "1" * 2_000_000, 42, None, ["x"]],
)
def test_garbage_receipts_fail_with_ledger_errors(ledger: Ledger, garbage: object) -> None:
    with pytest.raises(ProofError):
        verify_receipt(garbage, ledger.log_vkey())  # type: ignore[arg-type]


def test_receipt_needs_the_right_vkey(ledger: Ledger, tmp_path: Path) -> None:
    sign(ledger)
    receipt = ledger.receipt(seq_of_award(1))
    other = Signer.from_seed(bytes([9]) * 32)
    with build(tmp_path / "other.db", 1) as same_origin:
        assert same_origin.log_vkey() == ledger.log_vkey()
    wrong_key = NoteVerifier.from_public_key(ORIGIN, other.private_key.public_key()).to_vkey()
    for vkey in [wrong_key, "garbage", "", "a+b+c", 7]:
        with pytest.raises(NoteError):
            verify_receipt(receipt, vkey)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- witness


def witness_at(path: Path, vkey: str, clock_s: list[int] | None = None) -> Witness:
    seconds = clock_s if clock_s is not None else [1_800_000_000]

    def clock() -> dt.datetime:
        return dt.datetime.fromtimestamp(seconds[0], dt.UTC)

    return Witness(
        path, name="witness.example/w1", key=WITNESS_KEY, logs={ORIGIN: vkey}, clock=clock
    )


def test_a_witness_whose_clock_reads_before_1970_accepts_nothing(
    ledger: Ledger, tmp_path: Path
) -> None:
    seconds = [-3600]
    witness = witness_at(tmp_path / "witness.db", ledger.log_vkey(), seconds)
    first = sign(ledger)
    with pytest.raises(LedgerError, match="3600 seconds before 1970") as caught:
        witness.cosign(first.note, [])
    assert caught.value.hint == "Set the computer's clock right, then try again."
    # The refusal leaves no accepted checkpoint behind (none stamped before 1970 either).
    assert witness.latest(ORIGIN) is None
    with sqlite3.connect(tmp_path / "witness.db") as conn:
        assert conn.execute("SELECT count(*) FROM witnessed").fetchone() == (0,)
    seconds[0] = 1_800_000_000
    assert witness.cosign(first.note, []).startswith("— witness.example/w1 ")
    assert witness.latest(ORIGIN) == first.note
    witness.close()


def test_witness_cosigns_growth(ledger: Ledger, tmp_path: Path) -> None:
    witness = witness_at(tmp_path / "witness.db", ledger.log_vkey())
    first = sign(ledger)
    line = witness.cosign(first.note, [])
    cosigned = open_note(
        first.note + line,
        [NoteVerifier.from_vkey(witness.vkey()), NoteVerifier.from_vkey(ledger.log_vkey())],
    )
    assert len(cosigned.signatures) == 2
    assert cosigned.signatures[1].timestamp == 1_800_000_000

    for i in range(20, 27):
        ledger.append(award(i), AWARD_SIGNERS)
    second = sign(ledger)
    witness.cosign(second.note, ledger.prove_consistency(first.size, second.size))
    assert witness.latest(ORIGIN) == second.note
    # The same checkpoint again is fine; an older one is a rollback.
    witness.cosign(second.note, [])
    with pytest.raises(RollbackError) as caught:
        witness.cosign(first.note, [])
    assert caught.value.details == {"accepted": second.note, "offered": first.note}
    witness.close()

    # The state survives reopening; another key cannot take over the file.
    reopened = witness_at(tmp_path / "witness.db", ledger.log_vkey())
    assert reopened.latest(ORIGIN) == second.note
    reopened.close()
    with pytest.raises(LedgerError, match="another key"):
        Witness(
            tmp_path / "witness.db",
            name="witness.example/w1",
            key=ADMIN,
            logs={ORIGIN: ledger.log_vkey()},
        )


def test_witness_refuses_unknown_logs_and_bad_notes(ledger: Ledger, tmp_path: Path) -> None:
    other = Signer.from_seed(bytes([7]) * 32)
    vkey = NoteVerifier.from_public_key("other.example/x", other.private_key.public_key()).to_vkey()
    witness = Witness(tmp_path / "w.db", name="w", key=WITNESS_KEY, logs={"other.example/x": vkey})
    note = sign(ledger).note
    with pytest.raises(NoteError):
        witness.cosign(note, [])
    with pytest.raises(NoteError):
        witness.cosign("not a note", [])
    foreign = sign_note(
        f"{ORIGIN}\n1\n{base64.b64encode(bytes(32)).decode()}\n",
        "other.example/x",
        other.private_key,
    )
    with pytest.raises(NoteError, match="does not follow"):
        witness.cosign(foreign, [])
    with pytest.raises(LedgerError):
        witness.cosign(note, "proof")  # type: ignore[arg-type]
    witness.close()


def test_witness_rejects_a_rewritten_history_with_evidence(ledger: Ledger, tmp_path: Path) -> None:
    witness = witness_at(tmp_path / "witness.db", ledger.log_vkey())
    honest = sign(ledger)
    witness.cosign(honest.note, [])

    # The operator (who holds the log key) rebuilds the file with award 7 altered and
    # signs its checkpoints: same origin, same log key.
    with build(tmp_path / "forked.db", 20, altered=7) as forked:
        same_size = sign(forked)
        assert same_size.size == honest.size and same_size.root_hash != honest.root_hash
        with pytest.raises(EquivocationError) as equivocation:
            witness.cosign(same_size.note, [])
        assert equivocation.value.details == {"accepted": honest.note, "offered": same_size.note}

        for i in range(20, 25):
            forked.append(award(i), AWARD_SIGNERS)
        bigger = sign(forked)
        proof = forked.prove_consistency(honest.size, bigger.size)
        with pytest.raises(ProofError) as inconsistent:
            witness.cosign(bigger.note, proof)
        assert inconsistent.value.details == {"accepted": honest.note, "offered": bigger.note}
    assert witness.latest(ORIGIN) == honest.note
    witness.close()


def test_witness_without_a_proof_for_a_larger_checkpoint_asks_for_one(
    ledger: Ledger, tmp_path: Path
) -> None:
    witness = witness_at(tmp_path / "witness.db", ledger.log_vkey())
    first = sign(ledger)
    witness.cosign(first.note, [])
    ledger.append(award(20), AWARD_SIGNERS)
    second = sign(ledger)
    with pytest.raises(ProofError) as missing:
        witness.cosign(second.note, [])
    # A missing proof is a mistake of the caller, not evidence against the log.
    assert "no consistency proof was given" in missing.value.message
    assert f"size {second.size}" in missing.value.message
    assert f"size {first.size}" in missing.value.message
    assert f"consistency-proof {first.size} {second.size}" in missing.value.hint
    assert "rewritten" not in missing.value.hint
    assert witness.latest(ORIGIN) == first.note
    # A proof that was given but does not verify is still treated as evidence.
    with pytest.raises(ProofError) as bad:
        witness.cosign(second.note, [bytes(32)])
    assert "rewritten its history" in bad.value.hint
    assert bad.value.details == {"accepted": first.note, "offered": second.note}
    witness.cosign(second.note, ledger.prove_consistency(first.size, second.size))
    witness.close()


def test_witness_file_says_whether_the_name_or_the_key_differs(
    ledger: Ledger, tmp_path: Path
) -> None:
    path = tmp_path / "witness.db"
    witness_at(path, ledger.log_vkey()).close()
    logs = {ORIGIN: ledger.log_vkey()}
    with pytest.raises(StorageError) as renamed:
        Witness(path, name="witness.example/other", key=WITNESS_KEY, logs=logs)
    assert (
        f"{path} belongs to witness 'witness.example/w1'; you gave the name "
        "'witness.example/other'" == renamed.value.message
    )
    assert "key" not in renamed.value.message
    with pytest.raises(StorageError) as rekeyed:
        Witness(path, name="witness.example/w1", key=ADMIN, logs=logs)
    assert "another key" in rekeyed.value.message
    assert "name" not in rekeyed.value.message
    with pytest.raises(StorageError) as both:
        Witness(path, name="witness.example/other", key=ADMIN, logs=logs)
    assert "another key" in both.value.message and "'witness.example/other'" in both.value.message


# --------------------------------------------------------------------------- outside state


def test_verify_detects_truncation_against_a_trusted_checkpoint(tmp_path: Path) -> None:
    with build(tmp_path / "full.db", 40) as full:
        trusted = sign(full).note
        size = full.size()
        full.verify(trusted_checkpoint=trusted)
    with build(tmp_path / "short.db", 30) as short:  # the same ledger, last 10 entries cut
        assert short.size() == size - 10
        short.verify()  # consistent on its own
        with pytest.raises(IntegrityError) as caught:
            short.verify(trusted_checkpoint=trusted)
        # A note alone cannot tell which entries went: it names none.
        assert caught.value.seq is None
        assert "10 entries were removed" in caught.value.message
        assert caught.value.details == {"problem": "truncated"}
        report = short.audit(trusted_checkpoint=trusted)
        assert [p.code for p in report.problems] == ["truncated"]
        # The log key holder's record names the first missing entry.
        with pytest.raises(IntegrityError) as named:
            short.verify(record=tmp_path / "full.record")
        assert named.value.seq == size - 10
        assert named.value.details == {"problem": "truncated"}


def test_verify_detects_truncation_made_with_sqlite(tmp_path: Path) -> None:
    with build(tmp_path / "full.db", 40) as full:
        trusted = sign(full).note
        size = full.size()
    copy = tmp_path / "cut.db"
    shutil.copy(tmp_path / "full.db", copy)
    conn = sqlite3.connect(copy)
    for table in ("entries", "signatures", "postings", "merkle_nodes", "checkpoints"):
        conn.execute(f"DROP TRIGGER {table}_no_delete")
    cut = size - 10
    conn.execute("DELETE FROM signatures WHERE seq >= ?", (cut,))
    conn.execute("DELETE FROM postings WHERE seq >= ?", (cut,))
    conn.execute("DELETE FROM entries WHERE seq >= ?", (cut,))
    conn.execute("DELETE FROM checkpoints")
    conn.commit()
    conn.close()
    with Ledger.open(copy) as ledger:
        with pytest.raises(IntegrityError) as caught:
            ledger.verify(trusted_checkpoint=trusted)
        assert "10 entries were removed" in str(caught.value)
        with pytest.raises(IntegrityError) as named:
            ledger.verify(record=tmp_path / "full.record")
        assert named.value.seq == cut
        assert "were removed" in str(named.value)


def _splice(target: Path, source: Path) -> None:
    """Replace the log and state tables of ``target`` by those of ``source``."""
    conn = sqlite3.connect(target)
    conn.execute("ATTACH DATABASE ? AS src", (str(source),))
    tables = ("signatures", "postings", "merkle_nodes", "entries")
    for table in tables:
        conn.execute(f"DROP TRIGGER {table}_no_delete")
    for table in (*tables, "accounts", "keys", "balances", "state"):
        conn.execute(f"DELETE FROM main.{table}")
    for table in ("entries", *tables[:3], "accounts", "keys", "balances", "state"):
        conn.execute(f"INSERT INTO main.{table} SELECT * FROM src.{table}")
    conn.commit()
    conn.close()


def test_verify_names_the_first_rewritten_entry_from_stored_checkpoints(tmp_path: Path) -> None:
    # The honest ledger signs a checkpoint after every award.
    with build(tmp_path / "honest.db", 0) as honest:
        for i in range(20):
            honest.append(award(i), AWARD_SIGNERS)
            sign(honest)
        trusted = sign(honest).note
    with build(tmp_path / "forked.db", 20, altered=11):
        pass
    # Someone without the log key swaps the history under the signed checkpoints.
    _splice(tmp_path / "honest.db", tmp_path / "forked.db")
    with Ledger.open(tmp_path / "honest.db") as ledger:
        report = ledger.audit(trusted_checkpoint=trusted)
        first = report.problems[0]
        assert first.code == "rewritten"
        assert first.seq == seq_of_award(11)
        assert f"between {seq_of_award(11)} and {seq_of_award(11)}" in first.message
        assert "checkpoint_mismatch" in {p.code for p in report.problems}
        # The ledger refuses to sign a checkpoint that contradicts its own history.
        with pytest.raises(IntegrityError, match="refusing to sign"):
            sign(ledger)


def test_verify_reports_a_rewrite_without_stored_history(tmp_path: Path) -> None:
    with build(tmp_path / "honest.db", 20) as honest:
        trusted = sign(honest).note
    with build(tmp_path / "forked.db", 25, altered=3) as forked:
        forked.verify()
        with pytest.raises(IntegrityError, match="do not match the trusted checkpoint"):
            forked.verify(trusted_checkpoint=trusted)
        # The forked file signs its own checkpoint: equivocation evidence.
        forked_note = sign(forked).note
        codes = [p.code for p in forked.audit(trusted_checkpoint=trusted).problems]
        assert codes == ["rewritten"]
        assert forked_note != trusted


def test_verify_rejects_a_checkpoint_from_another_log(ledger: Ledger, tmp_path: Path) -> None:
    other_log = Signer.from_seed(bytes([8]) * 32)
    text = f"{ORIGIN}\n1\n{base64.b64encode(bytes(32)).decode()}\n"
    foreign = sign_note(text, ORIGIN, other_log.private_key)
    with pytest.raises(IntegrityError, match="does not verify with this file's log key"):
        ledger.verify(trusted_checkpoint=foreign)
    report = ledger.audit(trusted_checkpoint="garbage")
    assert [p.code for p in report.problems] == ["trusted_checkpoint_rejected"]


def test_audit_reports_equivocating_stored_checkpoint(tmp_path: Path) -> None:
    with build(tmp_path / "a.db", 5) as honest:
        trusted = sign(honest).note
    with build(tmp_path / "b.db", 5, altered=1) as forked:
        sign(forked)
        codes = {p.code for p in forked.audit(trusted_checkpoint=trusted).problems}
        assert codes == {"equivocation", "rewritten"}


# --------------------------------------------------------------------------- domain separation


def test_signatures_do_not_cross_between_events_checkpoints_and_cosignatures(
    ledger: Ledger, tmp_path: Path
) -> None:
    checkpoint = sign(ledger)
    note_sig = base64.b64decode(checkpoint.note.rsplit(" ", 1)[1])[4:]
    event = award(99)
    ledger_id = bytes.fromhex(ledger.ledger_id)
    prefix = b"points-ledger/v2/event\n" + ORIGIN.encode() + b"\n" + ledger_id.hex().encode()
    event_input = signing_input(ORIGIN, ledger_id, ledger.signing_input(event)[len(prefix) + 1 :])
    assert event_input == ledger.signing_input(event)

    # A checkpoint signature is not a signature over any event's signing input...
    assert verify_signature(LOG.public_key, checkpoint.text.encode(), note_sig)
    assert not verify_signature(LOG.public_key, event_input, note_sig)
    # ...and the ledger does not accept it (the log key cannot sign events at all).
    with pytest.raises(UnknownKeyError):
        ledger.append(event, [Signature(key_id=LOG.key_id, signature=note_sig)])

    # An event signature by the admin key, put on a note line, is refused.
    event_sig = ADMIN.sign(event_input)
    admin_as_log = NoteVerifier.from_public_key(ORIGIN, ADMIN.private_key.public_key())
    line = "\u2014 " + ORIGIN + " " + base64.b64encode(admin_as_log.key_id + event_sig).decode()
    with pytest.raises(NoteError):
        open_note(checkpoint.text + "\n" + line + "\n", [admin_as_log])

    # A witness cosignature does not pass as a plain (type 0x01) note signature.
    witness = witness_at(tmp_path / "w.db", ledger.log_vkey())
    cosig_line = witness.cosign(checkpoint.note, [])
    witness.close()
    cosig = base64.b64decode(cosig_line.rstrip("\n").rsplit(" ", 1)[1])[4 + 8 :]
    as_plain = NoteVerifier.from_public_key(
        "witness.example/w1", WITNESS_KEY.private_key.public_key()
    )
    forged = "\u2014 witness.example/w1 " + base64.b64encode(as_plain.key_id + cosig).decode()
    with pytest.raises(NoteError):
        open_note(checkpoint.text + "\n" + forged + "\n", [as_plain])
    # And a note carrying only a cosignature is not a log-signed checkpoint.
    with pytest.raises(NoteError):
        verify_receipt(
            ledger.receipt(1).model_copy(
                update={"checkpoint": checkpoint.text + "\n" + cosig_line}
            ),
            ledger.log_vkey(),
        )


def test_altered_receipt_with_recomputed_hash_fails_the_inclusion_proof(ledger: Ledger) -> None:
    from points_ledger.canonical import entry_hash

    sign(ledger)
    seq = seq_of_award(2)
    receipt = ledger.receipt(seq)
    entry = ledger.entry(seq)
    greedy = (
        Posting(account="issuer", asset=Asset.PTS, amount=-5000),
        Posting(account="vol:0001", asset=Asset.PTS, amount=5000),
    )
    forged_hash = entry_hash(
        seq=seq,
        recorded_at_us=receipt.recorded_at_us,
        prev_hash=entry.prev_hash,
        event_bytes=entry.event_bytes,
        signatures=entry.signatures,
        postings=greedy,
    )
    document = json.loads(receipt.to_json())
    document["postings"] = [p.model_dump(mode="json") for p in greedy]
    document["entry_hash"] = base64.b64encode(forged_hash).decode("ascii")
    with pytest.raises(ProofError, match="expected root"):
        verify_receipt(json.dumps(document), ledger.log_vkey())


def _as_v1(text: str) -> dict[str, object]:
    """A receipt document rewritten in format v1: the same receipt, hashes in hex."""
    document: dict[str, object] = json.loads(text)
    document["format"] = "points-ledger-receipt/v1"
    for name in ("prev_hash", "entry_hash"):
        document[name] = base64.b64decode(str(document[name])).hex()
    return document


def test_receipts_write_hashes_in_base64_and_still_read_v1_hex(ledger: Ledger) -> None:
    sign(ledger)
    receipt = ledger.receipt(4)
    document = json.loads(receipt.to_json())
    assert document["format"] == RECEIPT_FORMAT == "points-ledger-receipt/v2"
    assert base64.b64decode(document["entry_hash"]) == ledger.entry(4).hash
    assert base64.b64decode(document["prev_hash"]) == ledger.entry(3).hash
    vkey = ledger.log_vkey()
    old = _as_v1(receipt.to_json())
    verified = verify_receipt(json.dumps(old), vkey)
    assert verified == verify_receipt(receipt, vkey)
    # A v1 receipt altered in its hex hash is still caught.
    old["entry_hash"] = "0" * 64
    with pytest.raises(IntegrityError):
        verify_receipt(json.dumps(old), vkey)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.__setitem__("format", "points-ledger-receipt/v2"), "must be base64"),
        (lambda d: d.__setitem__("format", "points-ledger-receipt/v9"), "not one this version"),
    ],
    ids=["hex hashes labelled v2", "a newer format"],
)
def test_receipt_format_and_hash_encoding_must_agree(
    ledger: Ledger, change: Callable[[dict[str, object]], None], message: str
) -> None:
    sign(ledger)
    document = _as_v1(ledger.receipt(4).to_json())
    change(document)
    with pytest.raises(ProofError, match=message):
        Receipt.from_json(json.dumps(document))


def test_audit_checks_stored_checkpoints_without_outside_state(tmp_path: Path) -> None:
    with build(tmp_path / "full.db", 12) as full:
        sign(full)
        size = full.size()
    copy = tmp_path / "cut.db"
    shutil.copy(tmp_path / "full.db", copy)
    conn = sqlite3.connect(copy)
    for table in ("entries", "signatures", "postings", "merkle_nodes"):
        conn.execute(f"DROP TRIGGER {table}_no_delete")
    for table in ("signatures", "postings", "entries"):
        conn.execute(f"DELETE FROM {table} WHERE seq >= ?", (size - 3,))
    # A forged checkpoint row: triggers stop edits, not inserts; its signature fails.
    text = f"{ORIGIN}\n99\n{base64.b64encode(bytes(32)).decode()}\n"
    conn.execute(
        "INSERT INTO checkpoints (size, root, note, recorded_at_us) VALUES (99, ?, ?, 0)",
        (bytes(32), sign_note(text, ORIGIN, ADMIN.private_key)),
    )
    conn.commit()
    conn.close()
    with Ledger.open(copy) as ledger:
        problems = ledger.audit().problems
        truncated = [p for p in problems if p.code == "truncated"]
        assert [p.seq for p in truncated] == [size - 3]
        assert "checkpoint_invalid" in {p.code for p in problems}
        with pytest.raises(IntegrityError):
            ledger.checkpoints()
        with pytest.raises(IntegrityError):
            sign(ledger)
