"""Receipts and witnesses: a volunteer checks a receipt; a witness catches a rewrite.

Contents:
    1. The community office creates a ledger and records a volunteer's awards.
    2. The office signs a checkpoint with the log key, which checks every entry first and
       keeps its own record of what it signed outside the ledger file; the office
       publishes the log's verifier key.
    3. A witness (the street office) accepts the first checkpoint on trust.
    4. More entries; a new checkpoint, which the witness cosigns after checking the
       consistency proof.
    5. A volunteer checks a receipt for an early award offline, holding nothing but
       the receipt (JSON) and the verifier key; a doctored copy of it fails.
    6. Someone rebuilds the ledger file with one award changed. The log key's own record
       refuses to sign it; signed anyway with the same log key (by someone who kept no
       record), the witness refuses it and keeps both checkpoints as evidence.
    7. A copy of the file with its last entries cut off passes on its own; against the
       checkpoint the witness cosigned it is refused, and the log key's record names the
       first missing entry.

Run it with ``python examples/audit_and_receipts.py``; it works in a temporary folder.
"""

from __future__ import annotations

import datetime as dt
import json
import tempfile
from pathlib import Path

from points_ledger import (
    AccountKind,
    AwardPoints,
    DefineService,
    EquivocationError,
    KeySpec,
    Ledger,
    LedgerError,
    OpenAccount,
    ProofError,
    RegisterKey,
    Role,
    ServiceUnit,
    Signer,
    Witness,
    verify_receipt,
)

ORIGIN = "chengdu.example/chenghua/zhiqiang"
TODAY = dt.date(2026, 11, 25)
LOG_KEY = Signer.from_seed(b"example log key, never reuse it!")
ADMIN = Signer.from_seed(b"example admin key, never use it!")
NONCE = "e4a3" * 8
"""A fixed genesis nonce, so that every file built here is the same ledger (never do
this for a real ledger: a fresh random nonce gives each ledger an id of its own)."""
WITNESS_KEY = Signer.from_seed(b"example witness key, just a demo")
GRID_WORKER = Signer.from_seed(b"example grid worker key, a demo!")


def clock() -> dt.datetime:
    """A fixed ledger clock, so that rebuilt files agree entry for entry."""
    return dt.datetime(2026, 11, 25, 9, 0, tzinfo=dt.UTC)


def award(number: int, points: int) -> AwardPoints:
    """The grid worker's award of ``points`` (one per hour) to volunteer vol:0001."""
    return AwardPoints(
        id=f"award-{number}",
        effective_at=TODAY,
        volunteer="vol:0001",
        service="visit",
        task_ref=f"visit-{number}",
        quantity=points,
        grid_cell="微网格3",
    )


def build_ledger(path: Path, awards: list[int]) -> Ledger:
    """A ledger with a volunteer, a grid worker, a service and the given awards, in order."""
    ledger = Ledger.create(
        path,
        origin=ORIGIN,
        log_key=LOG_KEY,
        admins=[ADMIN],
        threshold=1,
        effective_at=TODAY,
        clock=clock,
        nonce=NONCE,
    )
    for account in ("vol:0001", "gw:1"):
        ledger.append(
            OpenAccount(
                id=f"open-{account}",
                effective_at=TODAY,
                account=account,
                account_kind=AccountKind.MEMBER,
            ),
            [ADMIN],
        )
    worker = KeySpec(public_key=GRID_WORKER.public_key_b64, roles=(Role.ISSUER,), owner="gw:1")
    ledger.append(RegisterKey(id="key-gw-1", effective_at=TODAY, key=worker), [ADMIN])
    visit = DefineService(
        id="service-visit",
        effective_at=TODAY,
        code="visit",
        name="elderly visit",
        points_per_unit=1,
        unit=ServiceUnit.HOUR,
        active_from=TODAY,
    )
    ledger.append(visit, [ADMIN])
    for number, points in enumerate(awards):
        ledger.append(award(number, points), [GRID_WORKER])
    return ledger


def main(folder: Path) -> None:
    """Play the steps listed in the module docstring inside ``folder``."""
    # 1. The ledger: genesis, accounts, the grid worker's key, a service, ten awards.
    ledger = build_ledger(folder / "community.db", [5] * 10)

    # 2. A checkpoint signed by the log key. The verifier key is public: print it on
    #    the notice board, the mini-program and every receipt.
    record = folder / "log.record"  # the log key holder's, outside the ledger file
    first = ledger.checkpoint(LOG_KEY, record)
    vkey = ledger.log_vkey()
    print(f"checkpoint of {first.size} entries; verifier key {vkey}")

    # 3. The witness follows this ledger and accepts its first checkpoint on trust.
    witness = Witness(
        folder / "witness.db",
        name="street-office.example/witness",
        key=WITNESS_KEY,
        logs={ORIGIN: vkey},
    )
    witness.cosign(first.note, [])

    # 4. Ten more awards, a new checkpoint, and a consistency proof for the witness.
    for number in range(10, 20):
        ledger.append(award(number, 5), [GRID_WORKER])
    second = ledger.checkpoint(LOG_KEY, record)
    proof = ledger.prove_consistency(first.size, second.size)
    cosigned = second.note + witness.cosign(second.note, proof)
    print(f"witness cosigned the checkpoint of {second.size} entries")

    # 5. A receipt for the first award, proven against the cosigned checkpoint.
    receipt_json = ledger.receipt(5, cosigned).to_json()
    checked = verify_receipt(receipt_json, vkey)  # offline: JSON + verifier key only
    points = next(p.amount for p in checked.postings if p.account == "vol:0001")
    print(f"receipt checks out: entry {checked.seq} ({checked.event.id}) gave {points} points")
    doctored = json.loads(receipt_json)
    doctored["postings"][1]["amount"] = 50
    doctored["postings"][0]["amount"] = -50
    try:
        verify_receipt(json.dumps(doctored), vkey)
    except LedgerError as error:
        print(f"doctored receipt refused: [{error.code}] {error}")

    # 6. A rebuilt history with award 3 changed to 500 points, signed with the log key.
    with build_ledger(folder / "rebuilt.db", [5, 5, 5, 500] + [5] * 16) as rebuilt:
        try:
            rebuilt.checkpoint(LOG_KEY, record)
        except LedgerError as error:
            print(f"log key record refused to sign: entry {error.seq} is not what it signed")
        no_record = folder / "careless.record"
        forged = rebuilt.checkpoint(LOG_KEY, no_record)
        try:
            witness.cosign(forged.note, [])
        except EquivocationError as error:
            print(f"witness refused: [{error.code}] {error}")
            print(f"  evidence kept: {sorted(error.details)}")
        rebuilt.append(award(20, 5), [GRID_WORKER])
        bigger = rebuilt.checkpoint(LOG_KEY, no_record)
        try:
            witness.cosign(bigger.note, rebuilt.prove_consistency(second.size, bigger.size))
        except ProofError as error:
            print(f"witness refused again: [{error.code}]")
    witness.close()

    # 7. A copy with the last five awards cut off passes on its own, but not against
    #    the checkpoint the witness cosigned.
    with build_ledger(folder / "cut.db", [5] * 15) as cut:
        cut.verify()
        try:
            cut.verify(trusted_checkpoint=cosigned)
        except LedgerError as error:
            print(f"truncation caught: {error.message}")
        try:
            cut.verify(record=record)
        except LedgerError as error:
            print(f"the log key's record names it: entry {error.seq} onwards is missing")
    ledger.close()


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        main(Path(tmp))
