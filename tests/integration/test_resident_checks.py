"""A resident checks receipts against witnesses and the checkpoint they trusted last.

Attacks tried: a made-up cosignature line; a checkpoint cosigned by fewer witnesses than
required; the log's own key or a plain note key passed off as a witness; two receipts from
two different trees of the same size (a split view); a larger tree that does not extend
the trusted one; an edited state file.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import COMMITTEE_PEOPLE, committee_signer, seat_committee
from points_ledger import (
    AccountKind,
    Asset,
    EquivocationError,
    Ledger,
    NoteError,
    OpenAccount,
    Posting,
    ProofError,
    SignedCheckpoint,
    Signer,
    Transfer,
    Witness,
    verify_receipt,
)
from points_ledger.cli import cli
from points_ledger.log_notes import log_verifier, verify_checkpoint_consistency
from points_ledger.notes import ALG_COSIGNATURE_V1, ALG_ED25519, key_id, vkey_for
from points_ledger.trusted import TrustedCheckpoints

ORIGIN = "chengdu.example/chenghua/zhiqiang"
DAY = dt.date(2026, 11, 25)
LOG = Signer.from_seed(bytes([1]) * 32)
ADMIN = Signer.from_seed(bytes([2]) * 32)
STREET = Signer.from_seed(bytes([3]) * 32)
LIBRARY = Signer.from_seed(bytes([4]) * 32)
MOMENT = dt.datetime(2026, 11, 25, 9, 30, tzinfo=dt.UTC)
COMMITTEE = [committee_signer(person) for person in COMMITTEE_PEOPLE]


def fixed_clock() -> dt.datetime:
    return MOMENT


def award(i: int, points: int) -> Transfer:
    return Transfer(
        id=f"award-{i}",
        effective_at=DAY,
        postings=(
            Posting(account="issuer", asset=Asset.PTS, amount=-points),
            Posting(account="vol:0001", asset=Asset.PTS, amount=points),
        ),
    )


def build(path: Path, awards: int, *, altered: int | None = None) -> Ledger:
    """Genesis, the committee, one account, ``awards`` awards; ``altered`` gives one 500."""
    ledger = Ledger.create(
        path,
        origin=ORIGIN,
        log_key=LOG,
        admins=[ADMIN],
        threshold=1,
        effective_at=DAY,
        clock=fixed_clock,
    )
    seat_committee(ledger, [ADMIN], effective_at=DAY)
    ledger.append(
        OpenAccount(
            id="open", effective_at=DAY, account="vol:0001", account_kind=AccountKind.MEMBER
        ),
        [ADMIN],
    )
    grow(ledger, 0, awards, altered=altered)
    return ledger


def grow(ledger: Ledger, start: int, stop: int, *, altered: int | None = None) -> None:
    for i in range(start, stop):
        ledger.append(award(i, 500 if i == altered else 5), [ADMIN, *COMMITTEE])


def award_seq(ledger: Ledger, i: int) -> int:
    """The seq of the entry recording award ``i``."""
    return next(e.seq for e in ledger.entries() if e.event_id == f"award-{i}")


def witness(path: Path, name: str, key: Signer) -> Witness:
    return Witness(
        path,
        name=name,
        key=key,
        logs={ORIGIN: vkey_for(ORIGIN, LOG.private_key.public_key())},
        clock=fixed_clock,
    )


@pytest.fixture
def honest(tmp_path: Path) -> Ledger:
    return build(tmp_path / "honest.db", 20)


@pytest.fixture
def forked(tmp_path: Path) -> Ledger:
    """The same log key and origin, another history: what a split view shows someone else."""
    return build(tmp_path / "forked.db", 20, altered=5)


@pytest.fixture
def street(tmp_path: Path) -> Witness:
    return witness(tmp_path / "street.db", "street.example/witness", STREET)


@pytest.fixture
def library(tmp_path: Path) -> Witness:
    return witness(tmp_path / "library.db", "library.example/witness", LIBRARY)


def sign(ledger: Ledger) -> SignedCheckpoint:
    """Checkpoint ``ledger``; each file's log key holder keeps its own record."""
    return ledger.checkpoint(LOG, ledger.path.with_suffix(".record"))


def cosigned(ledger: Ledger, *witnesses: Witness, proof: list[bytes] | None = None) -> str:
    note = sign(ledger).note
    return note + "".join(w.cosign(note, proof or []) for w in witnesses)


# --------------------------------------------------------------------------- witnesses


def test_a_made_up_cosignature_line_does_not_count(honest: Ledger, street: Witness) -> None:
    note = sign(honest).note
    name = street.name
    kid = key_id(name, ALG_COSIGNATURE_V1, STREET.public_key)
    fake = base64.b64encode(kid + (1_700_000_000).to_bytes(8, "big") + os.urandom(64)).decode()
    receipt = honest.receipt(award_seq(honest, 1), note + f"\u2014 {name} {fake}\n")
    # Without witnesses the line is just an unknown signature; with them it is refused.
    assert verify_receipt(receipt, honest.log_vkey()).witnessed_by == ()
    with pytest.raises(NoteError, match="invalid signature"):
        verify_receipt(receipt, honest.log_vkey(), witnesses=[street.vkey()], quorum=1)


def test_a_cosignature_by_a_key_nobody_trusts_does_not_count(
    honest: Ledger, street: Witness, tmp_path: Path
) -> None:
    impostor = witness(tmp_path / "impostor.db", street.name, Signer.generate())
    receipt = honest.receipt(award_seq(honest, 1), cosigned(honest, impostor))
    with pytest.raises(NoteError, match="cosigned by 0 of the witnesses given"):
        verify_receipt(receipt, honest.log_vkey(), witnesses=[street.vkey()])


def test_quorum_counts_witnesses_that_cosigned(
    honest: Ledger, street: Witness, library: Witness
) -> None:
    both = [street.vkey(), library.vkey()]
    one = honest.receipt(award_seq(honest, 1), cosigned(honest, street))
    checked = verify_receipt(one, honest.log_vkey(), witnesses=both, quorum=1)
    assert checked.witnessed_by == (street.name,) and checked.witness_quorum == 1
    with pytest.raises(NoteError, match="1 of the witnesses") as info:
        verify_receipt(one, honest.log_vkey(), witnesses=both)  # default: all
    assert info.value.details == {"witnessed_by": [street.name], "quorum": 2}
    two = honest.receipt(award_seq(honest, 1), cosigned(honest, street, library))
    checked = verify_receipt(two, honest.log_vkey(), witnesses=both, quorum=2)
    assert set(checked.witnessed_by) == {street.name, library.name}
    assert verify_receipt(two, honest.log_vkey()).witnessed_by == ()


def test_one_witness_under_two_names_counts_once(honest: Ledger, street: Witness) -> None:
    twin = vkey_for("twin.example/witness", STREET.private_key.public_key(), ALG_COSIGNATURE_V1)
    receipt = honest.receipt(award_seq(honest, 1), cosigned(honest, street))
    with pytest.raises(NoteError, match="quorum of 2 is impossible with 1 different"):
        verify_receipt(receipt, honest.log_vkey(), witnesses=[street.vkey(), twin], quorum=2)


def test_keys_that_cannot_be_witnesses_are_refused(honest: Ledger, street: Witness) -> None:
    receipt = honest.receipt(award_seq(honest, 1), cosigned(honest, street))
    plain = vkey_for(street.name, STREET.private_key.public_key(), ALG_ED25519)
    with pytest.raises(NoteError, match="not a cosignature key"):
        verify_receipt(receipt, honest.log_vkey(), witnesses=[plain])
    own = vkey_for("self.example/witness", LOG.private_key.public_key(), ALG_COSIGNATURE_V1)
    with pytest.raises(NoteError, match="cannot witness itself"):
        verify_receipt(receipt, honest.log_vkey(), witnesses=[own])
    for quorum in (-1, 2, True):
        with pytest.raises(NoteError, match="impossible"):
            verify_receipt(receipt, honest.log_vkey(), witnesses=[street.vkey()], quorum=quorum)


# --------------------------------------------------------------------------- split views


def test_two_trees_of_the_same_size_are_a_split_view(
    honest: Ledger, forked: Ledger, tmp_path: Path
) -> None:
    mine, theirs = (
        honest.receipt(award_seq(honest, 1), cosigned(honest)),
        forked.receipt(award_seq(forked, 1), cosigned(forked)),
    )
    # Each verifies on its own: that is the attack.
    size = honest.size()
    assert forked.size() == size
    assert verify_receipt(mine, honest.log_vkey()).checkpoint_body.size == size
    assert verify_receipt(theirs, forked.log_vkey()).checkpoint_body.size == size
    state = TrustedCheckpoints(tmp_path / "state")
    assert state.check_receipt(mine, honest.log_vkey()).trusted_size is None
    kept = state.latest(ORIGIN)
    with pytest.raises(EquivocationError, match="split view") as info:
        state.check_receipt(theirs, honest.log_vkey())
    assert info.value.details == {"first": kept, "second": theirs.checkpoint}
    assert state.latest(ORIGIN) == kept
    assert state.check_receipt(mine, honest.log_vkey()).trusted_size == size


def test_a_larger_tree_must_be_proven_to_extend_the_trusted_one(
    honest: Ledger, forked: Ledger, tmp_path: Path
) -> None:
    state = TrustedCheckpoints(tmp_path / "state")
    state.check_receipt(honest.receipt(award_seq(honest, 1), cosigned(honest)), honest.log_vkey())
    old = honest.size()
    grow(honest, 20, 23)
    grow(forked, 20, 23)
    new = honest.size()
    later = honest.receipt(award_seq(honest, 22), cosigned(honest))
    with pytest.raises(ProofError, match=f"consistency proof from {old} to {new}") as info:
        state.check_receipt(later, honest.log_vkey())
    assert f"consistency-proof {old} {new}" in info.value.hint
    # The forked log's own proof does not connect its tree to the one trusted.
    fork_receipt = forked.receipt(award_seq(forked, 22), cosigned(forked))
    with pytest.raises(ProofError, match="not proven") as info:
        state.check_receipt(
            fork_receipt, honest.log_vkey(), consistency_proof=forked.prove_consistency(old, new)
        )
    assert set(info.value.details) == {"first", "second"}
    assert state.latest(ORIGIN) is not None and f"\n{old}\n" in str(state.latest(ORIGIN))
    checked = state.check_receipt(
        later, honest.log_vkey(), consistency_proof=honest.prove_consistency(old, new)
    )
    assert checked.trusted_size == old and f"\n{new}\n" in str(state.latest(ORIGIN))
    # An older receipt stays checkable with a proof, and does not move the state back.
    older = honest.receipt(award_seq(honest, 1), honest.checkpoints()[0].note)
    with pytest.raises(ProofError, match=f"from {old} to {new}"):
        state.check_receipt(older, honest.log_vkey())
    state.check_receipt(
        older, honest.log_vkey(), consistency_proof=honest.prove_consistency(old, new)
    )
    assert f"\n{new}\n" in str(state.latest(ORIGIN))


def test_an_edited_state_file_is_not_trusted(honest: Ledger, tmp_path: Path) -> None:
    state = TrustedCheckpoints(tmp_path / "state")
    receipt = honest.receipt(award_seq(honest, 1), cosigned(honest))
    state.check_receipt(receipt, honest.log_vkey())
    (kept,) = (tmp_path / "state").iterdir()
    kept.write_text(
        str(state.latest(ORIGIN)).replace(f"\n{honest.size()}\n", f"\n{honest.size() + 1}\n"),
        encoding="utf-8",
    )
    with pytest.raises(NoteError):
        state.check_receipt(receipt, honest.log_vkey())


def test_checkpoint_consistency_in_python(honest: Ledger, forked: Ledger) -> None:
    old, old_size = sign(honest).note, honest.size()
    grow(honest, 20, 24)
    new, new_size = sign(honest).note, honest.size()
    verifier = log_verifier(ORIGIN, LOG.public_key)
    proof = honest.prove_consistency(old_size, new_size)
    small, large = verify_checkpoint_consistency(old, new, verifier, proof)
    assert (small.size, large.size) == (old_size, new_size)
    assert verify_checkpoint_consistency(new, old, verifier, proof)[0].size == new_size
    with pytest.raises(EquivocationError):
        verify_checkpoint_consistency(old, sign(forked).note, verifier, [])


# --------------------------------------------------------------------------- command line


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    assert "Traceback" not in result.output
    return result.exit_code, result.stdout, result.stderr


def test_cli_names_the_witnesses_and_keeps_state(
    honest: Ledger, forked: Ledger, street: Witness, library: Witness, tmp_path: Path
) -> None:
    vkey = honest.log_vkey()
    (tmp_path / "street.vkey").write_text(street.vkey() + "\n", encoding="utf-8")
    mine = tmp_path / "mine.json"
    mine.write_text(
        honest.receipt(award_seq(honest, 1), cosigned(honest, street)).to_json(), encoding="utf-8"
    )
    code, out, _ = run("verify-receipt", str(mine), "--vkey", vkey)
    assert code == 0 and "witnessed by: not checked (give the witnesses' keys" in out
    code, out, _ = run(
        "verify-receipt", str(mine), "--vkey", vkey,
        "--witness-vkey", str(tmp_path / "street.vkey"), "--witness-vkey", library.vkey(),
        "--witness-quorum", "1", "--state", str(tmp_path / "state"),
    )  # fmt: skip
    assert code == 0, out
    assert f"witnessed by: {street.name} (1 required)\n" in out
    assert "first checkpoint of this ledger: kept in" in out
    code, _, err = run(
        "verify-receipt", str(mine), "--vkey", vkey, "--witness-vkey", library.vkey()
    )
    assert code == 1 and "error [note_invalid]: the checkpoint is cosigned by 0" in err

    theirs = tmp_path / "theirs.json"
    theirs.write_text(
        forked.receipt(award_seq(forked, 1), cosigned(forked)).to_json(), encoding="utf-8"
    )
    code, out, err = run(
        "verify-receipt", str(theirs), "--vkey", vkey, "--state", str(tmp_path / "state"), "--json"
    )
    assert code == 1 and json.loads(out)["code"] == "equivocation"
    assert "split view" in err


def test_cli_verify_consistency(honest: Ledger, forked: Ledger, tmp_path: Path) -> None:
    old, other = tmp_path / "old.note", tmp_path / "other.note"
    old.write_text(sign(honest).note, encoding="utf-8")
    other.write_text(sign(forked).note, encoding="utf-8")
    small = honest.size()
    grow(honest, 20, 23)
    large = honest.size()
    new, proof = tmp_path / "new.note", tmp_path / "proof.txt"
    new.write_text(sign(honest).note, encoding="utf-8")
    proof.write_text(
        "".join(
            base64.b64encode(h).decode() + "\n" for h in honest.prove_consistency(small, large)
        ),
        encoding="utf-8",
    )
    vkey = honest.log_vkey()
    code, out, _ = run(
        "verify-consistency", str(old), str(new), "--vkey", vkey, "--proof", str(proof)
    )
    assert code == 0 and f"{small} entries is a prefix of the one of {large}" in out
    code, _, err = run("verify-consistency", str(old), str(new), "--vkey", vkey)
    assert code == 1 and f"consistency proof from {small} to {large}" in err
    code, _, err = run("verify-consistency", str(old), str(other), "--vkey", vkey)
    assert code == 1 and "error [equivocation]" in err
